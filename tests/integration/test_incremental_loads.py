"""Incremental delta loads on a tiny generated bank, built the way `c360 run` builds: each run
lands the new files, starts its build from the published database (`start_build`), builds
incrementally and publishes. After a base load, two deltas (new days, new clients and cards,
CRM updates, nightly re-deliveries with missed and corrected records) and a hand-made
correction, every table equals a full refresh; a run with nothing new changes nothing; the
correction changes its client's amounts and nothing else; the CRM snapshot keeps both
versions of an updated client."""
from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from c360.build import DbtBuildError, build_models
from c360.generate import generate_dataset, generate_delta
from c360.land import land_directory
from c360.publish import PublishedVersion, publish, published_path, read_published, start_build

pytestmark = pytest.mark.slow

SCALE = 0.01
SEED = 11
NO_DBT_TESTS = "resource_type:test resource_type:unit_test"   # dbt tests run in the correction build
MARTS = ("customer_360", "customer_loyalty", "customer_demographic", "customer_engagement")
AMOUNTS = {  # the mart columns a transaction's amount feeds
    "customer_360": {"credit_amount_czk_last_90d", "debit_amount_czk_last_90d"},
    "customer_loyalty": {f"{flow}_amount_czk_last_{days}d" for flow in ("credit", "debit", "avg_credit", "avg_debit")
                         for days in (90, 180)},
    "customer_demographic": set(),
    "customer_engagement": set(),
}


class Bank:
    """A landing folder and a home, run through land -> start_build -> build -> publish."""

    def __init__(self, root: Path):
        self.root, self.landing, self.home = root, root / "landing", root / "home"
        self.versions: dict[str, Path] = {}

    def run(self, name: str, *, dbt_tests: bool = False) -> Path:
        land_directory(self.landing, self.home)
        # One build path for every run (c360 run names it by run id): dbt then re-parses nothing.
        build = self.home / "builds" / "build.duckdb"
        build.parent.mkdir(parents=True, exist_ok=True)
        start_build(self.home, build)
        published = read_published(self.home)
        build_models(duckdb_path=build, raw_root=self.home / "raw", target_path=self.root / "dbt",
                     exclude=None if dbt_tests else NO_DBT_TESTS,
                     changed_since_batch=max(published.batches) if published else None)
        batches = sorted(p.stem.removeprefix("batch=") for p in (self.home / "raw" / "_manifests").glob("*.json"))
        publish(build, self.home, PublishedVersion(name, None, batches, "2026-01-01T00:00:00Z", 0.0))
        self.versions[name] = self.root / f"{name}.duckdb"
        shutil.copyfile(published_path(self.home), self.versions[name])
        return self.versions[name]

    def full_refresh(self, name: str) -> Path:
        """`c360 run --full-refresh`: everything from the raw zone, the snapshot carried over."""
        build = self.root / f"{name}.duckdb"
        start_build(self.home, build, full_refresh=True)
        build_models(duckdb_path=build, raw_root=self.home / "raw", target_path=self.root / "dbt",
                     exclude=NO_DBT_TESTS, full_refresh=True)
        self.versions[name] = build
        return build


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    bank = Bank(tmp_path_factory.mktemp("incremental"))
    generate_dataset(bank.landing, SCALE, seed=SEED)
    bank.run("base")
    generate_delta(bank.landing, 1, seed=SEED)
    bank.run("delta1")
    generate_delta(bank.landing, 2, seed=SEED)
    bank.run("delta2")
    bank.corrected = _deliver_correction(bank)
    bank.run("correction", dbt_tests=True)
    bank.run("rerun")
    bank.full_refresh("full_refresh")
    return bank


