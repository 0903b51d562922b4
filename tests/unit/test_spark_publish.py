"""Publishing a Spark build (Parquet folders, a `current` pointer) without starting Spark: the
catalog holds no view to freeze, so a stand-in with an empty catalog is enough."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from c360.publish import PublishedVersion
from c360.engines.spark import spark_sql
from c360.spark.publish import (
    duckdb_views, parquet_glob, publish_spark_build, published_spark_dir, published_tables,
    read_published_spark, remove_old_spark_builds,
)


class _EmptyCatalog:
    def databaseExists(self, name: str) -> bool:  # noqa: N802 - pyspark's spelling
        return False


class _SparkWithoutViews:
    catalog = _EmptyCatalog()


def _build(home: Path, build_id: str, clients: list[int]) -> Path:
    folder = home / "spark" / "builds" / build_id
    (folder / "marts" / "customer_360").mkdir(parents=True)
    pq.write_table(pa.table({"client_id": pa.array(clients, pa.int32())}),
                   folder / "marts" / "customer_360" / "part-00000.parquet")
    partitioned = folder / "staging" / "stg_mainframe__transactions" / "transaction_date=1998-12-01"
    partitioned.mkdir(parents=True)
    pq.write_table(pa.table({"trans_id": [1, 2]}), partitioned / "part-00000.parquet")
    return folder


def _version(build_id: str) -> PublishedVersion:
    return PublishedVersion(build_id=build_id, as_of_date="1998-12-31", batches=["b1"],
                            built_at="2026-01-01T00:00:00Z", build_seconds=1.0)


def test_publishing_swaps_current_and_duckdb_reads_the_published_parquet(tmp_path: Path):
    first = _build(tmp_path, "run-1", [1, 2, 3])
    publish_spark_build(_SparkWithoutViews(), first, tmp_path, _version("run-1"))
    assert published_spark_dir(tmp_path) == first.resolve()
    assert read_published_spark(tmp_path).build_id == "run-1"

    second = _build(tmp_path, "run-2", [1, 2])
    publish_spark_build(_SparkWithoutViews(), second, tmp_path, _version("run-2"))
    assert published_spark_dir(tmp_path) == second.resolve()
    assert (first / "marts" / "customer_360" / "part-00000.parquet").exists(), "a publish deletes nothing"
    assert (second / "_c360_version.json").exists()

    with duckdb.connect() as con:
        assert set(duckdb_views(con, tmp_path)) == {"marts.customer_360", "staging.stg_mainframe__transactions"}
        assert con.execute("select count(*) from marts.customer_360").fetchone()[0] == 2
        # a table Spark partitioned by date reads with its partition column back
        assert con.execute("select count(*), min(transaction_date) from staging.stg_mainframe__transactions"
                           ).fetchone() == (2, date(1998, 12, 1))


def test_old_builds_are_removed_but_never_the_published_one(tmp_path: Path):
    published = _build(tmp_path, "run-1", [1])
    publish_spark_build(_SparkWithoutViews(), published, tmp_path, _version("run-1"))
    failed = _build(tmp_path, "run-2", [1])
    (tmp_path / "spark" / "builds" / "run-2_dbt").mkdir()
    removed = remove_old_spark_builds(tmp_path)
    assert {p.name for p in removed} == {"run-2", "run-2_dbt"}
    assert published.is_dir() and not failed.exists()


def test_a_build_folder_lists_its_tables_and_their_globs(tmp_path: Path):
    folder = _build(tmp_path, "run-1", [1])
    tables = published_tables(folder)
    assert sorted(tables) == ["marts.customer_360", "staging.stg_mainframe__transactions"]
    assert parquet_glob(tables["marts.customer_360"])[1] is False
    glob, partitioned = parquet_glob(tables["staging.stg_mainframe__transactions"])
    assert partitioned and glob.endswith("**/*.parquet")


def test_suite_sql_written_for_duckdb_reads_as_spark_sql():
    sql = "select quantile_cont(e.engagement_score, 0.5) as median_engagement_score from e"
    assert spark_sql(sql) == ("select percentile_cont(0.5) within group (order by e.engagement_score)"
                              " as median_engagement_score from e")
