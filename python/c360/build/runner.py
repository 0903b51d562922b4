"""`dbt build` as a function: paths in, a result or a specific exception out.

dbt reads its connection settings from the environment (profiles.yml: C360_DUCKDB_PATH,
C360_RAW_ROOT, C360_TARGET); `build_models` sets those for the duration of one invocation
and restores them afterwards. dbt's programmatic runner is not re-entrant, so invocations in
one process are serialised; separate processes can build in parallel because every build
gets its own target (artifacts, logs) folder beside its DuckDB file.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

# python/c360/build/runner.py -> repository root (where dbt_project.yml lives)
PROJECT_DIR = Path(__file__).resolve().parents[3]

# The two steps of a gated build (same DuckDB file): everything the marts read, then the marts.
# The code seeds and the CRM history snapshot are named explicitly: they live outside the
# staging folder.
SELECT_BEFORE_MARTS = "resource_type:seed resource_type:snapshot staging intermediate"
SELECT_MARTS = "marts"

_DBT_LOCK = threading.Lock()
_AS_OF = re.compile(r"\d{4}-\d{2}-\d{2}")
_FAILED = {"error", "fail", "runtime error"}


@dataclass(frozen=True)
class NodeFailure:
    unique_id: str
    status: str
    message: str

    def describe(self) -> str:
        first_lines = " ".join((self.message or "").strip().splitlines()[:6])
        return f"{self.unique_id} [{self.status}]: {first_lines[:500]}"


class DbtBuildError(RuntimeError):
    """`dbt build` failed: the failing nodes (models, tests, unit tests) and why."""

    def __init__(self, message: str, failures: tuple[NodeFailure, ...] = (),
                 target_path: Path | None = None):
        self.failures = failures
        self.target_path = target_path
        details = "\n".join(f"  - {f.describe()}" for f in failures)
        where = f"\n  (artifacts and logs: {target_path})" if target_path else ""
        super().__init__(f"{message}{(chr(10) + details) if details else ''}{where}")

    @property
    def failed_nodes(self) -> tuple[str, ...]:
        return tuple(f.unique_id for f in self.failures)


@dataclass
class BuildResult:
    duckdb_path: Path
    raw_root: Path
    as_of: str | None                  # as passed (None = computed from the data)
    select: str | None
    exclude: str | None
    target_path: Path
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)   # resource type -> nodes run
    warnings: tuple[str, ...] = ()                         # tests that warned

    def describe(self) -> str:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
        scope = f" --select {self.select}" if self.select else ""
        scope += f" --exclude {self.exclude}" if self.exclude else ""
        lines = [f"dbt build{scope} -> {self.duckdb_path} ({counts}; {self.seconds:.1f}s)"]
        lines.extend(f"  warn {w}" for w in self.warnings)
        return "\n".join(lines)


def validate_as_of(as_of: str | date | None) -> str | None:
    """'YYYY-MM-DD' (or a date) -> 'YYYY-MM-DD'; None stays None; anything else raises."""
    if as_of is None:
        return None
    text = as_of.isoformat() if isinstance(as_of, date) else str(as_of).strip()
    if not _AS_OF.fullmatch(text):
        raise ValueError(f"as_of must be YYYY-MM-DD, got {as_of!r}")
    date.fromisoformat(text)  # a real calendar date
    return text


def build_models(*, duckdb_path: Path, raw_root: Path, as_of: str | date | None = None,
                 select: str | None = None, exclude: str | None = None,
                 project_dir: Path = PROJECT_DIR, target_path: Path | None = None,
                 threads: int | None = None, full_refresh: bool = False,
                 changed_since_batch: str | None = None) -> BuildResult:
    """Run `dbt build` for the project into `duckdb_path`, reading the raw zone at `raw_root`.

    `as_of` (YYYY-MM-DD) sets the marts' point in time (default: the latest transaction or
    web-session date in the data). `select` / `exclude` are dbt selection syntax (space
    separated). A pipeline that gates between layers builds in two steps into the same file:

        build_models(..., select=SELECT_BEFORE_MARTS)  # code seeds, staging, intermediate
        build_models(..., select=SELECT_MARTS)         # the marts and identity_resolution

    Tests are selected "buildable": a test runs in a step when everything it reads is built
    by then, so relationships from marts to staging run with the marts. Raises DbtBuildError
    naming every failing node.

    Incremental models (transactions, GA, the per-client transaction figures) continue from
    what `duckdb_path` already holds: build into a copy of the previous build to load only what
    landed since (`c360.publish.start_build` makes one). `full_refresh` rebuilds them from the
    whole raw zone (`dbt build --full-refresh`; snapshots keep their history).
    `changed_since_batch` (an incremental build: the newest batch of the version it starts
    from) makes the data tests of models with landing lineage check only the rows changed
    after it (macros/tests/get_where_subquery.sql).
    """
    as_of = validate_as_of(as_of)
    duckdb_path = Path(duckdb_path).resolve()
    raw_root = Path(raw_root).resolve()
    project_dir = Path(project_dir).resolve()
    if not raw_root.is_dir():
        raise FileNotFoundError(f"raw zone {raw_root} does not exist (run `c360 land` first)")
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    target_path = Path(target_path) if target_path else duckdb_path.parent / f"{duckdb_path.stem}_dbt"

    args = ["build", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(target_path), "--log-path", str(target_path / "logs"),
            "--indirect-selection", "buildable"]
    dbt_vars = {"as_of_date": as_of} if as_of else {}
    if changed_since_batch and not full_refresh:
        dbt_vars["changed_since_batch"] = changed_since_batch
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    if select:
        args += ["--select", *select.split()]
    if exclude:
        args += ["--exclude", *exclude.split()]
    if threads:
        args += ["--threads", str(threads)]
    if full_refresh:
        args.append("--full-refresh")

    env = {"C360_DUCKDB_PATH": str(duckdb_path), "C360_RAW_ROOT": str(raw_root)}
    started = time.perf_counter()
    with _DBT_LOCK, _environment(env):
        try:
            outcome = _invoke(args)
        finally:
            _release_duckdb()
    seconds = time.perf_counter() - started

    results = _node_results(outcome.result)
    failures = tuple(NodeFailure(r.node.unique_id, str(r.status), r.message or "")
                     for r in results if str(r.status) in _FAILED)
    if failures:
        raise DbtBuildError(f"dbt build failed on {len(failures)} node(s)", failures, target_path)
    if not outcome.success:
        reason = outcome.exception or "dbt reported failure without failing nodes"
        raise DbtBuildError(f"dbt build did not complete: {reason}", (), target_path)

    counts: dict[str, int] = {}
    for r in results:
        kind = r.node.resource_type
        kind = getattr(kind, "value", kind)
        counts[str(kind)] = counts.get(str(kind), 0) + 1
    warnings = tuple(r.node.unique_id for r in results if str(r.status) == "warn")
    return BuildResult(duckdb_path, raw_root, as_of, select, exclude, target_path, seconds,
                       counts, warnings)


def generate_docs(*, duckdb_path: Path, raw_root: Path, target_path: Path,
                  project_dir: Path = PROJECT_DIR) -> Path:
    """`dbt docs generate` against a built DuckDB file; returns the folder holding
    index.html, manifest.json and catalog.json (serve it with `dbt docs serve`)."""
    duckdb_path, raw_root = Path(duckdb_path).resolve(), Path(raw_root).resolve()
    target_path = Path(target_path)
    args = ["docs", "generate", "--project-dir", str(Path(project_dir).resolve()),
            "--profiles-dir", str(Path(project_dir).resolve()),
            "--target-path", str(target_path), "--log-path", str(target_path / "logs")]
    env = {"C360_DUCKDB_PATH": str(duckdb_path), "C360_RAW_ROOT": str(raw_root)}
    with _DBT_LOCK, _environment(env):
        try:
            outcome = _invoke(args)
        finally:
            _release_duckdb()
    if not outcome.success:
        raise DbtBuildError(f"dbt docs generate failed: {outcome.exception}", (), target_path)
    return target_path


def resolve_as_of(duckdb_path: Path) -> date | None:
    """The point in time a build used (intermediate.int_as_of_date), None if not built."""
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        try:
            row = con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()
        except duckdb.CatalogException:
            return None
    return row[0] if row else None


def _invoke(args: list[str]):
    from dbt.cli.main import dbtRunner

    return dbtRunner().invoke(args)


def _node_results(result) -> list:
    return list(getattr(result, "results", None) or [])


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in-process after an invocation.

    Otherwise the file stays attached read-write in this process: the gates or the publish
    step could not open it read-only, and the next build could not open another file.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            try:
                env.close()
            except Exception:  # closing is best effort; the handle is dropped either way
                pass
