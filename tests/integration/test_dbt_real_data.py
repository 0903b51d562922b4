"""`dbt build` on the real shared data (landed by `c360 land`): customer_360 has one row per
client of client.asc, and its contract columns equal an independent computation made here,
in plain Python, straight from the delivered .asc / .json / .csv files (not from any model).

Two points in time: 1994-03-31 (the truncated trans.asc ends there, so the 90-day bank
window is full) and the default as_of_date (the latest event: the GA sessions of 2017-07-30,
so the web columns are filled).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.reference.berka import (
    asc_rows as _asc_rows, attributed_visitors, birth as _birth, read_ga_sessions, read_visitor_links,
    yymmdd as _yymmdd,
)
from c360.build import resolve_as_of

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

BANK_AS_OF = date(1994, 3, 31)
CONTRACT_COLUMNS = (
    "client_id", "gender", "birth_date", "age_years", "district_name", "district_avg_salary_czk",
    "n_accounts_owned", "n_accounts_disponent", "n_cards", "n_loans", "customer_since_date",
    "n_transactions", "last_transaction_date", "n_transactions_last_90d",
    "credit_amount_czk_last_90d", "debit_amount_czk_last_90d", "web_sessions", "web_pageviews",
    "last_visit_date",
)


# --- the independent computation ---------------------------------------------------------------

@dataclass
class RawData:
    clients: list[dict[str, str]]
    districts: dict[str, dict[str, str]]
    accounts_opened: dict[str, date]
    dispositions: list[dict[str, str]]
    cards: list[dict[str, str]]
    loans: list[dict[str, str]]
    transactions: list[dict[str, str]]
    links: set[tuple[str, str]]
    sessions: dict[tuple[str, int, str], int]   # (visitor, visitId, YYYYMMDD) -> pageviews


def read_raw(shared: Path) -> RawData:
    berka = shared / "berka"
    sessions = {key: (session["totals"] or {}).get("pageviews") or 0
                for key, session in read_ga_sessions(shared).items()}
    return RawData(
        clients=_asc_rows(berka / "client.asc"),
        districts={d["A1"]: d for d in _asc_rows(berka / "district.asc")},
        accounts_opened={a["account_id"]: _yymmdd(a["date"]) for a in _asc_rows(berka / "account.asc")},
        dispositions=_asc_rows(berka / "disp.asc"),
        cards=_asc_rows(berka / "card.asc"),
        loans=_asc_rows(berka / "loan.asc"),
        transactions=_asc_rows(berka / "trans.asc"),
        links=read_visitor_links(shared),
        sessions=sessions,
    )


def expected_customer_360(raw: RawData, as_of: date) -> dict[int, dict]:
    """customer_360's contract columns, computed from the raw files by the issue's definitions."""
    window_start = as_of - timedelta(days=90)          # the window is start < date <= as_of
    disp_by_id = {d["disp_id"]: d for d in raw.dispositions}
    owners = defaultdict(set)                          # account -> owning clients
    for d in raw.dispositions:
        if d["type"] == "OWNER":
            owners[d["account_id"]].add(d["client_id"])

    per_client = defaultdict(lambda: defaultdict(int))
    since, last_trans, last_visit = {}, {}, {}
    credit, debit = defaultdict(Decimal), defaultdict(Decimal)
    for d in raw.dispositions:
        opened = raw.accounts_opened[d["account_id"]]
        if opened <= as_of:
            per_client[d["client_id"]]["owned" if d["type"] == "OWNER" else "disponent"] += 1
            since[d["client_id"]] = min(opened, since.get(d["client_id"], opened))
    for c in raw.cards:
        if _yymmdd(c["issued"]) <= as_of:
            per_client[disp_by_id[c["disp_id"]]["client_id"]]["cards"] += 1
    for loan in raw.loans:
        if _yymmdd(loan["date"]) <= as_of:
            for client in owners[loan["account_id"]]:
                per_client[client]["loans"] += 1
    for t in raw.transactions:
        day = _yymmdd(t["date"])
        if day > as_of:
            continue
        for client in owners[t["account_id"]]:
            per_client[client]["trans"] += 1
            last_trans[client] = max(day, last_trans.get(client, day))
            if day > window_start:
                per_client[client]["trans_90d"] += 1
                if t["type"] == "PRIJEM":
                    credit[client] += Decimal(t["amount"])
                else:                                  # VYDAJ and VYBER are debits
                    debit[client] += Decimal(t["amount"])

    attributed = attributed_visitors(raw.links, {c["client_id"] for c in raw.clients})
    for (visitor, _visit_id, yyyymmdd), pageviews in raw.sessions.items():
        day = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
        if visitor in attributed and day <= as_of:
            client = attributed[visitor]
            per_client[client]["sessions"] += 1
            per_client[client]["pageviews"] += pageviews
            last_visit[client] = max(day, last_visit.get(client, day))

    expected = {}
    for c in raw.clients:
        cid, district = c["client_id"], raw.districts[c["district_id"]]
        born, gender = _birth(c["birth_number"])
        n = per_client[cid]
        expected[int(cid)] = {
            "client_id": int(cid), "gender": gender, "birth_date": born,
            "age_years": as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day)),
            "district_name": district["A2"], "district_avg_salary_czk": Decimal(district["A11"]),
            "n_accounts_owned": n["owned"], "n_accounts_disponent": n["disponent"],
            "n_cards": n["cards"], "n_loans": n["loans"], "customer_since_date": since.get(cid),
            "n_transactions": n["trans"], "last_transaction_date": last_trans.get(cid),
            "n_transactions_last_90d": n["trans_90d"],
            "credit_amount_czk_last_90d": credit[cid], "debit_amount_czk_last_90d": debit[cid],
            "web_sessions": n["sessions"], "web_pageviews": n["pageviews"],
            "last_visit_date": last_visit.get(cid),
        }
    return expected


# --- the builds ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def raw(shared_data: Path) -> RawData:
    return read_raw(shared_data)


@pytest.fixture(scope="module")
def warehouse(real_warehouse: Path) -> Path:
    """The real data built at 1994-03-31 the way the pipeline builds (tests/conftest.py)."""
    return real_warehouse


def _customer_360(duckdb_path: Path) -> dict[int, dict]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        cursor = con.execute(f"select {', '.join(CONTRACT_COLUMNS)} from marts.customer_360")
        return {row[0]: dict(zip(CONTRACT_COLUMNS, row)) for row in cursor.fetchall()}


def _differences(actual: dict[int, dict], expected: dict[int, dict]) -> list[str]:
    out = []
    for client_id, row in expected.items():
        for column, value in row.items():
            if actual[client_id][column] != value:
                out.append(f"client {client_id} {column}: mart {actual[client_id][column]!r} != raw {value!r}")
    return out


def test_customer_360_has_one_row_per_client_of_the_client_master(warehouse: Path, raw: RawData):
    actual = _customer_360(warehouse)
    assert len(actual) == 5369 == len(raw.clients)
    assert set(actual) == {int(c["client_id"]) for c in raw.clients}


def test_contract_columns_match_the_raw_files_at_1994_03_31(warehouse: Path, raw: RawData):
    actual, expected = _customer_360(warehouse), expected_customer_360(raw, BANK_AS_OF)
    assert resolve_as_of(warehouse) == BANK_AS_OF
    differences = _differences(actual, expected)
    assert not differences, f"{len(differences)} differences, first: {differences[:10]}"
    # the comparison is meaningful: the bank columns are filled at this date
    assert sum(r["n_transactions_last_90d"] for r in actual.values()) > 10_000
    assert sum(1 for r in actual.values() if r["n_loans"]) > 20


def test_a_few_known_clients(warehouse: Path):
    actual = _customer_360(warehouse)
    assert actual[1]["gender"] == "female" and actual[1]["birth_date"] == date(1970, 12, 13)
    assert actual[2]["gender"] == "male" and actual[2]["birth_date"] == date(1945, 2, 4)
    assert actual[2]["age_years"] == 49 and actual[2]["district_name"] == "Hl.m. Praha"
    assert actual[2]["district_avg_salary_czk"] == Decimal("12541")


def test_no_birth_number_reaches_the_marts(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute("select table_name, column_name from information_schema.columns"
                              " where table_schema = 'marts'").fetchall()
    assert columns and not [c for c in columns if "birth_number" in c[1]]


def test_default_as_of_is_the_latest_event_and_web_columns_match(real_warehouse_latest: Path, raw: RawData):
    warehouse = real_warehouse_latest        # built with the default as_of_date
    as_of = resolve_as_of(warehouse)
    assert as_of == date(2017, 7, 30)       # the latest GA session (the bank data ends in 1998)
    actual, expected = _customer_360(warehouse), expected_customer_360(raw, as_of)
    differences = _differences(actual, expected)
    assert not differences, f"{len(differences)} differences, first: {differences[:10]}"
    attributed = [r for r in actual.values() if r["web_sessions"]]
    assert attributed and sum(r["web_sessions"] for r in attributed) == 18
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ambiguous_sessions = con.execute(
            "select count(session_key) from marts.identity_resolution"
            " where resolution_status = 'ambiguous'").fetchone()[0]
    assert ambiguous_sessions == 6
