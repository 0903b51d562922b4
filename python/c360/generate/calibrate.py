"""Derive the generator's calibration constants from the real public data.

    python -m c360.generate.calibrate ../shared/data > python/c360/generate/calibration.py

Run once by hand; the printed module is committed, so generating a bank never needs the
real files. tests/integration/test_generate_real_calibration.py re-derives the constants
and checks that the committed module still matches.

Caveat: the public trans.asc is truncated (complete rows 1993-01-01..1994-03-31). Code
values, amounts and per-account-month rates come from its complete months (1993-01 ..
1994-02); the overall volume is then scaled to the documented full size (1,056,320 rows)
through VOLUME_FACTOR. The card-withdrawal rate rests on the five cards issued that early
(12 withdrawals), so it is the roughest constant.
"""
from __future__ import annotations

import argparse
import ast
import json
import pprint
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

# Documented size of the full trans table (the public copy stops at 3 MiB).
TRANS_FULL_ROWS = 1_056_320
# Complete months of the truncated trans.asc, the window every transaction rate comes from.
WINDOW_START, WINDOW_END = "1993-01-01", "1994-03-01"  # end exclusive
QUANTILE_STEPS = 21  # 0%, 5%, ..., 100%

# Every transaction row of the window falls in exactly one kind; the generator writes each
# kind with the codes found here (an order payment carries its order's k_symbol instead).
# bank_form: none (no bank/account), blank ("" / "0"), partner (bank code, account number).
KIND_FILTERS = {
    "opening_deposit": "is_first",
    "cash_deposit": "operation = 'VKLAD' and not is_first",
    "cash_withdrawal": "type = 'VYDAJ' and operation = 'VYBER' and k_symbol = '' and bank is null",
    "cash_withdrawal_vyber_type": "type = 'VYBER' and operation = 'VYBER'",
    "cash_withdrawal_zero_account": "type = 'VYDAJ' and operation = 'VYBER' and k_symbol = '' and bank = ''",
    "cash_withdrawal_sipo": "operation = 'VYBER' and k_symbol = 'SIPO'",
    "cash_withdrawal_blank_symbol": "operation = 'VYBER' and k_symbol = ' '",
    "card_withdrawal": "operation = 'VYBER KARTOU'",
    "interest": "k_symbol = 'UROK'",
    "statement_fee": "k_symbol = 'SLUZBY'",
    "penalty_interest": "k_symbol = 'SANKC. UROK'",
    "salary": "operation = 'PREVOD Z UCTU' and k_symbol = ''",
    "pension": "operation = 'PREVOD Z UCTU' and k_symbol = 'DUCHOD'",
    "order_payment": "operation = 'PREVOD NA UCET'",
}
# Kinds drawn as a Poisson count per account-month (all others follow from entities).
POISSON_KINDS = (
    "cash_deposit", "cash_withdrawal", "cash_withdrawal_vyber_type",
    "cash_withdrawal_zero_account", "cash_withdrawal_sipo", "cash_withdrawal_blank_symbol",
)


def _sig(x: float, digits: int = 6) -> float:
    """Round to significant digits so the rendered constants are short and stable."""
    return float(f"{float(x):.{digits}g}")


def _quantiles(values: Any, digits: int = 6) -> tuple[float, ...]:
    qs = np.quantile(np.asarray(values, dtype=float), np.linspace(0, 1, QUANTILE_STEPS))
    return tuple(_sig(q, digits) for q in qs)


def _frequencies(values: Any) -> dict:
    """{value: count}, sorted by value."""
    return dict(sorted(Counter(values).items()))


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> Any:
    return con.execute(sql, params).fetchone()[0]


