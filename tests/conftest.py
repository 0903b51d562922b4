"""Shared pytest fixtures. The real public data lives in ../shared/data beside the project;
tests that need it skip with a reason where it is absent (CI has it)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "berka" / "client.asc").is_file():
        pytest.skip(f"real public data not found at {SHARED_DATA} (CI has it beside the repo)")
    return SHARED_DATA


def link_real_landing(shared: Path, landing: Path, *, with_crm: bool = True) -> Path:
    """Place the real files in the landing layout (copies, ~5 MB: landing refuses symlinks)."""
    berka = shared / "berka"
    workshop = shared / "c360-workshop"
    links = {f"mainframe/{t}.asc": berka / f"{t}.asc"
             for t in ("client", "account", "disp", "card", "trans", "loan", "order")}
    links["reference/district.asc"] = berka / "district.asc"
    links["web/visitor_map.csv"] = workshop / "visitors" / "ga_visitors.csv"
    links |= {f"ga/{p.name}": p for p in (workshop / "ga").glob("ga_sessions_*.json")}
    if with_crm:
        links |= {f"crm/{p.name}": p for p in (workshop / "crm").glob("*.json")}
    for relative, target in links.items():
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, landing / relative)
    return landing


@pytest.fixture
def real_landing(shared_data: Path, tmp_path: Path) -> Path:
    """The real shared data in the landing layout, CRM sample included."""
    return link_real_landing(shared_data, tmp_path / "landing")


# --- dbt build fixtures (python/c360/build) -------------------------------------------------

@pytest.fixture(scope="session")
def real_landed_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real shared data landed once per test session with `c360 land` (the CRM sample is
    quarantined, the cut-off trans line kept aside). Returns the home folder: its raw zone is
    `<home>/raw`. Read-only for tests: build into your own DuckDB file."""
    from c360.land import land_directory

    root = tmp_path_factory.mktemp("real_landed")
    landing = link_real_landing(shared_data, root / "landing")
    land_directory(landing=landing, home=root / "home")
    return root / "home"


REAL_BANK_AS_OF = "1994-03-31"   # the cut-off trans.asc ends here: the bank windows are full


