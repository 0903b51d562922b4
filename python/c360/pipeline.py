"""`c360 run`: land -> raw gate -> build staging -> staging gate -> build marts -> marts gate -> publish.

Every stage prints what it did, how long it took and where its results are. A gate that
fails (or a dbt build that fails) stops the run before publishing: `<home>/c360.duckdb`, what
analysts query, is untouched. Only a build that passed every gate is swapped in, atomically
(see `c360.publish`).

Each layer's gate is its dbt data tests (run by `dbt build`) plus its GX suites: when dbt tests
fail, the GX suites still run to show the data at fault, and the run stops at that gate.

Exit codes: 0 published, or nothing new to publish (the published version is left as it is);
1 a gate stopped the run (bad data); 2 the run broke (a model or a dbt unit test failed, or an
unexpected error: one sentence names where and why, the traceback is kept in
`runs/<run id>.traceback.txt`), or the command line was refused before anything ran (e.g.
`--as-of 2019-13-45`); 3 the run could not start (another command is writing the home, the
landing folder does not exist, nothing landed yet).

The whole run holds the home's lock (c360.home_lock), as `c360 land` and `c360 quarantine
release` do: no batch can land while a build reads the raw zone, so what is built is exactly
the batches the raw gate passed, which the run fixes before building (and checks on disk).

On `--target spark` the same stages run on Apache Spark (c360.spark.SparkTarget): the gates
through GX's Spark data source, the build with dbt-spark, always complete (a new folder per
build; the CRM snapshot history carries over), published as Parquet under `<home>/spark/`
(`current` -> the published build) for DuckDB, Spark or pandas to read.

Where things are, under `<home>`:
    c360.duckdb  c360.json     the published database and what it contains
    spark/current, spark/c360.json   the published Spark build (Parquet) and what it contains
    builds/                    the build in progress, or the latest failed build (to debug)
    docs/<run id>/index.html   Great Expectations Data Docs of the run's gates (+ results/)
    docs/index.html            every run's Data Docs, newest first
    runs/<run id>.json         what each run did: stages, timings, gate results
    gates/raw/                 batches that passed the raw gate
    rejected/batch=<id>/       batches that failed it, with their files and verdict
"""
from __future__ import annotations

import contextlib
import html
import json
import os
import resource
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from c360.gates.report import GateResult, combine
from c360.home_lock import HomeLocked, hold_home

EXIT_GATE, EXIT_BUILD, EXIT_START = 1, 2, 3
TARGETS = ("duckdb", "spark")
KEEP_DOCS_RUNS = 30
DEFAULT_MAX_QUARANTINE_SHARE_ENV = "C360_MAX_QUARANTINE_SHARE"


@dataclass
class Stage:
    name: str
    seconds: float
    ok: bool
    detail: str = ""
    is_gate: bool = False
    cpu_seconds: float = 0.0    # CPU of this process and its children: robust to a busy machine


@dataclass
class RunRecord:
    run_id: str
    home: Path
    landing: Path
    as_of: str | None
    started_at: str
    full_refresh: bool = False
    target: str = "duckdb"
    stages: list[Stage] = field(default_factory=list)
    gates: dict[str, dict] = field(default_factory=dict)
    outcome: str = "running"
    stopped_at: str | None = None
    build: str | None = None
    docs: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {
            "run_id": self.run_id, "home": str(self.home), "landing": str(self.landing),
            "as_of": self.as_of, "started_at": self.started_at, "full_refresh": self.full_refresh,
            "target": self.target,
            "outcome": self.outcome,
            "stopped_at": self.stopped_at, "build": self.build, "docs": self.docs,
            "seconds": round(self.seconds, 2),
            "gate_seconds": round(self.gate_seconds, 2),
            "stages": [s.__dict__ for s in self.stages], "gates": self.gates,
        }

    @property
    def gate_seconds(self) -> float:
        return sum(s.seconds for s in self.stages if s.is_gate)