def _deliver_correction(bank: Bank) -> dict:
    """A hand-made re-delivery: one cash transaction of the latest day with its amount raised
    by 1,000 CZK, and the balances after it on that account and day raised with it."""
    with duckdb.connect(str(bank.versions["delta2"]), read_only=True) as con:
        trans_id, account_id, day, client_id = con.execute("""
            select t.trans_id, t.account_id, t.transaction_date, o.client_id
            from staging.stg_mainframe__transactions t
            join intermediate.int_transactions_joined_to_owners o using (trans_id)
            where t.operation_code in ('VKLAD', 'VYBER')
              and t.transaction_date = (select max(transaction_date) from staging.stg_mainframe__transactions)
            order by t.trans_id limit 1""").fetchone()
    rows = _latest_raw_rows(bank, account_id, day)
    position = next(i for i, row in enumerate(rows) if int(row["trans_id"]) == trans_id)
    sign = 1 if rows[position]["type"] == "PRIJEM" else -1
    rows[position]["amount"] = f"{float(rows[position]['amount']) + 1000:.2f}"
    for row in rows[position:]:
        row["balance"] = f"{float(row['balance']) + sign * 1000:.2f}"
    header = list(rows[0])
    text = ";".join(f'"{c}"' for c in header) + "\r\n"
    for row in rows:
        text += ";".join(_berka(c, row[c]) for c in header) + "\r\n"
    # named to sort after that day's nightly re-delivery: landing every file at once would take
    # the later name as the later delivery
    (bank.landing / "mainframe" / f"trans_{day:%Y%m%d}_redelivery_correction.asc").write_bytes(text.encode("ascii"))
    return {"trans_id": trans_id, "client_id": client_id, "day": day}


def _latest_raw_rows(bank: Bank, account_id: int, day: date) -> list[dict]:
    """The account's records of `day` as last delivered (later file names are later deliveries)."""
    latest: dict[str, dict] = {}
    for path in sorted((bank.landing / "mainframe").glob("trans*.asc")):
        with path.open(newline="", encoding="ascii") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                if row["account_id"] == str(account_id) and row["date"] == f"{day:%y%m%d}":
                    latest[row["trans_id"]] = row
    return sorted(latest.values(), key=lambda r: int(r["trans_id"]))


def _berka(column: str, value: str) -> str:
    """A field as the mainframe writes it: numbers and dates bare, text quoted, empty empty."""
    if column in ("trans_id", "account_id", "date", "amount", "balance") or value == "":
        return value
    return f'"{value}"'


# --- comparing databases -------------------------------------------------------------------------

def _tables(path: Path, schemas=("staging", "intermediate", "marts", "snapshots")) -> list[tuple[str, str]]:
    """Tables and views (a published build has frozen its views into tables)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"""select table_schema, table_name from information_schema.tables
                               where table_schema in ({', '.join(f"'{s}'" for s in schemas)})
                               order by all""").fetchall()


def _differences(a: Path, b: Path, schemas=("staging", "intermediate", "marts", "snapshots"),
                 ignore: set[str] = frozenset()) -> dict[str, tuple[int, int]]:
    """Rows only in a, rows only in b, per table (ignoring the `ignore` columns)."""
    assert _tables(a, schemas) == _tables(b, schemas)
    assert a.stem != b.stem
    con = duckdb.connect()
    for path in (a, b):  # attached under their own names: an unpublished build's views name them
        con.execute(f"attach '{path}' as \"{path.stem}\" (read_only)")
    found = {}
    for schema, table in _tables(a, schemas):
        columns = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_catalog = ? and table_schema = ?"
            " and table_name = ? order by ordinal_position", [a.stem, schema, table]).fetchall() if c not in ignore]
        listed = ", ".join(f'"{c}"' for c in columns)
        only = [con.execute(f'select count(*) from (select {listed} from "{x.stem}".{schema}.{table}'
                            f' except all select {listed} from "{y.stem}".{schema}.{table})').fetchone()[0]
                for x, y in ((a, b), (b, a))]
        if any(only):
            found[f"{schema}.{table}"] = tuple(only)
    con.close()
    return found


def _rows(path: Path, relation: str) -> dict[int, dict]:
    with duckdb.connect(str(path), read_only=True) as con:
        result = con.execute(f"select * from {relation}")
        columns = [d[0] for d in result.description]
        return {row[0]: dict(zip(columns, row)) for row in result.fetchall()}


# --- the tests --------------------------------------------------------------------------------------

def test_every_table_after_deltas_equals_a_full_refresh_of_the_same_raw_zone(bank: Bank):
    # built_from_batch_id says which run last recomputed a client's transaction figures
    assert _differences(bank.versions["rerun"], bank.versions["full_refresh"], ignore={"built_from_batch_id"}) == {}


def test_the_deltas_were_loaded_incrementally(bank: Bank):
    """The deltas added days without rebuilding the history: the base's rows kept their batch."""
    with duckdb.connect(str(bank.versions["delta2"]), read_only=True) as con:
        batches = con.execute("""select count(distinct batch_id), max(transaction_date)
                                 from staging.stg_mainframe__transactions""").fetchone()
        base_rows = con.execute("""select count(*) from staging.stg_mainframe__transactions
                                   where batch_id = (select min(batch_id) from staging.stg_mainframe__transactions)
                                   """).fetchone()[0]
    assert batches == (3, date(1999, 1, 3))
    assert base_rows > 0.9 * _rows_in(bank.versions["base"], "staging.stg_mainframe__transactions")


