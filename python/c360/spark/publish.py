"""Publishing a Spark build: Parquet folders that DuckDB (or Spark, or pandas) reads.

Layout, under `<home>/spark/`:

    builds/<build id>/<schema>/<table>/part-*.parquet   the tables of one build (dbt writes
                                                       them there: macros/spark/spark_storage.sql;
                                                       schemas staging, intermediate, marts and
                                                       snapshots)
    builds/<build id>/_c360_version.json               what the build is (as c360_meta.version)
    builds/<build id>_dbt/                             dbt's artifacts and logs of the build
    current -> builds/<build id>                       the published build (a symlink)
    c360.json                                          what is published (as <home>/c360.json)

A build never writes into a published folder: every build gets a new one. Publishing freezes
the build's views (staging, intermediate, marts) into Parquet folders beside its tables (a
view would need the Spark catalog and the raw zone at query time), writes the version, then
swaps `current` to the new folder in one `os.replace` of a symlink (atomic on POSIX): a
reader resolving `current/...` sees the previous complete build or the new complete one,
never a part of one. Earlier builds are removed at the start of a later run, never the one
`current` points to.

Query the published marts from DuckDB:

    select * from read_parquet('<home>/spark/current/marts/customer_360/*.parquet')

(a table partitioned on Spark, e.g. staging transactions by date: `.../<table>/**/*.parquet`
with `hive_partitioning = true`), or `duckdb_views(con, home)` for views named like the DuckDB
build's (marts.customer_360).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from c360.publish import PublishedVersion

SCHEMAS = ("staging", "intermediate", "marts", "snapshots")
# The history a later build continues from (the DuckDB build carries the same schema over).
CARRIED_SCHEMAS = ("snapshots",)
CURRENT = "current"
METADATA_NAME = "c360.json"
VERSION_FILE = "_c360_version.json"


class SparkPublishError(RuntimeError):
    """The Spark build cannot be published (not built, a table missing, a write failed)."""


def spark_home(home: Path) -> Path:
    return Path(home) / "spark"


def new_spark_build_dir(home: Path, build_id: str) -> Path:
    """The folder a new Spark build writes its tables to (created by the build)."""
    builds = spark_home(home) / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    return builds / build_id


def published_spark_dir(home: Path) -> Path | None:
    """The published build's folder (what `current` points to), None when none is."""
    current = spark_home(home) / CURRENT
    return current.resolve() if current.is_symlink() and current.resolve().is_dir() else None


def remove_old_spark_builds(home: Path, keep: Path | None = None) -> list[Path]:
    """Remove earlier builds (and their dbt folders), except the published one and `keep`."""
    builds = spark_home(home) / "builds"
    if not builds.is_dir():
        return []
    kept = {p.name for p in (published_spark_dir(home), keep) if p is not None}
    removed = []
    for path in sorted(builds.iterdir()):
        if path.name in kept or path.name.removesuffix("_dbt") in kept:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def freeze_views(spark, build_dir: Path, schemas: tuple[str, ...] = SCHEMAS) -> list[str]:
    """Write every view of the analyst schemas as a Parquet folder `<build_dir>/<schema>/<view>`."""
    frozen = []
    for schema in schemas:
        if not spark.catalog.databaseExists(schema):
            continue
        for table in spark.catalog.listTables(schema):
            if table.tableType != "VIEW" or table.isTemporary:
                continue
            target = Path(build_dir) / schema / table.name
            if target.exists():
                raise SparkPublishError(f"{target} exists: cannot freeze view {schema}.{table.name} there")
            spark.table(f"`{schema}`.`{table.name}`").write.parquet(str(target))
            frozen.append(f"{schema}.{table.name}")
    return frozen


def published_tables(build_dir: Path) -> dict[str, Path]:
    """`<schema>.<table>` -> its Parquet folder, for every table of a build folder (a table
    partitioned by a column, `partition_by` on Spark, keeps its files in `<column>=<value>/`
    sub-folders)."""
    tables = {}
    for schema in SCHEMAS:
        for folder in sorted((Path(build_dir) / schema).glob("*")):
            if folder.is_dir() and next(folder.rglob("*.parquet"), None) is not None:
                tables[f"{schema}.{folder.name}"] = folder
    return tables


def parquet_glob(folder: Path) -> tuple[str, bool]:
    """The glob of a table folder's Parquet files, and whether it is hive-partitioned."""
    partitioned = next(Path(folder).glob("*=*/"), None) is not None
    return str(Path(folder) / ("**/*.parquet" if partitioned else "*.parquet")), partitioned