def run_pipeline(*, landing: Path, home: Path, as_of: str | None = None,
                 accept_quarantine: bool = False, max_quarantine_share: float | None = None,
                 full_refresh: bool = False, target: str = "duckdb") -> int:
    """Land, gate, build and publish; returns the exit code (0 = a new version is published).

    The build continues from the published version: incremental models load only what landed
    since (`c360.publish.start_build`). `full_refresh` rebuilds every model from the raw zone.
    `target`: `duckdb`, or `spark` (gates and build on Spark, published as Parquet; needs the
    spark extra).
    """
    from c360.build import validate_as_of

    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    as_of = validate_as_of(as_of)  # refused before anything runs (the CLI refuses it earlier)
    home, landing = Path(home).resolve(), Path(landing).resolve()
    try:
        with hold_home(home, "c360 run"):
            run = _Run(home, landing, as_of, accept_quarantine, max_quarantine_share, full_refresh,
                       target)
            try:
                return run.execute()
            except Exception as error:  # noqa: BLE001 - no traceback reaches the user
                return run.broke(error)
    except HomeLocked as locked:
        _say(f"c360 run: {locked}")
        return EXIT_START
    except OSError as error:  # the home cannot be created or locked (permissions, a file there)
        _say(f"c360 run: cannot use {home} as the home: {error.strerror or error} ({error.filename or home})")
        return EXIT_START


