"""The staging and marts gates on a real build (the tiny bank's published database), altered
by hand: what dbt's tests do not guard, the suites catch, with the rows at fault."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from c360.gates import GxSession, run_layer_gate
from c360.publish import published_path


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> GxSession:
    return GxSession(tmp_path_factory.mktemp("docs") / "run", "layers")


def altered(published_tiny_bank, tmp_path: Path, *statements: str) -> Path:
    copy = tmp_path / "build.duckdb"
    shutil.copyfile(published_path(published_tiny_bank.home), copy)
    with duckdb.connect(str(copy)) as con:
        for statement in statements:
            con.execute(statement)
    return copy


def test_the_published_tiny_bank_passes_the_staging_and_marts_suites(published_tiny_bank, tmp_path, session):
    database = altered(published_tiny_bank, tmp_path)
    for layer in ("staging", "marts"):
        result = run_layer_gate(layer, database, session, new_batches=None)
        assert result.passed, result.describe()


def test_an_implausible_amount_is_caught_row_by_row(published_tiny_bank, tmp_path, session):
    database = altered(published_tiny_bank, tmp_path,
                       "update staging.stg_mainframe__transactions set amount_czk = 50000000 where trans_id = 1001")
    result = run_layer_gate("staging", database, session, new_batches=None)
    (failure,) = result.failures
    assert (failure.suite, failure.column, failure.unexpected_count) == (
        "staging.stg_mainframe__transactions", "amount_czk", 1)
    assert failure.examples[0]["amount_czk"] == 50000000 and failure.examples[0]["trans_id"] == 1001


def test_row_suites_read_only_the_rows_of_new_batches(published_tiny_bank, tmp_path, session):
    database = altered(published_tiny_bank, tmp_path,
                       "update staging.stg_mainframe__transactions set amount_czk = 50000000 where trans_id = 1001")
    result = run_layer_gate("staging", database, session, new_batches=["a-batch-with-no-rows"])
    assert result.passed and not any("stg_mainframe__transactions" in f for f in result.frames)


def test_hits_that_do_not_match_their_session_totals_are_caught(published_tiny_bank, tmp_path, session):
    database = altered(published_tiny_bank, tmp_path,
                       "delete from staging.stg_ga__hits where session_key = '1001-913716000-19981215' and hit_number = 3")
    result = run_layer_gate("staging", database, session, new_batches=None)
    (failure,) = result.failures
    assert (failure.suite, failure.column) == ("staging.ga_hierarchy", "sessions_hits_mismatch")
    assert failure.examples[0]["examples"] == [
        {"session_key": "1001-913716000-19981215", "totals_hits": 3, "hits_rows": 2}]


def test_negative_counts_out_of_range_scores_and_a_client_twice_are_caught(published_tiny_bank, tmp_path, session):
    database = altered(
        published_tiny_bank, tmp_path,
        "update marts.customer_360 set n_cards = -1 where client_id = 1",
        "update marts.customer_engagement set engagement_score = 150 where client_id = 2",
        "insert into marts.customer_loyalty select * from marts.customer_loyalty where client_id = 3")
    result = run_layer_gate("marts", database, session, new_batches=None)
    caught = {(f.suite, f.column) for f in result.failures}
    assert {("marts.customer_360", "n_cards"), ("marts.customer_engagement", "engagement_score"),
            ("marts.customer_loyalty", "client_id"), ("marts.grain", "row_count, grain_rows"),
            ("marts.grain", "distinct_keys, row_count")} <= caught
