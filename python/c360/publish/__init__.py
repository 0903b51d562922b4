"""Publishing: analysts query `<home>/c360.duckdb`; a build never writes to it.

Every run builds into a new file, `<home>/builds/<build id>.duckdb`. Only when every gate
has passed is that file made the published one, in one `os.replace` (an atomic rename on
the same file system): a reader sees either the previous complete database or the new
complete one, never a half-written file, and never a lock held by the build. A reader that
already had the old file open keeps reading the old version (its open file survives the
rename) until it reconnects.

The published database is self-contained. dbt builds staging (and some quality models) as
views over the raw zone's Parquet files; a view would read whatever the raw zone holds at
query time, new ungated batches included. Publishing therefore freezes every view of the
analyst schemas (staging, intermediate, marts) into a table holding exactly the data the gates
passed, and drops the `raw_*` schemas of source views, in the build file, before the swap.

What is published is described twice, written in the same step:
  * inside the database, table `c360_meta.version` (one row), so a query can tell which
    version it reads;
  * beside it, `<home>/c360.json` (written atomically after the swap), which `c360 status`
    reads without opening the database.

Failed builds: the file of the latest failed build is kept in `<home>/builds/` to debug
with `duckdb -readonly`; older ones are removed at the start of the next run.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from c360.publish.serving import build_serving

PUBLISHED_NAME = "c360.duckdb"
METADATA_NAME = "c360.json"
VERSION_TABLE = "c360_meta.version"
FROZEN_SCHEMAS = ("staging", "intermediate", "marts")
CARRIED_SCHEMAS = ("snapshots",)     # history a full refresh keeps (see start_build)


class PublishError(RuntimeError):
    """The build file cannot be published (still open, has a WAL, or is not a DuckDB file)."""


@dataclass
class PublishedVersion:
    build_id: str
    as_of_date: str | None
    batches: list[str]
    built_at: str                    # UTC, when the build started
    build_seconds: float
    gates: dict = field(default_factory=dict)   # gate -> summary (passed, counts, warnings)
    docs: str | None = None
    published_at: str | None = None
    database: str | None = None

    def describe(self) -> str:
        lines = [
            f"published       {self.database}",
            f"  build         {self.build_id} (built {self.built_at} in {self.build_seconds:.1f} s,"
            f" published {self.published_at})",
            f"  as of         {self.as_of_date}",
            f"  batches       {len(self.batches)}: {', '.join(self.batches)}",
        ]
        for gate, summary in self.gates.items():
            verdict = "passed" if summary.get("passed") else "FAILED"
            lines.append(f"  {gate + ' gate':<13} {verdict}: {summary.get('expectations', 0)} expectations,"
                         f" {len(summary.get('warnings', []))} warnings")
            for warning in summary.get("warnings", []):
                where = f" [{warning['condition']}]" if warning.get("condition") else ""
                lines.append(f"                warn {warning['suite']} {warning['expectation']}"
                             f"({warning.get('column')}){where}: {warning['observed']}")
        if self.docs:
            lines.append(f"  docs          {self.docs}")
        return "\n".join(lines)


def published_path(home: Path) -> Path:
    return Path(home) / PUBLISHED_NAME


def new_build_path(home: Path, build_id: str) -> Path:
    builds = Path(home) / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    return builds / f"{build_id}.duckdb"


def start_build(home: Path, build_path: Path, *, full_refresh: bool = False) -> str:
    """Seed a new build file with the state its incremental models continue from.

    An incremental build (dbt incremental models: transactions, GA, the per-client transaction
    figures; the CRM history snapshot) needs the tables of the version it follows. It starts as
    a copy of the published database, written under a temporary name and renamed into place:
    the published file is only read, so readers are never disturbed and the swap in `publish`
    stays the one moment they change versions. A failed run leaves the published file as it
    was, and the next run copies it again and takes every batch landed since.

    With `full_refresh` (or when nothing is published yet) the build starts empty except for
    the snapshots schema: every model is rebuilt from the raw zone, but the CRM history a
    snapshot has accumulated cannot be, so it is carried over. Returns what the build
    started from, for the run record.
    """
    build_path, published = Path(build_path), published_path(home)
    build_path.parent.mkdir(parents=True, exist_ok=True)
    if not published.exists():
        return "an empty database (nothing published yet)"
    if full_refresh:
        with duckdb.connect(str(build_path)) as con:
            con.execute(f"attach '{_sql_text(published)}' as published (read_only)")
            tables = con.execute("select schema_name, table_name from duckdb_tables()"
                                 " where database_name = 'published' and schema_name in"
                                 f" ({', '.join('?' for _ in CARRIED_SCHEMAS)})", list(CARRIED_SCHEMAS)).fetchall()
            for schema, table in tables:
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(f'create table "{schema}"."{table}" as select * from published."{schema}"."{table}"')
            con.execute("detach published")
        return f"an empty database with the snapshot history of {published} ({len(tables)} tables)"
    temporary = build_path.with_name(build_path.name + ".copying")
    shutil.copyfile(published, temporary)
    os.replace(temporary, build_path)
    return f"a copy of {published}"


def remove_old_builds(home: Path, keep: Path | None = None) -> None:
    """Remove what earlier runs left in `<home>/builds/` (databases, dbt artifacts)."""
    builds = Path(home) / "builds"
    if not builds.is_dir():
        return
    for path in builds.iterdir():
        if keep is not None and path.name.startswith(keep.stem):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def publish(build_path: Path, home: Path, version: PublishedVersion) -> Path:
    """Stamp the build with its version, then swap it in as `<home>/c360.duckdb`."""
    build_path, home = Path(build_path), Path(home)
    target = published_path(home)
    version.published_at = _utc_now()
    version.database = str(target)
    try:
        with duckdb.connect(str(build_path)) as con:
            freeze_views(con)
            con.execute("create schema if not exists c360_meta")
            con.execute(f"create or replace table {VERSION_TABLE} (build_id varchar, as_of_date date,"
                        " batches varchar[], built_at timestamp, build_seconds double,"
                        " published_at timestamp, gates json)")
            con.execute(f"insert into {VERSION_TABLE} values (?, ?, ?, ?, ?, ?, ?)", [
                version.build_id, version.as_of_date, version.batches,
                version.built_at.rstrip("Z"), version.build_seconds,
                version.published_at.rstrip("Z"), json.dumps(version.gates, default=str)])
            build_serving(con)              # the layout `c360 serve` reads (publish/serving.py)
            con.execute("checkpoint")
    except duckdb.Error as error:
        raise PublishError(f"{build_path}: cannot stamp the build for publishing: {error}") from error
    wal = build_path.with_name(build_path.name + ".wal")
    if wal.exists():
        raise PublishError(f"{build_path}: a write-ahead log is still beside it ({wal}); "
                           "the build was not closed cleanly")
    _fsync(build_path)
    os.replace(build_path, target)          # the publish: atomic on one file system
    _fsync(target.parent)
    _write_json_atomic(home / METADATA_NAME, asdict(version))
    return target


def freeze_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Turn every view of the analyst schemas into a table of its current rows; drop the
    schemas of raw-zone source views. Returns the relations frozen."""
    frozen = []
    views = con.execute(
        "select schema_name, view_name from duckdb_views() where not internal and schema_name in"
        f" ({', '.join('?' for _ in FROZEN_SCHEMAS)}) order by all", list(FROZEN_SCHEMAS)).fetchall()
    for schema, name in views:
        relation, temporary = f'"{schema}"."{name}"', f'"{schema}"."__c360_frozen_{name}"'
        con.execute(f"create table {temporary} as select * from {relation}")
        con.execute(f"drop view {relation}")
        con.execute(f'alter table {temporary} rename to "{name}"')
        frozen.append(f"{schema}.{name}")
    raw_schemas = con.execute("select distinct schema_name from duckdb_views()"
                              " where not internal and schema_name like 'raw\\_%' escape '\\'").fetchall()
    for (schema,) in raw_schemas:
        con.execute(f'drop schema "{schema}" cascade')
    return frozen


def read_published(home: Path) -> PublishedVersion | None:
    """The published version, from `<home>/c360.json`; None when nothing was published."""
    metadata = Path(home) / METADATA_NAME
    if not published_path(home).exists() or not metadata.exists():
        return None
    return PublishedVersion(**json.loads(metadata.read_text()))


def read_version_table(database: Path) -> dict | None:
    """The version row inside a published database (opened read-only)."""
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(f"select * from {VERSION_TABLE}").fetchone()
        columns = [d[0] for d in con.description]
    return dict(zip(columns, row)) if row else None


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


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")


def _utc_now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