def _rows_in(path: Path, relation: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select count(*) from {relation}").fetchone()[0]


def test_running_again_with_nothing_new_changes_no_table(bank: Bank):
    assert _differences(bank.versions["correction"], bank.versions["rerun"]) == {}


def test_a_correction_changes_the_clients_amounts_and_nothing_else(bank: Bank):
    corrected = bank.corrected
    changed = {}
    for mart in MARTS:
        before = _rows(bank.versions["delta2"], f"marts.{mart}")
        after = _rows(bank.versions["correction"], f"marts.{mart}")
        assert before.keys() == after.keys()
        for client_id in before:
            columns = {c for c in before[client_id] if before[client_id][c] != after[client_id][c]}
            if columns:
                changed[(mart, client_id)] = columns
    assert {client for _, client in changed} == {corrected["client_id"]}
    for (mart, _), columns in changed.items():
        assert columns <= AMOUNTS[mart], (mart, columns)
    assert changed[("customer_360", corrected["client_id"])]
    # only that client's transaction figures were recomputed (as_of_date did not move)
    with duckdb.connect(str(bank.versions["correction"]), read_only=True) as con:
        recomputed = con.execute("""select client_id from intermediate.int_transactions_aggregated_to_clients
                                    where built_from_batch_id = (select max(built_from_batch_id)
                                    from intermediate.int_transactions_aggregated_to_clients)""").fetchall()
    assert recomputed == [(corrected["client_id"],)]


def test_the_snapshot_keeps_both_versions_of_an_updated_crm_client(bank: Bank):
    records = [json.loads(line) for path in sorted((bank.landing / "crm").glob("*.json"))
               for line in path.read_text().splitlines()]
    base = {r["client_id"]: r for r in records if r["updated_at"] < "1999"}
    update = next(r for r in records if r["updated_at"].startswith("1999-01-01") and r["client_id"] in base)
    earlier = base[update["client_id"]]
    with duckdb.connect(str(bank.versions["delta1"]), read_only=True) as con:
        versions = con.execute("""select marital_status_code, occupation, dbt_valid_from, dbt_valid_to
                                  from snapshots.crm_clients_snapshot where client_id = ?
                                  order by dbt_valid_from""", [update["client_id"]]).fetchall()
        in_mart = con.execute("select occupation, crm_updated_at from marts.customer_demographic"
                              " where client_id = ?", [update["client_id"]]).fetchone()
    changed_at = datetime.fromisoformat(update["updated_at"])
    assert versions == [
        (earlier["marital_status"], earlier["occupation"], datetime.fromisoformat(earlier["updated_at"]), changed_at),
        (update["marital_status"], update["occupation"], changed_at, None),
    ]
    assert in_mart == (update["occupation"], changed_at)  # valid at as_of_date (1999-01-01)


def test_a_delivery_older_than_the_lookback_window_stops_the_incremental_run(bank: Bank, tmp_path: Path):
    home = tmp_path / "home"
    shutil.copytree(bank.home, home, ignore=shutil.ignore_patterns("builds", "*.lock"))
    landing = tmp_path / "landing"
    (landing / "mainframe").mkdir(parents=True)
    old_day = date(1999, 1, 3) - timedelta(days=10)
    source = sorted((bank.landing / "mainframe").glob("trans_199812.asc"))[0].read_text().splitlines()
    old = next(line for line in source[1:] if line.split(";")[2] == f"{old_day:%y%m%d}")
    (landing / "mainframe" / "trans_late.asc").write_text(f"{source[0]}\r\n{old}\r\n")
    land_directory(landing, home)
    build = home / "builds" / "late.duckdb"
    start_build(home, build)
    with pytest.raises(DbtBuildError, match="incremental_lookback_days"):
        build_models(duckdb_path=build, raw_root=home / "raw", target_path=tmp_path / "dbt",
                     exclude=NO_DBT_TESTS, select="stg_mainframe__transactions")