class _Run:
    def __init__(self, home: Path, landing: Path, as_of: str | None, accept_quarantine: bool,
                 max_quarantine_share: float | None, full_refresh: bool = False,
                 target: str = "duckdb"):
        self.home, self.landing, self.as_of = home, landing, as_of
        self.full_refresh = full_refresh
        self.changed_since: str | None = None   # newest batch of the version an incremental build follows
        self.accept_quarantine = accept_quarantine
        self.max_quarantine_share = max_quarantine_share
        self.started = time.perf_counter()
        run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        while (home / "runs" / f"{run_id}.json").exists() or (home / "docs" / run_id).exists():
            time.sleep(1)  # run ids are per second; two runs in one second wait their turn
            run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.record = RunRecord(run_id, home, landing, as_of, _utc_now(), full_refresh=full_refresh,
                                target=target)
        self.docs_dir = home / "docs" / run_id
        self._session = None
        self.build_path: Path | None = None
        self.spark = None                       # c360.spark.SparkTarget on `--target spark`
        if target == "spark":
            from c360.spark import SparkTarget

            self.spark = SparkTarget(home, run_id)
        self._dbt_test_failures: list[str] = []
        self.current_stage: str | None = None

    # -- the stages --------------------------------------------------------------------------

    def execute(self) -> int:
        from c360.land import land_directory
        from c360.land.manifest import committed_batches
        from c360.publish import new_build_path, remove_old_builds

        _say(f"c360 run {self.record.run_id}: {self.landing} -> {self.home}")
        with self._stage("land") as stage:
            try:
                report = land_directory(self.landing, self.home)
            except FileNotFoundError as missing:
                stage.ok, stage.detail = False, str(missing)
                report = None
            if report is not None:
                _say(_indent(report.describe()))
                stage.detail = f"batch {report.batch_id or '-'}"
        if report is None:
            _say(f"   {stage.detail}")
            return self._stop("land", EXIT_START)

        if not self._raw_gate():
            return self._stop("raw gate", EXIT_GATE)
        batches = committed_batches(self.home / "raw")
        if not batches:
            _say("nothing to build: no batch has landed in the raw zone yet")
            return self._stop("land", EXIT_START)
        stray = _ungated_folders(self.home, batches)
        if stray:
            _say("the raw zone holds batch folders that no raw gate passed (written outside"
                 " c360 land, or left by a crash): a build would read them\n"
                 + _indent("\n".join(str(p) for p in stray)))
            return self._stop("raw gate", EXIT_GATE)
        if self._nothing_new(batches):
            return self._unchanged()

        if self.spark:
            self.build_path = self.spark.start_build()
        else:
            remove_old_builds(self.home)
            self.build_path = new_build_path(self.home, self.record.run_id)
        self.record.build = str(self.build_path)
        new_batches = self._unpublished(batches)
        self.changed_since = None if self.full_refresh or self.spark else self._published_watermark()

        from c360.build import SELECT_BEFORE_MARTS, SELECT_MARTS

        # Each layer: `dbt build` (models + their dbt tests), then the layer's GX suites. dbt
        # data tests that fail are part of the layer's gate: the GX suites still run, to show
        # the data at fault, and the run stops at that gate. A model or unit test that fails
        # is a broken build (exit 2), not bad data.
        for layer, select in (("staging", SELECT_BEFORE_MARTS), ("marts", SELECT_MARTS)):
            built = self._build(f"build {layer}", select, start=layer == "staging")
            if built == "error":
                return self._stop(f"build {layer}", EXIT_BUILD)
            passed = self._layer_gate(layer, new_batches, dbt_test_failures=self._dbt_test_failures)
            if not passed:
                return self._stop(f"{layer} gate", EXIT_GATE)
        return self._publish(batches)

    def _raw_gate(self) -> bool:
        from c360.gates import record_passed, reject_batch, run_raw_gate, ungated_batches

        batches = ungated_batches(self.home)
        if not batches:
            _say("\n== raw gate\n   no new batch: every batch in the raw zone passed the raw gate earlier")
            self.record.gates["raw"] = {"gate": "raw", "passed": True, "expectations": 0, "frames": 0,
                                        "failed": [], "warnings": [], "seconds": 0.0, "docs": None,
                                        "note": "no new batch; every batch passed the raw gate earlier"}
            return True
        with self._stage("raw gate", gate=True) as stage:
            if self.spark:
                results = self.spark.raw_gate(batches, self.session, parameters=self._raw_parameters())
            else:
                results = run_raw_gate(self.home, batches, self.session, parameters=self._raw_parameters())
            for batch_id, result in results.items():
                if result.passed:
                    record_passed(self.home, batch_id, result)
                else:
                    where = reject_batch(self.home, batch_id, result)
                    # the notes name the quarantine files where landing put them: they moved too
                    moved_from = str(self.home / "quarantine" / f"batch={batch_id}")
                    result.notes = [n.replace(moved_from, str(where / "quarantine")) for n in result.notes]
                    result.notes.append(f"batch {batch_id} failed: moved out of the raw zone to {where}"
                                        " (deliver the files again, corrected, to land them again)")
            combined = combine("raw", list(results.values()))
            self._report_gate(combined, stage)
        return combined.passed

    def _layer_gate(self, layer: str, new_batches: list[str], *, dbt_test_failures: list[str]) -> bool:
        from c360.gates import run_layer_gate

        name = f"{layer} gate"
        with self._stage(name, gate=True) as stage:
            if self.spark:
                result = self.spark.layer_gate(layer, self.session, new_batches)
            else:
                result = run_layer_gate(layer, self.build_path, self.session, new_batches=new_batches)
            result.problems[:0] = [f"dbt test failed: {f}" for f in dbt_test_failures]
            if dbt_test_failures:
                result.notes.append("the GX suites ran on what dbt built; models downstream of a"
                                    " failed dbt test were not built")
            self._report_gate(result, stage)
        return result.passed

    def _build(self, name: str, select: str, start: bool = False) -> str:
        """'ok', 'tests' (only dbt data tests failed: bad data) or 'error' (the build broke).

        `start`: first seed the build file with what its incremental models continue from (a
        copy of the published database; for a full refresh only the snapshot history).
        """
        from c360.build import DbtBuildError, build_models
        from c360.publish import start_build

        self._dbt_test_failures = []
        with self._stage(name) as stage:
            if start and self.spark:
                carried = ", ".join(self.spark.carried_over) or "none published yet"
                _say(f"   a complete Spark build into {self.build_path} (snapshot history: {carried})")
            elif start:
                _say(f"   the build starts from {start_build(self.home, self.build_path, full_refresh=self.full_refresh)}"
                     + ("; every model is rebuilt from the raw zone (--full-refresh)" if self.full_refresh else ""))
            try:
                if self.spark:
                    result = self.spark.build(select, self.as_of)
                else:
                    result = build_models(duckdb_path=self.build_path, raw_root=self.home / "raw",
                                          as_of=self.as_of, select=select, full_refresh=self.full_refresh,
                                          changed_since_batch=self.changed_since)
            except DbtBuildError as error:
                stage.ok = False
                stage.detail = str(error)
                _say(_indent(f"dbt build --select {select} FAILED:\n{error}"))
                tests_only = error.failures and all(f.unique_id.startswith("test.") for f in error.failures)
                if tests_only and self.build_path.exists():
                    self._dbt_test_failures = [f.describe() for f in error.failures]
                    return "tests"
                return "error"
            described = result.describe()
            _say(_indent(described))
            stage.detail = described.splitlines()[0]
        return "ok"

    def _publish(self, batches: list[str]) -> int:
        from c360.publish import PublishedVersion, publish

        self._build_docs()
        with self._stage("publish") as stage:
            version = PublishedVersion(
                build_id=self.record.run_id,
                as_of_date=self._as_of_date(),
                batches=batches,
                built_at=self.record.started_at,
                build_seconds=round(time.perf_counter() - self.started, 2),
                gates=self.record.gates,
                docs=self.record.docs,
            )
            target = self.spark.publish(version) if self.spark else publish(self.build_path, self.home, version)
            stage.detail = str(target)
        self.record.outcome = "published"
        self._finish()
        _say(_indent(version.describe()))
        _say(self._timings())
        _say(_how_to_query_spark(target) if self.spark else _how_to_query(target))
        return 0

    def _nothing_new(self, batches: list[str]) -> bool:
        """The published version already holds exactly these batches at the same point in time:
        a build would reproduce it (without `--full-refresh`, which rebuilds on purpose)."""
        from c360.publish import read_published

        if self.full_refresh or self.spark:
            return False
        published = read_published(self.home)
        if published is None or sorted(published.batches) != sorted(batches):
            return False
        if self.as_of is not None:
            return self.as_of == published.as_of_date
        # the default point in time (the latest event) is the published one only if that
        # version was built with the default too
        record = self.home / "runs" / f"{published.build_id}.json"
        return record.is_file() and json.loads(record.read_text()).get("as_of") is None

    def _unchanged(self) -> int:
        from c360.publish import published_path, read_published

        published = read_published(self.home)
        count = f"{len(published.batches)} batch" + ("es" if len(published.batches) != 1 else "")
        _say(f"\n== nothing new\n   the raw zone holds exactly the batches of the published version"
             f" {published.build_id} ({count}, as of {published.as_of_date}): nothing was"
             f" rebuilt, {published_path(self.home)} is left as it is"
             "\n   (c360 run --full-refresh rebuilds anyway, e.g. after changing a model, a seed or a var)")
        self.record.outcome = "unchanged"
        self._finish()
        _say(self._timings())
        return 0

    def broke(self, error: Exception) -> int:
        """An error no stage expected: one sentence for the user, the traceback in a file."""
        stage = self.current_stage or "start"
        runs = self.home / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        kept = runs / f"{self.record.run_id}.traceback.txt"
        kept.write_text("".join(traceback.format_exception(error)))
        reason = str(error).strip() or type(error).__name__
        _say(f"\nc360 run: the run broke at {stage}: {type(error).__name__}: {reason}"
             f"\n   (the traceback is kept in {kept})")
        try:
            return self._stop(stage, EXIT_BUILD)
        except Exception as also:  # noqa: BLE001 - recording the failure failed too (disk full?)
            _say(f"   and recording the failed run failed: {type(also).__name__}: {also}")
            return EXIT_BUILD

    def _stop(self, stage: str, code: int) -> int:
        self.record.outcome = "failed"
        self.record.stopped_at = stage
        self._build_docs()
        self._finish()
        _say(self._timings())
        kept = f"; the build is kept to debug: {self.build_path}" if self.build_path and self.build_path.exists() else ""
        published = self.home / "spark" / "current" if self.spark else self.home / "c360.duckdb"
        _say(f"STOPPED at {stage}: nothing was published, {published} is unchanged{kept}")
        if self.record.docs:
            _say(f"Data Docs: {self.record.docs}")
        return code

    # -- helpers -----------------------------------------------------------------------------

    @property
    def session(self):
        if self._session is None and self.spark:
            self._session = self.spark.gx_session(self.docs_dir, self.record.run_id)
        elif self._session is None:
            from c360.gates import GxSession

            self._session = GxSession(self.docs_dir, self.record.run_id)
        return self._session

    @contextlib.contextmanager
    def _stage(self, name: str, gate: bool = False):
        _say(f"\n== {name}")
        self.current_stage = name
        stage = Stage(name=name, seconds=0.0, ok=True, is_gate=gate)
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        try:
            yield stage
        finally:
            stage.seconds = time.perf_counter() - started
            stage.cpu_seconds = _cpu_seconds() - cpu_started
            self.record.stages.append(stage)
            _say(f"   {name}: {'ok' if stage.ok else 'FAILED'} in {stage.seconds:.1f} s")

    def _report_gate(self, result: GateResult, stage: Stage) -> None:
        stage.ok = result.passed
        stage.detail = result.headline()
        self.record.gates[result.gate] = result.summary()
        _say(_indent(result.describe()))
        (self.docs_dir / "gates").mkdir(parents=True, exist_ok=True)
        (self.docs_dir / "gates" / f"{result.gate}.json").write_text(result.to_json())

    def _raw_parameters(self) -> dict:
        if self.accept_quarantine:
            return {"max_quarantine_share": 1.0}
        share = self.max_quarantine_share
        if share is None and os.environ.get(DEFAULT_MAX_QUARANTINE_SHARE_ENV):
            share = float(os.environ[DEFAULT_MAX_QUARANTINE_SHARE_ENV])
        return {} if share is None else {"max_quarantine_share": share}

    def _published_watermark(self) -> str | None:
        """The newest batch of the published version: an incremental build's dbt tests check
        the rows changed after it."""
        from c360.publish import read_published

        published = read_published(self.home)
        return max(published.batches) if published and published.batches else None

    def _unpublished(self, batches: list[str]) -> list[str]:
        from c360.publish import read_published

        if self.spark:
            already = self.spark.published_batches()
        else:
            published = read_published(self.home)
            already = set(published.batches) if published else set()
        return [b for b in batches if b not in already]

    def _as_of_date(self) -> str | None:
        from c360.build import resolve_as_of

        if self.spark:
            return self.spark.as_of_date() or self.as_of
        value = resolve_as_of(self.build_path)
        return value.isoformat() if value is not None else self.as_of

    def _build_docs(self) -> None:
        if self._session is None or not self._session.validated:
            return
        with self._stage("data docs", gate=True) as stage:
            index = self._session.build_docs()
            self.record.docs = str(index)
            stage.detail = str(index)
            _say(f"   {index}")

    def _finish(self) -> None:
        self.record.seconds = time.perf_counter() - self.started
        runs = self.home / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        temporary = runs / f"{self.record.run_id}.json.tmp"
        temporary.write_text(json.dumps(self.record.to_json(), indent=2, default=str) + "\n")
        os.replace(temporary, runs / f"{self.record.run_id}.json")
        if (not self.spark and self.build_path and self.build_path.exists()
                and self.record.outcome == "published"):
            self.build_path.unlink()
        _write_docs_index(self.home)

    def _timings(self) -> str:
        total = time.perf_counter() - self.started
        gates = self.record.gate_seconds
        lines = ["\n== timings"]
        lines += [f"   {s.name:<14} {s.seconds:8.1f} s  (cpu {s.cpu_seconds:7.1f} s)  {'ok' if s.ok else 'FAILED'}"
                  for s in self.record.stages]
        cpu = sum(s.cpu_seconds for s in self.record.stages)
        gates_cpu = sum(s.cpu_seconds for s in self.record.stages if s.is_gate)
        lines.append(f"   {'total':<14} {total:8.1f} s; gates (incl. GX start-up and Data Docs)"
                     f" {gates:.1f} s = {gates / total:.0%} of the run" if total else "")
        if cpu:
            lines.append(f"   {'':<14} cpu {cpu:.1f} s; gates {gates_cpu:.1f} s = {gates_cpu / cpu:.0%} of the run's cpu")
        lines.append(f"   run record: {self.home / 'runs' / (self.record.run_id + '.json')}")
        return "\n".join(lines)


