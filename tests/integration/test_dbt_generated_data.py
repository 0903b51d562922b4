"""`dbt build` on a generated bank (`c360 generate` -> `c360 land`): every model builds and
every dbt test (generic, expression invariants, unit tests) passes, the marts keep one row
per generated client, and `dbt docs generate` documents every model and mart column."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from c360.build import build_models, generate_docs, resolve_as_of

pytestmark = pytest.mark.slow

SCALE = 0.05
MARTS = ("customer_360", "customer_loyalty", "customer_demographic", "customer_engagement")


@pytest.fixture(scope="module")
def generated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    generate = pytest.importorskip("c360.generate")
    if not hasattr(generate, "generate_dataset"):
        pytest.skip("c360.generate.generate_dataset is not available yet")
    from c360.land import land_directory

    root = tmp_path_factory.mktemp("generated")
    generate.generate_dataset(out_dir=root / "landing", scale=SCALE, seed=7)
    land_directory(landing=root / "landing", home=root / "home")
    return root / "home"


@pytest.fixture(scope="module")
def built(generated_home: Path, tmp_path_factory: pytest.TempPathFactory):
    duckdb_path = tmp_path_factory.mktemp("dbt_generated") / "c360.duckdb"
    result = build_models(duckdb_path=duckdb_path, raw_root=generated_home / "raw")
    return duckdb_path, result


def _generated_client_ids(landing: Path) -> set[int]:
    ids = set()
    for path in sorted((landing / "mainframe").glob("client*.asc")):
        with path.open(newline="", encoding="latin-1") as handle:
            ids |= {int(row["client_id"]) for row in csv.DictReader(handle, delimiter=";")}
    return ids


def test_every_model_and_test_passes(built):
    _, result = built
    assert result.counts.get("model", 0) >= 30
    assert result.counts.get("test", 0) >= 200
    assert result.counts.get("unit_test", 0) >= 10


def test_marts_have_one_row_per_generated_client(built, generated_home: Path):
    duckdb_path, _ = built
    clients = _generated_client_ids(generated_home.parent / "landing")
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        for mart in MARTS:
            ids = {r[0] for r in con.execute(f"select client_id from marts.{mart}").fetchall()}
            assert ids == clients, mart


def test_default_as_of_is_the_latest_event(built):
    duckdb_path, _ = built
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        latest = con.execute(
            "select greatest((select max(transaction_date) from staging.stg_mainframe__transactions),"
            " (select max(session_date) from staging.stg_ga__sessions))").fetchone()[0]
    assert resolve_as_of(duckdb_path) == latest


def test_marts_are_filled_not_just_present(built):
    duckdb_path, _ = built
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        n_with_transactions, n_with_accounts = con.execute(
            "select count(*) filter (where n_transactions > 0),"
            " count(*) filter (where n_accounts_owned + n_accounts_disponent > 0)"
            " from marts.customer_360").fetchone()
        tiers = dict(con.execute(
            "select loyalty_tier, count(*) from marts.customer_loyalty group by 1").fetchall())
    assert n_with_transactions > 0 and n_with_accounts > 0
    assert sum(tiers.values()) > 0 and set(tiers) <= {"platinum", "gold", "silver", "bronze"}


def test_docs_generate_describes_every_model_and_mart_column(built, tmp_path: Path):
    duckdb_path, result = built
    target = generate_docs(duckdb_path=duckdb_path, raw_root=result.raw_root, target_path=tmp_path / "docs")
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    problems = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed"):
            continue
        if not node.get("description", "").startswith("One row"):
            problems.append(f"{unique_id}: description does not start with its grain")
        for column in catalog["nodes"][unique_id]["columns"]:
            if not (node["columns"].get(column) or {}).get("description"):
                problems.append(f"{unique_id}.{column}: no description")
    assert not problems
