"""`dbt build --target spark` as a function: the same project, the same raw Parquet zone.

The build runs dbt-spark's `session` method in this process, on the SparkSession the caller
started (`c360.spark.session.local_session()`); dbt-spark finds it with `getOrCreate()`.

What differs from the DuckDB build (python/c360/build):
  * Where the tables go: `build_dir/<schema>/<table>/` (Parquet, external tables; the var
    `spark_location_root`, see macros/spark/spark_storage.sql). A build is always a complete
    build into a new folder, hence `--full-refresh` (incremental models are rebuilt whole).
  * The raw zone: the on-run-start hook registers `raw_<source>.<table>` views over the same
    globs; Spark SQL cannot test whether a glob matches files, so this function lists the raw
    tables that have files (through Hadoop's file system, so `s3a://` roots work too) and
    passes them as the var `raw_tables_present`.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from c360.build.runner import (
    PROJECT_DIR, SELECT_BEFORE_MARTS, SELECT_MARTS, DbtBuildError, NodeFailure, validate_as_of,
)
# dbt's programmatic runner is not re-entrant: one lock for every dbt invocation in the process.
from c360.build.runner import _DBT_LOCK

TARGET = "spark"
_FAILED = {"error", "fail", "runtime error"}

__all__ = ["SELECT_BEFORE_MARTS", "SELECT_MARTS", "SparkBuildResult", "build_on_spark",
           "raw_tables_present", "resolve_as_of_on_spark"]


@dataclass
class SparkBuildResult:
    build_dir: str                     # the tables: <build_dir>/<schema>/<table>/
    raw_root: str
    as_of: str | None
    select: str | None
    exclude: str | None
    target_path: Path
    seconds: float
    raw_tables: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
        scope = f" --select {self.select}" if self.select else ""
        scope += f" --exclude {self.exclude}" if self.exclude else ""
        lines = [f"dbt build --target spark{scope} -> {self.build_dir} ({counts}; {self.seconds:.1f}s)"]
        lines.extend(f"  warn {w}" for w in self.warnings)
        return "\n".join(lines)


def raw_tables_present(spark, raw_root: str | Path) -> list[str]:
    """`<source>.<table>` of every raw table with at least one Parquet file under `raw_root`
    (the raw zone layout: <raw_root>/<source>/<table>/batch=<id>/<file>.parquet)."""
    pattern = f"{_uri(raw_root)}/*/*/batch=*/*.parquet"
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(pattern)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    statuses = fs.globStatus(path) or []
    tables = set()
    for status in statuses:
        parts = str(status.getPath().toString()).rstrip("/").split("/")
        source, table = parts[-4], parts[-3]
        if not source.startswith("_"):
            tables.add(f"{source}.{table}")
    return sorted(tables)


def build_on_spark(spark, *, build_dir: str | Path, raw_root: str | Path,
                   as_of: str | date | None = None, select: str | None = None,
                   exclude: str | None = None, project_dir: Path = PROJECT_DIR,
                   target_path: Path | None = None, threads: int | None = None) -> SparkBuildResult:
    """Run `dbt build --target spark` into `build_dir`, reading the raw zone at `raw_root`.

    Same contract as `c360.build.build_models`: `as_of` (YYYY-MM-DD) sets the marts' point in
    time; `select` / `exclude` are dbt selection syntax; a gated build runs twice into the
    same `build_dir` (SELECT_BEFORE_MARTS, then SELECT_MARTS). Raises DbtBuildError naming
    every failing node. `spark` must be the running session dbt-spark will use.
    """
    as_of = validate_as_of(as_of)
    build_uri, raw_uri = _uri(build_dir), _uri(raw_root)
    if _is_local(raw_uri) and not Path(raw_uri.removeprefix("file:")).is_dir():
        raise FileNotFoundError(f"raw zone {raw_root} does not exist (run `c360 land` first)")
    if _is_local(build_uri):
        Path(build_uri.removeprefix("file:")).mkdir(parents=True, exist_ok=True)
    tables = raw_tables_present(spark, raw_uri)
    if target_path is None:
        local_build = Path(build_uri.removeprefix("file:")) if _is_local(build_uri) else Path.cwd() / "target"
        target_path = local_build.parent / f"{local_build.name}_dbt"
    target_path = Path(target_path)

    variables = {"raw_root": raw_uri, "spark_location_root": build_uri, "raw_tables_present": tables}
    if as_of:
        variables["as_of_date"] = as_of
    args = ["build", "--target", TARGET, "--project-dir", str(Path(project_dir).resolve()),
            "--profiles-dir", str(Path(project_dir).resolve()),
            "--target-path", str(target_path), "--log-path", str(target_path / "logs"),
            "--indirect-selection", "buildable", "--full-refresh", "--vars", json.dumps(variables)]
    if select:
        args += ["--select", *select.split()]
    if exclude:
        args += ["--exclude", *exclude.split()]
    if threads:
        args += ["--threads", str(threads)]

    started = time.perf_counter()
    with _DBT_LOCK:
        from dbt.cli.main import dbtRunner

        outcome = dbtRunner().invoke(args)
    seconds = time.perf_counter() - started

    results = list(getattr(outcome.result, "results", None) or [])
    failures = tuple(NodeFailure(r.node.unique_id, str(r.status), r.message or "")
                     for r in results if str(r.status) in _FAILED)
    if failures:
        raise DbtBuildError(f"dbt build --target spark failed on {len(failures)} node(s)",
                            failures, target_path)
    if not outcome.success:
        reason = outcome.exception or "dbt reported failure without failing nodes"
        raise DbtBuildError(f"dbt build --target spark did not complete: {reason}", (), target_path)
    counts: dict[str, int] = {}
    for r in results:
        kind = getattr(r.node.resource_type, "value", r.node.resource_type)
        counts[str(kind)] = counts.get(str(kind), 0) + 1
    warnings = tuple(r.node.unique_id for r in results if str(r.status) == "warn")
    return SparkBuildResult(build_uri, raw_uri, as_of, select, exclude, target_path, seconds,
                            tables, counts, warnings)


def resolve_as_of_on_spark(spark) -> date | None:
    """The point in time the build in this session used (intermediate.int_as_of_date)."""
    if not spark.catalog.tableExists("intermediate.int_as_of_date"):
        return None
    row = spark.table("intermediate.int_as_of_date").select("as_of_date").first()
    return row[0] if row else None


def _uri(location: str | Path) -> str:
    """A local path made absolute; a URI (s3a://, hdfs://, file:) kept as it is."""
    text = str(location)
    if "://" in text or text.startswith("file:"):
        return text.rstrip("/")
    return str(Path(text).resolve())


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file:")