def _ungated_folders(home: Path, gated: list[str]) -> list[Path]:
    """Batch folders in the raw zone outside the gated list: the sources' glob would read them."""
    wanted = {f"batch={b}" for b in gated}
    return sorted(p for p in (home / "raw").glob("*/*/batch=*")
                  if p.name not in wanted and not p.parent.parent.name.startswith("_"))


def _write_docs_index(home: Path) -> None:
    """`<home>/docs/index.html`: every run's Data Docs, newest first (the last 30 are kept)."""
    docs = home / "docs"
    runs = sorted((p for p in docs.glob("*/index.html")), reverse=True)
    for old in runs[KEEP_DOCS_RUNS:]:
        shutil.rmtree(old.parent, ignore_errors=True)
    items = []
    for index in runs[:KEEP_DOCS_RUNS]:
        run_id = index.parent.name
        record_path = home / "runs" / f"{run_id}.json"
        record = json.loads(record_path.read_text()) if record_path.exists() else {}
        verdict = record.get("outcome", "?")
        if record.get("stopped_at"):
            verdict += f" at {record['stopped_at']}"
        items.append(f'<li><a href="{html.escape(run_id)}/index.html">{html.escape(run_id)}</a>'
                     f" &mdash; {html.escape(verdict)}</li>")
    docs.mkdir(parents=True, exist_ok=True)
    temporary = docs / "index.html.tmp"
    temporary.write_text("<!doctype html><meta charset=utf-8><title>c360 gate runs</title>"
                         "<h1>c360 gate runs</h1><p>Great Expectations Data Docs of each run's gates,"
                         " newest first.</p><ul>" + "".join(items) + "</ul>\n")
    os.replace(temporary, docs / "index.html")