def _column(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> np.ndarray:
    """The query's single column as a numpy array."""
    return next(iter(con.execute(sql, params).fetchnumpy().values()))


def _count_by(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    """{key: count} from a query returning (key, count) rows."""
    return {key: int(n) for key, n in con.execute(sql).fetchall()}


def _amount_model(amounts: np.ndarray) -> dict[str, Any]:
    """Quantiles plus how often amounts are round (multiples of 100, whole crowns)."""
    cents = np.round(amounts * 100).astype(np.int64)
    return {
        "quantiles": _quantiles(amounts),
        "hundreds_share": _sig(np.mean(cents % 10_000 == 0), 4),
        "whole_share": _sig(np.mean(cents % 100 == 0), 4),
    }


def _connect(berka: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    options = "sep=';', header=true, quote='\"', allow_quoted_nulls=false, all_varchar=true"
    for table in ("account", "client", "disp", "card", "loan", "order", "district"):
        con.execute(f"create view raw_{table} as select * from read_csv('{berka / (table + '.asc')}', {options})")
    # The last physical line of trans.asc is cut mid-row: ignore_errors drops exactly it.
    con.execute(f"create view raw_trans as select * from read_csv('{berka / 'trans.asc'}', {options}, ignore_errors=true)")
    yymmdd = "make_date(1900 + ({0})::int // 10000, ({0})::int // 100 % 100, ({0})::int % 100)"
    con.execute(f"""
        create table account as select account_id::int account_id, district_id::int district_id,
               frequency, {yymmdd.format('date')} open_date from raw_account;
        create table client as select client_id::int client_id, district_id::int district_id,
               substr(birth_number, 3, 2)::int > 50 is_woman,
               make_date(1900 + substr(birth_number, 1, 2)::int, substr(birth_number, 3, 2)::int % 50,
                         substr(birth_number, 5, 2)::int) birth_date from raw_client;
        create table disp as select disp_id::int disp_id, client_id::int client_id,
               account_id::int account_id, type from raw_disp;
        create table card as select card_id::int card_id, disp_id::int disp_id, type,
               {yymmdd.format('left(issued, 6)')} issued from raw_card;
        create table loan as select loan_id::int loan_id, account_id::int account_id,
               {yymmdd.format('date')} loan_date, amount::int amount, duration::int duration,
               payments::double payments, status from raw_loan;
        create table orders as select order_id::int order_id, account_id::int account_id,
               bank_to, account_to, amount::double amount, k_symbol from raw_order;
        create table trans as select trans_id::int trans_id, account_id::int account_id,
               {yymmdd.format('date')} trans_date, type, operation, amount::double amount,
               balance::double balance, k_symbol, bank, account,
               row_number() over (partition by account_id order by date, trans_id::int) = 1 is_first
        from raw_trans;
        create table owner as select d.account_id, c.* from disp d join client c using (client_id)
        where d.type = 'OWNER';
    """)
    return con


def _bank_entities(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    horizon_end = _scalar(con, "select make_date(year(greatest(max(issued), (select max(loan_date) from loan))), 12, 31) from card")
    end = f"date '{horizon_end}'"
    return {
        "ROW_COUNTS": {t: _scalar(con, f"select count(*) from {t}") for t in ("client", "account", "disp", "card", "loan")}
        | {"order": _scalar(con, "select count(*) from orders"), "trans": TRANS_FULL_ROWS},
        "HORIZON": (str(_scalar(con, "select min(open_date) from account")), str(horizon_end)),
        # Real keys are sparse; the generator keeps each table's first id and mean gap.
        "ID_RANGES": {t: con.execute(f"select min({t}_id), max({t}_id) from {src}").fetchone()
                      for t, src in (("account", "account"), ("client", "client"), ("disp", "disp"), ("card", "card"),
                                     ("loan", "loan"), ("order", "orders"), ("trans", "trans"))},
        "ACCOUNT_FREQUENCIES": _count_by(con, "select frequency, count(*) from account group by 1 order by 1"),
        "ACCOUNT_OPEN_MONTHS": _count_by(con, "select strftime(open_date, '%Y-%m'), count(*) from account group by 1 order by 1"),
        "ACCOUNT_DISTRICTS": _count_by(con, "select district_id, count(*) from account group by 1 order by 1"),
        "CLIENT_HOME_DISTRICT_SHARE": _sig(_scalar(con, """select avg((c.district_id = a.district_id)::int)
            from disp d join client c using (client_id) join account a using (account_id)"""), 4),
        "OWNER_AGE_AT_OPEN": _quantiles(_column(con, """select datediff('day', birth_date, open_date) / 365.25 v
            from owner join account using (account_id)"""), 4),
        "OWNER_WOMAN_SHARE": _sig(_scalar(con, "select avg(is_woman::int) from owner"), 4),
        "DISPONENT_OPPOSITE_SEX_SHARE": _sig(_scalar(con, """select avg((o.is_woman != c.is_woman)::int) from disp d
            join client c using (client_id) join owner o using (account_id) where d.type = 'DISPONENT'"""), 4),
        "DISPONENT_AGE_GAP": _quantiles(_column(con, """select datediff('day', o.birth_date, c.birth_date) / 365.25 v
            from disp d join client c using (client_id) join owner o using (account_id) where d.type = 'DISPONENT'"""), 4),
        "CARD_TYPES": _count_by(con, "select type, count(*) from card group by 1 order by 1"),
        "JUNIOR_CARD_AGE": tuple(con.execute("""select min(age), max(age) from (select card.type,
            date_sub('year', c.birth_date, card.issued) age from card join disp d using (disp_id)
            join client c using (client_id)) where type = 'junior'""").fetchone()),
        "CARD_MIN_DELAY_DAYS": _scalar(con, "select min(datediff('day', open_date, issued)) from card join disp using (disp_id) join account using (account_id)"),
        "CARD_ISSUE_POSITION": _quantiles(_column(con, f"""with d as (select datediff('day', open_date, issued) delay,
            datediff('day', open_date, {end}) span from card join disp using (disp_id) join account using (account_id))
            select (delay - m) / (span - m) v from d, (select min(delay) m from d)"""), 4),
        "LOAN_DURATIONS": _count_by(con, "select duration, count(*) from loan group by 1 order by 1"),
        "LOAN_PAYMENTS": _quantiles(_column(con, "select payments v from loan")),
        "LOAN_MIN_DELAY_DAYS": _scalar(con, "select min(datediff('day', open_date, loan_date)) from loan join account using (account_id)"),
        "LOAN_DATE_POSITION": _quantiles(_column(con, f"""with d as (select datediff('day', open_date, loan_date) delay,
            datediff('day', open_date, {end}) span from loan join account using (account_id))
            select (delay - m) / (span - m) v from d, (select min(delay) m from d)"""), 4),
        # A/B finished (paid / unpaid), C/D running (fine / in debt): finished is a date fact.
        "LOAN_FINISHED_STATUSES": _count_by(con, f"""select status, count(*) from loan
            where loan_date + to_months(duration) <= {end} group by 1 order by 1"""),
        "LOAN_RUNNING_STATUSES": _count_by(con, f"""select status, count(*) from loan
            where loan_date + to_months(duration) > {end} group by 1 order by 1"""),
        "ORDERS_PER_ACCOUNT": _count_by(con, """select n, count(*) from (select a.account_id,
            count(o.order_id) n from account a left join orders o on o.account_id = a.account_id and o.k_symbol != 'UVER'
            group by 1) group by 1 order by 1"""),
        "ORDER_SYMBOLS": _count_by(con, "select k_symbol, count(*) from orders where k_symbol != 'UVER' group by 1 order by 1"),
        "ORDER_AMOUNTS": {k: _amount_model(_column(con, "select amount from orders where k_symbol = ?", [k]))
                          for (k,) in con.execute("select distinct k_symbol from orders where k_symbol != 'UVER' order by 1").fetchall()},
        "BANK_CODES": _count_by(con, "select bank_to, count(*) from orders group by 1 order by 1"),
    }


def _transactions(con: duckdb.DuckDBPyConnection, bank: dict[str, Any]) -> dict[str, Any]:
    """Kinds, amounts and rates from the complete months of the truncated trans.asc."""
    cases = " ".join(f"when {cond} then '{kind}'" for kind, cond in KIND_FILTERS.items())
    con.execute(f"""
        create table window_trans as select *, case {cases} end kind from trans
        where trans_date >= date '{WINDOW_START}' and trans_date < date '{WINDOW_END}';
        -- Account-months of exposure, the opening month counted by its remaining days.
        create table exposure as select account_id, frequency,
            sum(case when m = date_trunc('month', open_date)
                     then (day(last_day(m)) - day(open_date) + 1) / day(last_day(m)) else 1 end) active_months
        from account, range(date '{WINDOW_START}', date '{WINDOW_END}', interval 1 month) r(m)
        where m >= date_trunc('month', open_date) group by all;
    """)
    unclassified = _scalar(con, "select count(*) from window_trans where kind is null")
    if unclassified:
        raise ValueError(f"trans.asc: {unclassified} window rows match no transaction kind")
    exposure = _scalar(con, "select sum(active_months) from exposure")
    kinds = {}
    for kind in KIND_FILTERS:
        codes = con.execute("""select type, operation, mode(k_symbol),
            case when bool_and(bank is null) then 'none' when bool_and(bank = '') then 'blank' else 'partner' end,
            count(*) from window_trans where kind = ? group by all""", [kind]).fetchall()
        if len(codes) != 1:
            raise ValueError(f"trans.asc: kind {kind} mixes codes {codes}")
        type_, operation, k_symbol, bank_form, rows = codes[0]
        values = con.execute("select amount, day(trans_date) dd from window_trans where kind = ?", [kind]).fetchnumpy()
        kinds[kind] = {"type": type_, "operation": operation, "k_symbol": k_symbol, "bank_form": bank_form,
                       "rows": rows, "amount": _amount_model(values["amount"]), "day_of_month": _quantiles(values["dd"]),
                       "per_account_month": _sig(rows / exposure)}
    income_accounts = """select account_id, kind, median(amount) amount from window_trans
        where kind in ('salary', 'pension') group by all"""
    owner_age = "date_sub('year', o.birth_date, a.open_date)"
    pension_min_age = _scalar(con, f"""select min({owner_age}) from ({income_accounts}) i join owner o using (account_id)
        join account a using (account_id) where kind = 'pension'""")
    window_accounts = f"""select e.account_id, {owner_age} >= {pension_min_age} elderly, i.kind from exposure e
        join owner o using (account_id) join account a using (account_id) left join ({income_accounts}) i using (account_id)"""
    card_months = _scalar(con, f"""select sum(datediff('day', issued, date '{WINDOW_END}')) / 30.4375 from card
        where issued < date '{WINDOW_END}'""")
    card_rate = _sig(kinds["card_withdrawal"]["rows"] / card_months, 4)
    per_account_balance = """select median(balance) from window_trans join account using (account_id)
        where datediff('month', open_date, trans_date) >= 3 group by account_id"""
    return {
        "TRANS_WINDOW": (WINDOW_START, WINDOW_END),
        "TRANS_WINDOW_ROWS": _scalar(con, "select count(*) from trans"),
        "TRANS_WINDOW_EXPOSURE_MONTHS": _sig(exposure),
        "TRANS_KINDS": kinds,
        "POISSON_KINDS": POISSON_KINDS,
        "ORDER_PAYMENT_SYMBOLS": _count_by(con, """select k_symbol, count(*) from window_trans
            where kind = 'order_payment' group by 1 order by 1"""),
        "STATEMENT_FEES": {f: _sig(a) for f, a in con.execute("""select frequency, mode(amount)
            from window_trans join account using (account_id) where kind = 'statement_fee' group by 1 order by 1""").fetchall()},
        "INTEREST_MONTHLY_RATE": _sig(_scalar(con, """select median(amount / (balance - amount)) from window_trans
            where kind = 'interest' and balance > amount"""), 4),
        "PENSION_MIN_AGE": pension_min_age,
        "PENSION_SHARE": _sig(_scalar(con, f"""select avg(coalesce(kind = 'pension', false)::int)
            from ({window_accounts}) where elderly"""), 4),
        "SALARY_SHARE": _sig(_scalar(con, f"""select avg(coalesce(kind = 'salary', false)::int) from ({window_accounts})
            where kind is distinct from 'pension'"""), 4),
        "INCOME_AMOUNTS": {k: _amount_model(_column(con, f"select amount from ({income_accounts}) where kind = ?", [k]))
                           for k in ("salary", "pension")},
        "CARD_WITHDRAWALS_PER_MONTH": card_rate,
        "ACTIVITY_SHAPE": _activity_shape(con),
        "TARGET_BALANCE": _quantiles(_column(con, per_account_balance)),
        "VOLUME_FACTOR": _volume_factor(con, bank, kinds, card_rate),
    }


def _activity_shape(con: duckdb.DuckDBPyConnection) -> float:
    """Gamma shape of per-account activity: between-account variance net of Poisson noise."""
    kinds = ", ".join(f"'{k}'" for k in POISSON_KINDS)
    rates = con.execute(f"""select coalesce(n, 0) / active_months r, active_months from exposure
        left join (select account_id, count(*) n from window_trans where kind in ({kinds}) group by 1) using (account_id)
        where active_months >= 3""").fetchnumpy()
    mean = rates["r"].mean()
    between = rates["r"].var() - np.mean(rates["r"] / rates["active_months"])
    return _sig(mean**2 / between, 4)


def _volume_factor(con: duckdb.DuckDBPyConnection, bank: dict[str, Any], kinds: dict[str, Any],
                   card_rate: float) -> float:
    """Scale on the Poisson kinds so the real bank's exposure yields the documented row count.

    Mirrors the generator: one opening deposit per account, month-end interest on every
    account-month, fees, penalties and incomes at their window rates, orders paying monthly
    from the month after opening, loan orders for the loan's duration, cards from the month
    after issue.
    """
    end = f"date '{bank['HORIZON'][1]}'"

    def months_after(start: str) -> str:
        return f"greatest(0, datediff('month', {start}, {end}))"

    account_months = _scalar(con, f"""select sum({months_after('open_date')}
        + (day(last_day(open_date)) - day(open_date) + 1) / day(last_day(open_date))) from account""")
    order_months = _scalar(con, f"""select sum({months_after('open_date')}) from orders join account using (account_id)
        where k_symbol != 'UVER'""")
    loan_months = _scalar(con, f"select sum(least(duration, {months_after('loan_date')})) from loan")
    card_months = _scalar(con, f"select sum({months_after('issued')}) from card")
    monthly = ("statement_fee", "penalty_interest", "salary", "pension")
    structural = (bank["ROW_COUNTS"]["account"] + order_months + loan_months + card_months * card_rate
                  + account_months * (1 + sum(kinds[k]["per_account_month"] for k in monthly)))
    poisson = account_months * sum(kinds[k]["per_account_month"] for k in POISSON_KINDS)
    return _sig((TRANS_FULL_ROWS - structural) / poisson, 4)


def _districts(berka: Path) -> tuple[tuple, ...]:
    """The 77-row reference table as typed rows (None where the file has '?')."""
    rows = []
    for line in (berka / "district.asc").read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split(";")
        typed = [field.strip('"') if field.startswith('"') else None if field == "?"
                 else float(field) if "." in field else int(field) for field in fields]
        rows.append(tuple(typed))
    return tuple(rows)


def _key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value, lists written as `[]` (hits[].page.pagePath)."""
    if isinstance(value, dict):
        paths = set()
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths |= {path} | _key_paths(child, path)
        return paths
    if isinstance(value, list):
        return set().union(*(_key_paths(child, prefix + "[]") for child in value))
    return set()


def _ga(workshop: Path) -> dict[str, Any]:
    sessions = [json.loads(line) for path in sorted((workshop / "ga").glob("ga_sessions_*.json"))
                for line in path.read_text(encoding="utf-8").splitlines()]
    hits = [hit for session in sessions for hit in session["hits"]]
    later = [hit for hit in hits if hit["hitNumber"] > 1]
    # EVENT hits with products carry eventInfo; the others are timing hits (latencyTracking).
    pages = [hit for hit in hits if hit["type"] == "PAGE"]
    events = [hit for hit in hits if hit["type"] == "EVENT"]
    gaps = [b["time"] - a["time"] for s in sessions for a, b in zip(s["hits"], s["hits"][1:])]
    return {
        "GA_SESSIONS_PER_DAY": _sig(len(sessions) / len({s["date"] for s in sessions})),
        "GA_SESSION_KEYS": tuple(sessions[0]),
        "GA_KEY_PATHS": tuple(sorted(set().union(*(_key_paths(s) for s in sessions)))),
        "GA_HITS_PER_SESSION": _frequencies(len(s["hits"]) for s in sessions),
        "GA_EVENT_SHARE": _sig(sum(h["type"] == "EVENT" for h in later) / len(later), 4),
        "GA_PAGE_PRODUCT_SHARE": _sig(sum(bool(h["product"]) for h in pages) / len(pages), 4),
        "GA_PRODUCT_LIST_SIZES": _frequencies(len(h["product"]) for h in pages if h["product"]),
        "GA_EVENT_PRODUCT_SHARE": _sig(sum(bool(h["product"]) for h in events) / len(events), 4),
        "GA_EVENT_ACTIONS": _frequencies(h["eventInfo"]["eventAction"] for h in events if h["eventInfo"]),
        "GA_HIT_GAP_MS": _quantiles(gaps),
        "GA_CHANNELS": tuple((k[0], k[1], k[2], n) for k, n in sorted(Counter(
            (s["channelGrouping"], s["trafficSource"]["source"], s["trafficSource"]["medium"]) for s in sessions).items())),
        "GA_DEVICES": tuple((*k, n) for k, n in sorted(Counter(
            (s["device"]["deviceCategory"], s["device"]["isMobile"], s["device"]["operatingSystem"], s["device"]["browser"])
            for s in sessions).items())),
        "GA_SESSION_QUALITY": _frequencies(s["totals"]["sessionQualityDim"] for s in sessions),
        "GA_CUSTOM_DIMENSION_SHARE": _sig(sum(bool(s["customDimensions"]) for s in sessions) / len(sessions), 4),
    }


def _crm(workshop: Path) -> dict[str, Any]:
    # The sample export holds Python dict literals, not JSON.
    records = [ast.literal_eval(line) for path in sorted((workshop / "crm").glob("*.json"))
               for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {
        "CRM_FIELDS": tuple(records[0]),
        "CRM_HOME_OWNERSHIP": _frequencies(r["home_ownership"] for r in records),
        "CRM_MARITAL_STATUS": _frequencies(r["marital_status"] for r in records),
        "CRM_HEAD_OF_HOUSEHOLD": _frequencies(r["head_of_household_flag"] for r in records),
        "CRM_OCCUPATIONS": _frequencies(r["occupation"] for r in records),
    }


def _visitor_map(workshop: Path) -> dict[str, Any]:
    links = [line.split(",") for line in (workshop / "visitors" / "ga_visitors.csv").read_text().split()]
    per_visitor = Counter(visitor for visitor, _ in links)
    clients = {client for _, client in links}
    return {
        "VISITOR_MAP_CLIENTS_PER_VISITOR": _frequencies(per_visitor.values()),
        "VISITOR_MAP_REPEAT_CLIENT_SHARE": _sig((len(links) - len(clients)) / len(links), 4),
    }


def derive(data_dir: Path) -> dict[str, Any]:
    """All calibration constants, in the order they are rendered."""
    con = _connect(data_dir / "berka")
    bank = _bank_entities(con)
    workshop = data_dir / "c360-workshop"
    return (bank | _transactions(con, bank) | {"DISTRICTS": _districts(data_dir / "berka")}
            | _crm(workshop) | _ga(workshop) | _visitor_map(workshop))


def render(constants: dict[str, Any]) -> str:
    """The calibration module's source text."""
    header = ('"""Calibration constants derived from the real public data (../shared/data).\n\n'
              "Generated by `python -m c360.generate.calibrate ../shared/data`; do not edit by hand.\n"
              "See calibrate.py for what each constant measures and the truncated-trans caveat.\n"
              '"""\n')
    body = "".join(f"\n{name} = {pprint.pformat(value, width=110, compact=True, sort_dicts=False)}\n"
                   for name, value in constants.items())
    return header + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="the shared data folder (holds berka/ and c360-workshop/)")
    args = parser.parse_args(argv)
    sys.stdout.write(render(derive(args.data_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
