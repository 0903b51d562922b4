"""c360 generate: deterministic, well-formed, consistent synthetic bank drops (tiny scale)."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest

from c360.generate import calibration as cal
from c360.generate import generate_dataset
from c360.generate.calibrate import _key_paths

SCALE = 0.01
BERKA_HEADERS = {
    "client": ["client_id", "birth_number", "district_id"],
    "account": ["account_id", "district_id", "frequency", "date"],
    "disp": ["disp_id", "client_id", "account_id", "type"],
    "card": ["card_id", "disp_id", "type", "issued"],
    "loan": ["loan_id", "account_id", "date", "amount", "duration", "payments", "status"],
    "order": ["order_id", "account_id", "bank_to", "account_to", "amount", "k_symbol"],
    "trans": ["trans_id", "account_id", "date", "type", "operation", "amount", "balance", "k_symbol", "bank", "account"],
}
# One line of each table as the real files write it.
BERKA_LINES = {
    "client": r'\d+;"\d{6}";\d+',
    "account": r'\d+;\d+;"POPLATEK (MESICNE|TYDNE|PO OBRATU)";\d{6}',
    "disp": r'\d+;\d+;\d+;"(OWNER|DISPONENT)"',
    "card": r'\d+;\d+;"(classic|junior|gold)";\d{6} 00:00:00',
    "loan": r'\d+;\d+;\d{6};\d+;\d+;\d+\.\d{2};"[ABCD]"',
    "order": r'\d+;\d+;"[A-Z]{2}";"\d+";\d+\.\d{2};"[A-Z .]*"',
    "trans": r'\d+;\d+;\d{6};"[A-Z]+";"[A-Z ]*";\d+\.\d{2};-?\d+\.\d{2};"[A-Z .]*";("[A-Z]*")?;("\d+")?',
}
# GA keys the staging layer flattens (visitor -> session -> hit -> product).
STAGING_KEYS = {
    "fullVisitorId", "visitId", "visitNumber", "visitStartTime", "date", "channelGrouping", "userId", "clientId",
    "totals.visits", "totals.hits", "totals.pageviews", "totals.timeOnSite", "totals.bounces",
    "totals.transactions", "totals.transactionRevenue", "totals.totalTransactionRevenue", "totals.newVisits",
    "trafficSource.source", "trafficSource.medium", "trafficSource.campaign", "trafficSource.keyword",
    "trafficSource.referralPath", "trafficSource.adwordsClickInfo.gclId", "trafficSource.isTrueDirect",
    "device.browser", "device.operatingSystem", "device.isMobile", "device.deviceCategory",
    "geoNetwork.continent", "geoNetwork.subContinent", "geoNetwork.country", "geoNetwork.region", "geoNetwork.city",
    "customDimensions[].index", "customDimensions[].value",
    "hits[].hitNumber", "hits[].time", "hits[].hour", "hits[].minute", "hits[].type", "hits[].isEntrance",
    "hits[].isExit", "hits[].isInteraction", "hits[].referer", "hits[].dataSource",
    "hits[].page.pagePath", "hits[].page.hostname", "hits[].page.pageTitle", "hits[].page.pagePathLevel1",
    "hits[].page.pagePathLevel2", "hits[].page.pagePathLevel3", "hits[].page.pagePathLevel4",
    "hits[].transaction.transactionId", "hits[].transaction.transactionRevenue", "hits[].transaction.currencyCode",
    "hits[].eCommerceAction.action_type", "hits[].eCommerceAction.step", "hits[].eCommerceAction.option",
    "hits[].eventInfo.eventCategory", "hits[].eventInfo.eventAction", "hits[].eventInfo.eventLabel",
    "hits[].product[].productSKU", "hits[].product[].v2ProductName", "hits[].product[].v2ProductCategory",
    "hits[].product[].productVariant", "hits[].product[].productBrand", "hits[].product[].productRevenue",
    "hits[].product[].productPrice", "hits[].product[].productQuantity", "hits[].product[].isImpression",
    "hits[].product[].isClick", "hits[].product[].productListName", "hits[].product[].productListPosition",
}


@pytest.fixture(scope="module")
def drop(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("drop")
    return out, generate_dataset(out, SCALE, seed=7)


@pytest.fixture(scope="module")
def con(drop) -> duckdb.DuckDBPyConnection:
    """The generated Berka tables as DuckDB views (text as delivered, like the raw zone)."""
    out, _ = drop
    con = duckdb.connect()
    for table in BERKA_HEADERS:
        pattern = out / "mainframe" / ("trans_*.asc" if table == "trans" else f"{table}.asc")
        con.execute(f"""create view "{table}" as select * from read_csv('{pattern}', sep=';', header=true,
                        all_varchar=true, allow_quoted_nulls=false)""")
    return con


@pytest.fixture(scope="module")
def sessions(drop) -> list[tuple[str, dict]]:
    out, _ = drop
    return [(path.name, json.loads(line)) for path in sorted((out / "ga").glob("ga_sessions_*.json"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


# --- determinism -------------------------------------------------------------------------

def test_same_seed_and_scale_give_byte_identical_files(drop, tmp_path):
    out, _ = drop
    generate_dataset(tmp_path, SCALE, seed=7)
    assert _digests(tmp_path) == _digests(out)


def test_another_seed_gives_other_files(drop, tmp_path):
    out, _ = drop
    generate_dataset(tmp_path, SCALE, seed=8)
    first, second = _digests(out), _digests(tmp_path)
    for name in ("mainframe/client.asc", "mainframe/trans_199712.asc", "crm/crm_19980630.json", "web/visitor_map.csv"):
        assert first[name] != second[name], name
    assert first["reference/district.asc"] == second["reference/district.asc"]  # reference data


def test_rerun_replaces_the_previous_output(tmp_path):
    stale = tmp_path / "ga" / "ga_sessions_19930101.json"
    foreign = tmp_path / "mainframe" / "client_extra.asc"
    for path in (stale, foreign):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("old\n")
    summary = generate_dataset(tmp_path, 0.002, seed=1)
    assert stale.exists() == ("ga/ga_sessions_19930101.json" in summary.files)
    assert foreign.read_text() == "old\n"  # not the generator's file: left alone


# --- Berka formats -----------------------------------------------------------------------

def test_summary_counts_match_the_files(drop):
    out, summary = drop
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == set(summary.files)
    for name, rows in summary.files.items():
        lines = (out / name).read_bytes().count(b"\n")
        has_header = name.endswith(".asc")
        assert lines - has_header == rows, name
    text = summary.describe()
    assert "mainframe/trans_*.asc" in text and f"{summary.files['mainframe/client.asc']:,} rows" in text


def test_berka_files_are_ascii_crlf_with_quoted_headers(drop):
    out, _ = drop
    for path in sorted((out / "mainframe").glob("*.asc")):
        raw = path.read_bytes()
        raw.decode("ascii")
        assert raw.endswith(b"\r\n"), path.name
        assert raw.count(b"\n") == raw.count(b"\r\n"), f"{path.name}: a line ends without CR"
        table = "trans" if path.name.startswith("trans_") else path.stem
        assert raw.split(b"\r\n")[0].decode() == ";".join(f'"{c}"' for c in BERKA_HEADERS[table])


def test_berka_lines_are_written_like_the_real_files(drop):
    out, _ = drop
    for path in sorted((out / "mainframe").glob("*.asc")):
        table = "trans" if path.name.startswith("trans_") else path.stem
        pattern = re.compile(BERKA_LINES[table])
        for line in path.read_bytes().decode("ascii").split("\r\n")[1:-1]:
            assert pattern.fullmatch(line), f"{path.name}: {line!r}"


def test_district_keeps_unquoted_headers_and_question_marks(drop):
    out, _ = drop
    lines = (out / "reference" / "district.asc").read_bytes().decode("ascii").split("\r\n")
    assert lines[0] == ";".join(f"A{i}" for i in range(1, 17))
    assert len(lines) == 77 + 2  # header, 77 districts, empty remainder after the last CRLF
    assert lines[69].startswith('69;"Jesenik";') and ";?;" in lines[69]


def test_berka_files_parse_with_duckdb(con, drop):
    _, summary = drop
    for table, header in BERKA_HEADERS.items():
        assert [c[0] for c in con.execute(f'select * from "{table}" limit 0').description] == header
    assert _one(con, 'select count(*) from "client"') == summary.files["mainframe/client.asc"]
    assert _one(con, 'select count(*) from "trans"') == sum(
        rows for name, rows in summary.files.items() if name.startswith("mainframe/trans_"))


def test_tiny_scale_still_holds_some_of_everything(drop):
    _, summary = drop
    for name in ("client.asc", "account.asc", "disp.asc", "card.asc", "loan.asc", "order.asc"):
        assert summary.files[f"mainframe/{name}"] >= 5, name
    assert sum(r for n, r in summary.files.items() if n.startswith("ga/")) >= 50
    assert summary.files["web/visitor_map.csv"] >= 1


# --- relationships, keys and code values -------------------------------------------------

@pytest.mark.parametrize("table, key", [("client", "client_id"), ("account", "account_id"), ("disp", "disp_id"),
                                        ("card", "card_id"), ("loan", "loan_id"), ("order", "order_id"),
                                        ("trans", "trans_id")])
def test_keys_are_unique(con, table, key):
    assert _one(con, f'select count(*) - count(distinct {key}) from "{table}"') == 0


@pytest.mark.parametrize("child, column, parent, key", [
    ("disp", "client_id", "client", "client_id"), ("disp", "account_id", "account", "account_id"),
    ("card", "disp_id", "disp", "disp_id"), ("loan", "account_id", "account", "account_id"),
    ("order", "account_id", "account", "account_id"), ("trans", "account_id", "account", "account_id"),
])
def test_references_exist(con, child, column, parent, key):
    assert _one(con, f'select count(*) from "{child}" where {column} not in (select {key} from "{parent}")') == 0


def test_every_account_has_one_owner_and_every_client_one_disposition(con):
    assert _one(con, """select count(*) from "account" a where (select count(*) from "disp" d
                        where d.account_id = a.account_id and d.type = 'OWNER') != 1""") == 0
    assert _one(con, 'select count(*) - count(distinct client_id) from "disp"') == 0
    assert _one(con, """select count(*) from "card" c join "disp" d using (disp_id) where d.type != 'OWNER'""") == 0
    assert _one(con, 'select count(*) - count(distinct account_id) from "loan"') == 0


def test_codes_come_from_the_real_code_sets(con):
    kinds = cal.TRANS_KINDS.values()
    codes = {
        ('"trans"', "type"): {k["type"] for k in kinds},
        ('"trans"', "operation"): {k["operation"] for k in kinds},
        ('"trans"', "k_symbol"): {k["k_symbol"] for k in kinds} | set(cal.ORDER_PAYMENT_SYMBOLS),
        ('"trans"', "bank"): set(cal.BANK_CODES) | {"", None},
        ('"account"', "frequency"): set(cal.ACCOUNT_FREQUENCIES),
        ('"card"', "type"): set(cal.CARD_TYPES),
        ('"loan"', "status"): set(cal.LOAN_FINISHED_STATUSES) | set(cal.LOAN_RUNNING_STATUSES),
        ('"order"', "k_symbol"): set(cal.ORDER_SYMBOLS) | {"UVER"},
        ('"order"', "bank_to"): set(cal.BANK_CODES),
        ('"disp"', "type"): {"OWNER", "DISPONENT"},
    }
    for (table, column), allowed in codes.items():
        found = {row[0] for row in con.execute(f"select distinct {column} from {table}").fetchall()}
        assert found <= allowed, f"{table}.{column}: {found - allowed}"
    assert _one(con, 'select count(distinct type) from "trans"') >= 2


def test_dates_follow_the_accounts(con):
    yymmdd = "strptime({}, '%y%m%d')"
    opened = yymmdd.format("a.date")
    assert _one(con, f'select count(*) from "trans" t join "account" a using (account_id) '
                     f'where {yymmdd.format("t.date")} < {opened}') == 0
    assert _one(con, f"""select count(*) from "card" c join "disp" using (disp_id) join "account" a using (account_id)
                         where strptime(c.issued, '%y%m%d %H:%M:%S') <= {opened}""") == 0
    assert _one(con, f'select count(*) from "loan" l join "account" a using (account_id) '
                     f'where {yymmdd.format("l.date")} <= {opened}') == 0
    first, last = cal.HORIZON
    assert con.execute(f'select min({yymmdd.format("date")})::date::varchar, max({yymmdd.format("date")})::date::varchar '
                       'from "trans"').fetchone() >= (first, "1998-12-01")
    assert _one(con, f"select max({yymmdd.format('date')})::date::varchar from \"trans\"") <= last


def test_each_account_starts_with_a_deposit_on_its_opening_day(con):
    wrong = _one(con, """select count(*) from (
        select account_id, arg_min(operation, (date, trans_id::bigint)) op, min(date) first_day
        from "trans" group by 1) t join "account" a using (account_id)
        where op != 'VKLAD' or first_day != a.date""")
    assert wrong == 0


def test_balances_follow_the_amounts(con):
    """Per account in (date, trans_id) order: balance = previous balance + credit - debit."""
    mismatches = _one(con, """
        select count(*) from (
            select balance::decimal(18, 2) balance,
                   sum(if(type = 'PRIJEM', amount::decimal(18, 2), -amount::decimal(18, 2)))
                       over (partition by account_id order by date, trans_id::bigint) running
            from "trans") where balance != running""")
    assert mismatches == 0
    assert _one(con, """select avg((balance::double < 0)::int) from "trans" """) < 0.05


def test_loans_are_paid_off_or_running_by_their_dates(con):
    assert _one(con, 'select count(*) from "loan" where amount::bigint != duration::bigint * payments::double') == 0
    finished = "strptime(date, '%y%m%d') + to_months(duration::int) <= date '1998-12-31'"
    assert _one(con, f"""select count(*) from "loan" where ({finished}) != (status in ('A', 'B'))""") == 0


def test_women_have_month_plus_50_birth_numbers(con):
    share = _one(con, """select avg((substr(birth_number, 3, 2)::int > 50)::int) from "client" """)
    assert 0.3 < share < 0.7
    days = con.execute("""select substr(birth_number, 1, 2), substr(birth_number, 3, 2)::int % 50,
                          substr(birth_number, 5, 2) from "client" """).fetchall()
    for year, month, day in days:
        date(1900 + int(year), month, int(day))  # a real calendar date
    same_sex_spouses = _one(con, """
        select count(*) from "disp" o join "disp" s on o.account_id = s.account_id and o.type = 'OWNER'
            and s.type = 'DISPONENT' join "client" oc on oc.client_id = o.client_id
            join "client" sc on sc.client_id = s.client_id
        where (substr(oc.birth_number, 3, 2)::int > 50) = (substr(sc.birth_number, 3, 2)::int > 50)""")
    assert same_sex_spouses == 0


def test_junior_cards_go_to_young_holders(con):
    ages = con.execute("""select c.type, date_sub('year', make_date(1900 + substr(birth_number, 1, 2)::int,
            substr(birth_number, 3, 2)::int % 50, substr(birth_number, 5, 2)::int), strptime(issued, '%y%m%d %H:%M:%S'))
        from "card" c join "disp" using (disp_id) join "client" using (client_id)""").fetchall()
    low, high = cal.JUNIOR_CARD_AGE
    assert all((low <= age <= high) == (kind == "junior") for kind, age in ages)


# --- CRM ---------------------------------------------------------------------------------

def test_crm_exports_are_valid_json_consistent_with_the_clients(drop, con):
    out, _ = drop
    births = {cid: bn for cid, bn in con.execute('select client_id::int, birth_number from "client"').fetchall()}
    exports = sorted((out / "crm").glob("crm_*.json"))
    assert len(exports) >= 2
    records = {}
    for path in exports:
        exported = datetime.strptime(path.stem[4:], "%Y%m%d").date()
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for row in rows:
            assert list(row) == [*cal.CRM_FIELDS, "updated_at"]
            born = date.fromisoformat(row["birth_date"])
            number = births[row["client_id"]]
            assert (born.year % 100, born.month, born.day) == (int(number[:2]), int(number[2:4]) % 50, int(number[4:]))
            assert row["age"] == int((exported - born).days / 365.25)
            assert datetime.fromisoformat(row["client_created_date"]) <= datetime.fromisoformat(row["updated_at"])
            assert datetime.fromisoformat(row["updated_at"]).date() <= exported
            assert row["occupation"] in cal.CRM_OCCUPATIONS and row["marital_status"] in cal.CRM_MARITAL_STATUS
        records[path.name] = {row["client_id"]: row for row in rows}
    full, later = records[exports[0].name], records[exports[1].name]
    assert 0.8 < len(full) / len(births) < 0.97
    assert set(later) <= set(full) and 0 < len(later) < len(full)
    attributes = ("home_ownership", "occupation", "marital_status")
    for cid, row in later.items():
        assert row["updated_at"] > full[cid]["updated_at"]
        assert any(row[a] != full[cid][a] for a in attributes)


# --- GA ----------------------------------------------------------------------------------

def test_ga_sessions_have_the_real_export_structure(sessions):
    assert all(list(s) == list(cal.GA_SESSION_KEYS) for _, s in sessions)
    paths = set().union(*(_key_paths(s) for _, s in sessions))
    assert STAGING_KEYS <= paths, STAGING_KEYS - paths
    assert paths == set(cal.GA_KEY_PATHS)


def test_ga_totals_agree_with_the_hits(sessions):
    for name, s in sessions:
        hits, totals = s["hits"], s["totals"]
        assert totals["hits"] == len(hits) and totals["visits"] == 1
        assert totals["pageviews"] == sum(h["type"] == "PAGE" for h in hits)
        assert totals["bounces"] == (1 if len(hits) == 1 else None)
        assert [h["hitNumber"] for h in hits] == list(range(1, len(hits) + 1))
        assert all(a["time"] <= b["time"] for a, b in zip(hits, hits[1:]))
        revenue = sum(h["transaction"]["transactionRevenue"] or 0 for h in hits if h["transaction"])
        assert totals["transactionRevenue"] == (revenue or None)
        assert totals["transactions"] == (1 if revenue else None)
        assert totals["newVisits"] == (1 if s["visitNumber"] == 1 else None)
        started = datetime.fromtimestamp(s["visitStartTime"], timezone.utc)
        assert s["visitId"] == s["visitStartTime"]
        assert s["date"] == started.strftime("%Y%m%d") == name[len("ga_sessions_"):-len(".json")]
        assert (hits[0]["hour"], hits[0]["minute"]) == (started.hour, started.minute)
        assert re.fullmatch(r"\d{19}", s["fullVisitorId"]) and s["userId"] is None and s["clientId"] is None


def test_ga_dates_are_the_bank_years_and_visitors_return(sessions):
    years = {s["date"][:4] for _, s in sessions}
    assert years <= {str(y) for y in range(1993, 1999)} and len(years) >= 4
    visits: dict[str, list[int]] = {}
    for _, s in sorted(sessions, key=lambda item: item[1]["visitStartTime"]):
        visits.setdefault(s["fullVisitorId"], []).append(s["visitNumber"])
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in visits.values())
    assert any(len(numbers) > 1 for numbers in visits.values())


def test_visitor_map_links_ga_visitors_to_clients(drop, con, sessions):
    out, _ = drop
    raw = (out / "web" / "visitor_map.csv").read_bytes().decode("ascii")
    links = [line.split(",") for line in raw.splitlines()]
    assert raw.endswith("\n") and "\r" not in raw and links[0][0].isdigit()  # no header
    ga_visitors = {s["fullVisitorId"] for _, s in sessions}
    clients = {str(c) for (c,) in con.execute('select client_id from "client"').fetchall()}
    assert len(set(map(tuple, links))) == len(links)
    assert {v for v, _ in links} < ga_visitors  # mapped visitors appear in GA; not all are mapped
    assert {c for _, c in links} <= clients
