"""marts.distributions on tiny hand-written builds: its shares are facts of the delivery or of
the clients already in the bank at as_of_date, so a correct early build passes, and a mart that
counts what staging dates after as_of_date is caught."""
from __future__ import annotations

import duckdb
import pytest

from c360.engines.duckdb import DuckDBEngine
from c360.gates import frames
from c360.gates.suites import load_suites


@pytest.fixture(scope="module")
def suite():
    (distributions,) = [s for s in load_suites("marts") if s.name == "marts.distributions"]
    return distributions


def build(as_of: str, mart_accounts: dict[int, int]) -> DuckDBEngine:
    """Three clients; client 3's account opens on 1995-06-01. `mart_accounts`: what the mart
    says each client owns at `as_of`."""
    con = duckdb.connect()
    con.execute("create schema staging; create schema marts")
    con.execute("""create table staging.stg_mainframe__dispositions as select * from (values
        (1, 1, 10, true), (2, 2, 20, true), (3, 3, 30, true)) as t(disp_id, client_id, account_id, is_owner)""")
    con.execute("""create table staging.stg_mainframe__accounts as select * from (values
        (10, date '1993-01-01'), (20, date '1993-02-01'), (30, date '1995-06-01')) as t(account_id, opened_date)""")
    con.execute("create table staging.stg_mainframe__cards (card_id int, disp_id int, issued_date date)")
    con.execute("create table staging.stg_mainframe__loans (loan_id int, account_id int, granted_date date)")
    rows = ", ".join(f"({c}, '{'female' if c % 2 else 'male'}', {n}, 0, 0, 0, date '{as_of}')"
                     for c, n in mart_accounts.items())
    con.execute(f"""create table marts.customer_360 as select * from (values {rows})
        as t(client_id, gender, n_accounts_owned, n_accounts_disponent, n_cards, n_loans, as_of_date)""")
    con.execute("create table marts.customer_engagement as select client_id, 10.0 as engagement_score"
                " from marts.customer_360")
    return DuckDBEngine(con)


def measured(engine: DuckDBEngine, suite) -> dict:
    return frames.summary_frame(engine, suite.frame).iloc[0].to_dict()


def test_an_early_correct_build_has_the_shares_of_the_delivery_and_agrees_with_the_facts(suite):
    row = measured(build("1994-03-31", {1: 1, 2: 1, 3: 0}), suite)     # client 3 not in the bank yet
    assert row["share_with_account"] == 1.0                   # every client has an account, at some date
    assert row["clients_with_account_at_as_of"] == 2 and row["clients_unlike_facts_at_as_of"] == 0
    assert row["share_owning_an_account"] == 1.0 and row["median_engagement_score"] == 10.0


def test_a_mart_counting_an_account_opened_after_as_of_is_caught(suite):
    row = measured(build("1994-03-31", {1: 1, 2: 1, 3: 1}), suite)     # a leak from the future
    assert row["clients_unlike_facts_at_as_of"] == 1


def test_a_mart_missing_an_account_open_at_as_of_is_caught(suite):
    row = measured(build("1998-12-31", {1: 1, 2: 1, 3: 0}), suite)
    assert row["clients_unlike_facts_at_as_of"] == 1