def publish_spark_build(spark, build_dir: Path, home: Path, version: PublishedVersion) -> Path:
    """Freeze the views, stamp the version, swap `<home>/spark/current` to `build_dir`."""
    build_dir, home = Path(build_dir).resolve(), Path(home).resolve()
    root = spark_home(home)
    if build_dir.parent != (root / "builds").resolve():
        raise SparkPublishError(f"{build_dir} is not a build folder of {root / 'builds'}")
    try:
        freeze_views(spark, build_dir)
    except SparkPublishError:
        raise
    except Exception as error:
        raise SparkPublishError(f"{build_dir}: cannot freeze the views: {error}") from error
    tables = published_tables(build_dir)
    missing = [m for m in ("marts.customer_360",) if m not in tables]
    if missing:
        raise SparkPublishError(f"{build_dir} has no {', '.join(missing)}: nothing to publish")

    version.published_at = _utc_now()
    version.database = str(root / CURRENT)
    body = asdict(version) | {"build_dir": str(build_dir), "tables": sorted(tables)}
    _write_json_atomic(build_dir / VERSION_FILE, body)
    _flush_to_disk(build_dir)

    current, temporary = root / CURRENT, root / f".{CURRENT}.tmp"
    temporary.unlink(missing_ok=True)
    os.symlink(os.path.relpath(build_dir, root), temporary)
    os.replace(temporary, current)             # the publish: atomic on one file system
    _fsync(root)
    _write_json_atomic(root / METADATA_NAME, body)
    return current


def read_published_spark(home: Path) -> PublishedVersion | None:
    """The published Spark version, from `<home>/spark/c360.json`; None when none is."""
    metadata = spark_home(home) / METADATA_NAME
    if published_spark_dir(home) is None or not metadata.exists():
        return None
    body = json.loads(metadata.read_text())
    known = set(PublishedVersion.__dataclass_fields__)
    return PublishedVersion(**{k: v for k, v in body.items() if k in known})


def duckdb_views(con, home: Path | None = None, *, build_dir: Path | None = None) -> list[str]:
    """Create views `<schema>.<table>` in a DuckDB connection over the published Spark build
    (or over `build_dir`). The views read the resolved build folder, so a connection keeps
    reading one version even when a newer one is published meanwhile."""
    folder = Path(build_dir) if build_dir else published_spark_dir(home)
    if folder is None:
        raise SparkPublishError(f"nothing published under {spark_home(home)}")
    created = []
    for name, path in published_tables(folder.resolve()).items():
        schema, table = name.split(".")
        con.execute(f'create schema if not exists "{schema}"')
        glob, partitioned = parquet_glob(path)
        glob = glob.replace("'", "''")
        con.execute(f"create or replace view \"{schema}\".\"{table}\" as select * from"
                    f" read_parquet('{glob}', hive_partitioning = {str(partitioned).lower()})")
        created.append(name)
    return created


def forget_build_catalog(spark, schemas: tuple[str, ...] = SCHEMAS) -> list[str]:
    """Drop the previous build's external tables and views from `spark`'s catalog (their
    files stay where they are), so a new build in the same session starts from nothing but
    what `carry_over_snapshots` registers. Managed tables are left alone."""
    forgotten = []
    for schema in schemas:
        if not spark.catalog.databaseExists(schema):
            continue
        for table in spark.catalog.listTables(schema):
            if table.isTemporary or table.tableType not in ("EXTERNAL", "VIEW"):
                continue
            kind = "view" if table.tableType == "VIEW" else "table"
            spark.sql(f"drop {kind} if exists `{schema}`.`{table.name}`")
            forgotten.append(f"{schema}.{table.name}")
    return forgotten


def carry_over_snapshots(spark, home: Path) -> list[str]:
    """Register the published build's snapshot tables (the CRM history) in `spark`'s catalog:
    the new build's snapshot step continues that history into its own folder."""
    published = published_spark_dir(home)
    if published is None:
        return []
    return attach_spark_build(spark, published, schemas=CARRIED_SCHEMAS)


def attach_spark_build(spark, build_dir: Path, schemas: tuple[str, ...] = SCHEMAS) -> list[str]:
    """Register every table folder of a build as an external table in `spark`'s catalog
    (re-gate or query a published build from a new session)."""
    attached = []
    for name, path in published_tables(Path(build_dir).resolve()).items():
        schema, table = name.split(".")
        if schema not in schemas:
            continue
        spark.sql(f"create schema if not exists `{schema}`")
        spark.sql(f"drop view if exists `{schema}`.`{table}`")
        spark.sql(f"create table if not exists `{schema}`.`{table}` using parquet location '{path}'")
        if parquet_glob(path)[1]:      # a partitioned table lists its partitions in the catalog
            spark.sql(f"alter table `{schema}`.`{table}` recover partitions")
        attached.append(name)
    return attached


def _write_json_atomic(path: Path, body: dict) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w") as handle:
        handle.write(json.dumps(body, indent=2, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush_to_disk(folder: Path) -> None:
    """Flush the build's files to disk before the pointer swap (one `sync`: a build has a file
    per table partition, thousands for a table partitioned by day)."""
    os.sync()
    _fsync(folder)


def _utc_now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
