"""`c360 run` with deltas, end to end on the tiny bank: a run after a delta builds from a copy of
the published database and loads only the new batch (gates and atomic publish as always);
`c360 run --full-refresh` rebuilds every model from the raw zone, keeps the CRM history, and
publishes the same marts."""
from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from c360.cli import build_parser
from c360.generate import generate_delta
from c360.pipeline import run_pipeline
from c360.publish import published_path, read_published

pytestmark = pytest.mark.slow

MARTS = ("customer_360", "customer_loyalty", "customer_demographic", "customer_engagement")


def run(home: Path, landing: Path, **options) -> tuple[int, str, dict]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = run_pipeline(landing=landing, home=home, **options)
    record = json.loads(sorted((home / "runs").glob("*.json"))[-1].read_text())
    return code, output.getvalue(), record


def rows(database: Path, relation: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"select * from {relation} order by all").fetchall()


@pytest.fixture(scope="module")
def runs(published_tiny_bank, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("incremental_pipeline")
    home, landing = published_tiny_bank(root)
    versions = {}

    def keep(name: str) -> None:
        versions[name] = root / f"{name}.duckdb"
        shutil.copyfile(published_path(home), versions[name])

    keep("base")
    generate_delta(landing, 1, seed=5)
    delta = run(home, landing)
    keep("delta")
    full = run(home, landing, full_refresh=True)
    keep("full")
    return {"home": home, "delta": delta, "full": full, "versions": versions}


def test_a_delta_run_builds_on_the_published_version_and_publishes(runs):
    code, output, record = runs["delta"]
    assert code == 0, output
    assert record["outcome"] == "published" and record["full_refresh"] is False
    assert "the build starts from a copy of" in output
    base, delta = runs["versions"]["base"], runs["versions"]["delta"]
    # the base's transactions kept the batch that delivered them; the delta added its day
    with duckdb.connect(str(delta), read_only=True) as con:
        batches = con.execute("select count(distinct batch_id), max(transaction_date)"
                              " from staging.stg_mainframe__transactions").fetchone()
    assert batches[0] == 2 and str(batches[1]) == "1998-12-29"
    assert len(rows(delta, "marts.customer_360")) > len(rows(base, "marts.customer_360"))  # new clients
    assert len(read_published(runs["home"]).batches) == 2


def test_full_refresh_rebuilds_from_raw_and_publishes_the_same_marts(runs):
    code, output, record = runs["full"]
    assert code == 0, output
    assert record["full_refresh"] is True
    assert "the build starts from an empty database with the snapshot history" in output
    delta, full = runs["versions"]["delta"], runs["versions"]["full"]
    for mart in MARTS:
        assert rows(delta, f"marts.{mart}") == rows(full, f"marts.{mart}"), mart
    assert rows(delta, "snapshots.crm_clients_snapshot") == rows(full, "snapshots.crm_clients_snapshot")
    assert rows(delta, "staging.stg_mainframe__transactions") == rows(full, "staging.stg_mainframe__transactions")


def test_the_cli_takes_full_refresh():
    args = build_parser().parse_args(["run", "--landing", "l", "--home", "h", "--full-refresh"])
    assert args.full_refresh is True
    assert build_parser().parse_args(["run", "--landing", "l", "--home", "h"]).full_refresh is False