@pytest.fixture(scope="session")
def real_warehouse(real_landed_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real data built the way the pipeline builds (everything before the marts, then the
    marts) at REAL_BANK_AS_OF, once per test session. Read-only for tests."""
    from c360.build import SELECT_BEFORE_MARTS, SELECT_MARTS, build_models

    duckdb_path = tmp_path_factory.mktemp("real_warehouse") / "c360.duckdb"
    for select in (SELECT_BEFORE_MARTS, SELECT_MARTS):
        build_models(duckdb_path=duckdb_path, raw_root=real_landed_home / "raw",
                     as_of=REAL_BANK_AS_OF, select=select)
    return duckdb_path


@pytest.fixture(scope="session")
def real_warehouse_latest(real_warehouse: Path, real_landed_home: Path,
                          tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same build at the default as_of_date (the latest event: the GA sessions of 2017), in a
    copy: what depends on the point in time is rebuilt there, `real_warehouse` stays as it is."""
    import shutil

    from c360.build import build_models

    duckdb_path = tmp_path_factory.mktemp("real_warehouse_latest") / "c360.duckdb"
    shutil.copyfile(real_warehouse, duckdb_path)
    build_models(duckdb_path=duckdb_path, raw_root=real_landed_home / "raw",
                 select="int_as_of_date+", exclude="test_type:unit")
    return duckdb_path


# --- a tiny, consistent bank for end-to-end runs (gates, publish) ----------------------------

def write_tiny_bank(landing: Path) -> Path:
    """A complete drop small enough for a fast `c360 run`: 12 clients, 10 accounts, 360
    transactions whose balances reconcile, 2 loans, 3 standing orders, 2 cards, 3 districts,
    3 GA sessions, a visitor map (one visitor is ambiguous) and a valid CRM file."""
    import json

    def write(relative: str, text: str) -> None:
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        (landing / relative).write_bytes(text.encode())

    crlf = "\r\n"
    write("reference/district.asc", crlf.join([
        "A1;A2;A3;A4;A5;A6;A7;A8;A9;A10;A11;A12;A13;A14;A15;A16",
        '1;"Hl.m. Praha";"Prague";1204953;0;0;0;1;1;100.0;12541;0.29;0.43;167;85677;99107',
        '2;"Benesov";"central Bohemia";88884;80;26;6;2;5;46.7;8507;1.67;1.85;132;2159;2674',
        '3;"Beroun";"central Bohemia";75232;55;26;4;1;5;41.7;8980;1.95;2.21;111;2824;2813',
    ]) + crlf)
    clients = ['"client_id";"birth_number";"district_id"']
    for i in range(1, 13):
        month = 1 + i % 12 + (50 if i % 2 else 0)
        clients.append(f'{i};"{40 + i:02d}{month:02d}{10 + i:02d}";{1 + i % 3}')
    write("mainframe/client.asc", crlf.join(clients) + crlf)
    frequencies = ["POPLATEK MESICNE", "POPLATEK TYDNE", "POPLATEK PO OBRATU"]
    write("mainframe/account.asc", crlf.join(['"account_id";"district_id";"frequency";"date"'] + [
        f'{a};{1 + a % 3};"{frequencies[a % 3]}";9301{a:02d}' for a in range(1, 11)]) + crlf)
    dispositions = [f'{i};{i};{i};"OWNER"' for i in range(1, 11)]
    dispositions += ['11;11;1;"DISPONENT"', '12;12;2;"DISPONENT"']
    write("mainframe/disp.asc", crlf.join(['"disp_id";"client_id";"account_id";"type"'] + dispositions) + crlf)
    write("mainframe/card.asc", crlf.join(['"card_id";"disp_id";"type";"issued"',
                                            '1;1;"classic";931107 00:00:00', '2;3;"gold";950208 00:00:00']) + crlf)
    write("mainframe/loan.asc", crlf.join([
        '"loan_id";"account_id";"date";"amount";"duration";"payments";"status"',
        '5314;3;930705;96396;12;8033.00;"A"', '5316;5;970711;165960;36;4610.00;"C"']) + crlf)
    write("mainframe/order.asc", crlf.join([
        '"order_id";"account_id";"bank_to";"account_to";"amount";"k_symbol"',
        '29401;1;"YZ";"87144583";2452.00;"SIPO"', '29402;2;"ST";"89597016";3372.70;"UVER"',
        '29403;4;"AB";"12345678";500.00;" "']) + crlf)
    transactions = ['"trans_id";"account_id";"date";"type";"operation";"amount";"balance";"k_symbol";"bank";"account"']
    trans_id = 1000
    for account in range(1, 11):
        balance = 0.0
        for month in range(1, 13):
            for day, kind, operation, amount, k_symbol in (
                    (5, "PRIJEM", "VKLAD", 1000.0 + 100 * account, ""),
                    (15, "VYDAJ", "VYBER", 300.0, ""),
                    (28, "PRIJEM", "", 10.5, "UROK")):
                trans_id += 1
                balance += amount if kind == "PRIJEM" else -amount
                transactions.append(f'{trans_id};{account};98{month:02d}{day:02d};"{kind}";"{operation}";'
                                    f'{amount:.2f};{balance:.2f};"{k_symbol}";;')
    write("mainframe/trans.asc", crlf.join(transactions) + crlf)

    def session(visitor: str, visit_id: int, hits: int, channel: str) -> dict:
        return {"visitNumber": 1, "visitId": visit_id, "visitStartTime": visit_id, "date": "19981215",
                "totals": {"visits": 1, "hits": hits, "pageviews": hits, "timeOnSite": 30 * hits,
                           "bounces": 1 if hits == 1 else None},
                "device": {"browser": "Chrome", "isMobile": False, "deviceCategory": "desktop"},
                "customDimensions": [{"index": 4, "value": "EMEA"}],
                "hits": [{"hitNumber": n, "time": 1000 * n, "type": "PAGE",
                          "page": {"pagePath": f"/page{n}", "pagePathLevel1": f"/page{n}"},
                          "eCommerceAction": {"action_type": "0", "step": 1}, "product": []}
                         for n in range(1, hits + 1)],
                "fullVisitorId": visitor, "channelGrouping": channel}
    write("ga/ga_sessions_19981215.json", "\n".join(json.dumps(s) for s in (
        session("1001", 913716000, 3, "Organic Search"), session("1001", 913719600, 1, "Direct"),
        session("2002", 913723200, 2, "Referral"))) + "\n")
    write("web/visitor_map.csv", "1001,1\n2002,2\n2002,3\n3003,999\n")
    write("crm/crm_19981220.json", "\n".join(json.dumps({
        "client_id": i, "birth_date": f"19{40 + i}-0{1 + i % 9}-10", "age": 58 - i, "home_ownership": "O",
        "occupation": "editor", "marital_status": "M", "head_of_household_flag": "Y",
        "client_created_date": "1998-03-01T10:00:00", "updated_at": "1998-03-01T10:00:00"}) for i in (1, 2, 3)) + "\n")
    return landing


@pytest.fixture(scope="session")
def published_tiny_bank(tmp_path_factory: pytest.TempPathFactory):
    """`c360 run` once on the tiny bank (every gate passes, a version is published). Returns a
    function giving a private copy `(home, landing)` to run more batches on, and keeps the
    first run's output as `.output` and its home as `.home`."""
    import contextlib
    import io
    import shutil

    from c360.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("tiny_bank")
    landing = write_tiny_bank(root / "landing")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = run_pipeline(landing=landing, home=root / "home")
    assert code == 0, output.getvalue()

    def copy(to: Path) -> tuple[Path, Path]:
        shutil.copytree(root / "home", to / "home", ignore=shutil.ignore_patterns(".c360-run.lock"))
        shutil.copytree(landing, to / "landing")
        return to / "home", to / "landing"

    copy.output = output.getvalue()
    copy.home = root / "home"
    return copy


# --- the real data published once per session (serve and graph tests) -------------------------

@pytest.fixture(scope="session")
def published_real_home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`c360 run` once per session on the real data without its CRM sample (which the raw gate
    rejects whole: see test_gates_real_data): a published home with the serving layout.
    Tests never change what is published (graph exports keep their state under `<home>/graph/`)."""
    import contextlib
    import io

    from c360.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("real_published")
    landing = link_real_landing(shared_data, root / "landing", with_crm=False)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = run_pipeline(landing=landing, home=root / "home")
    assert code == 0, output.getvalue()
    return root / "home"