def _how_to_query(database: Path) -> str:
    from c360.notebook import duckdb_command   # the CLI installed with c360 (duckdb-cli)

    return (
        "\n== query the marts (read-only: a running build never blocks you)\n"
        f"   {duckdb_command()} -readonly {database} \"select * from marts.customer_360 limit 5\"\n"
        "   python -c \"import duckdb; con = duckdb.connect("
        f"'{database}', read_only=True); print(con.sql('"
        "select gender, count(*) as clients, avg(n_transactions) as avg_transactions"
        " from marts.customer_360 group by gender'))\"\n"
        f"   c360 status --home {database.parent}\n"
        "\n== serve it: a JSON API and the Customer 360 dashboard (read-only, follows new versions)\n"
        f"   c360 serve --home {database.parent}     # then open http://127.0.0.1:8360/ (API docs: /docs)"
    )


def _how_to_query_spark(current: Path) -> str:
    marts = current / "marts"
    return (
        "\n== query the marts (Parquet: DuckDB, Spark or pandas read them; `current` moves to a new"
        " build only when one is published)\n"
        f"   duckdb -c \"select * from read_parquet('{marts}/customer_360/*.parquet') limit 5\"\n"
        f"   pyspark: spark.read.parquet('{marts}/customer_360')\n"
        "   python -c \"import duckdb; from c360.spark.publish import duckdb_views;"
        f" con = duckdb.connect(); duckdb_views(con, '{current.parent.parent}');"
        " print(con.sql('select count(*) from marts.customer_360'))\""
    )


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _indent(text: str) -> str:
    return "\n".join("   " + line if line else line for line in text.splitlines())


def _say(text: str) -> None:
    print(text, flush=True)


def _utc_now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_pipeline(landing=Path(sys.argv[1]), home=Path(sys.argv[2])))
