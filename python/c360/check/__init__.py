"""`c360 check`: the dbt tests and the GX suites as a CI job, with a JUnit report.

    c360 check --home DIR                  the published version, as it is
    c360 check --home DIR --landing DIR    what a run would publish from DIR's new files

Without `--landing` the check reads the published database through a private copy (never the
file analysts read) and runs every dbt test, then every GX suite: raw on the published
batches, staging and marts on the whole tables. With `--landing` it does what `c360 run`
does in a scratch home beside the real one (`<home>/checks/<id>/home`, the raw zone linked,
not copied): land the new files, the raw gate, the two dbt builds and their gates, starting
from a copy of the published version. Nothing is published and the real home is only read;
a proposed change of models or suites is checked on the bank's own data.

Unlike a run, a check does not stop at the first failed gate: a batch the raw gate rejects
is left out of the build (as a run would), and the later layers are still built and checked,
so one report shows every failure. Only a broken build (a model that does not compile or
run) stops the layers after it.

Exit codes: 0 every test passed (warnings allowed); 1 a dbt test or a critical expectation
failed; 2 the build broke; 3 nothing to check (no published version, no landing folder).
Reports, kept in `<home>/checks/<id>/` (the last KEEP_CHECKS): `junit.xml`, the Data Docs
(`docs/index.html`, offline) and `check.json`.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from c360.check.dbt_results import dbt_cases
from c360.check.junit import Case, Suite, write_junit
from c360.gates.report import GateResult

EXIT_OK, EXIT_FAILED, EXIT_BUILD, EXIT_NOTHING = 0, 1, 2, 3
KEEP_CHECKS = 10
DBT_TESTS = "resource_type:test"    # data tests; unit tests run where models are built (--landing)


@dataclass
class CheckResult:
    check_dir: Path
    suites: list[Suite] = field(default_factory=list)
    build_broke: bool = False
    junit: Path | None = None
    docs: Path | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.build_broke:
            return EXIT_BUILD
        failed = any(c.status in ("failed", "error") for s in self.suites for c in s.cases)
        return EXIT_FAILED if failed else EXIT_OK

    def describe(self) -> str:
        lines = []
        for suite in self.suites:
            bad = [c for c in suite.cases if c.status in ("failed", "error")]
            lines.append(f"{suite.name:<12} {len(suite.cases):>4} tests, {suite.count('failed')} failed,"
                         f" {suite.count('error')} errors")
            lines.extend(f"  {c.status.upper():<6} {c.classname} {c.name}: {c.message}" for c in bad)
        lines.extend(f"note {n}" for n in self.notes)
        verdict = {EXIT_OK: "passed", EXIT_FAILED: "FAILED", EXIT_BUILD: "the build BROKE"}[self.exit_code]
        lines.append(f"c360 check {verdict} in {self.seconds:.1f} s")
        if self.junit:
            lines.append(f"  JUnit report  {self.junit}")
        if self.docs:
            lines.append(f"  Data Docs     {self.docs}")
        return "\n".join(lines)


def run_check(home: Path, *, landing: Path | None = None, junit_xml: Path | None = None) -> int:
    """Run the check, print what it found, write the reports; returns the exit code."""
    from c360.publish import read_published

    home = Path(home).resolve()
    if read_published(home) is None and landing is None:
        print(f"c360 check: nothing is published in {home} yet; run `c360 run --landing DIR --home {home}`,"
              " or check a landing folder with --landing DIR")
        return EXIT_NOTHING
    if landing is not None and not Path(landing).is_dir():
        print(f"c360 check: landing folder {landing} does not exist")
        return EXIT_NOTHING
    result = _Check(home, Path(landing).resolve() if landing else None).execute()
    result.junit = write_junit(result.suites, result.check_dir / "junit.xml")
    if junit_xml:
        Path(junit_xml).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result.junit, junit_xml)
        result.junit = Path(junit_xml)
    _write_record(result)
    print(result.describe())
    return result.exit_code


class _Check:
    def __init__(self, home: Path, landing: Path | None):
        from c360.gates import GxSession

        self.home, self.landing = home, landing
        self.started = time.perf_counter()
        check_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        self.dir = home / "checks" / check_id
        self.dir.mkdir(parents=True)
        _remove_old_checks(home / "checks")
        self.session = GxSession(self.dir / "docs", f"check-{check_id}")
        self.result = CheckResult(self.dir)
        self.dbt = Suite("dbt")
        self.gx = {layer: Suite(f"gx.{layer}") for layer in ("raw", "staging", "marts")}

    def execute(self) -> CheckResult:
        try:
            if self.landing is None:
                self._published()
            else:
                self._landing()
            index = self.session.build_docs()
            self.result.docs = index
        finally:
            for scratch in (self.dir / "home", self.dir / "c360.duckdb"):
                if scratch.is_dir():
                    shutil.rmtree(scratch, ignore_errors=True)
                else:
                    scratch.unlink(missing_ok=True)
        self.result.suites = [self.dbt, *self.gx.values()]
        self.result.seconds = time.perf_counter() - self.started
        return self.result

    # -- the published version ---------------------------------------------------------------

    def _published(self) -> None:
        from c360.gates import run_raw_gate
        from c360.land.manifest import committed_batches
        from c360.publish import published_path, read_published

        version = read_published(self.home)
        database = self.dir / "c360.duckdb"
        shutil.copyfile(published_path(self.home), database)     # never opened in place
        batches = [b for b in committed_batches(self.home / "raw") if b in set(version.batches)]
        _say(f"c360 check: build {version.build_id} published in {self.home} ({len(batches)} batches)")
        self._raw(run_raw_gate(self.home, batches, self.session))
        self._dbt(database, self.home / "raw", as_of=_run_as_of(self.home, version.build_id), select=DBT_TESTS)
        for layer in ("staging", "marts"):
            self._layer(layer, database, new_batches=None)

    # -- what a run would publish from the landing folder ------------------------------------

    def _landing(self) -> None:
        from c360.build import SELECT_BEFORE_MARTS, SELECT_MARTS
        from c360.gates import reject_batch, run_raw_gate, ungated_batches
        from c360.land import land_directory
        from c360.land.manifest import committed_batches
        from c360.publish import read_published, start_build

        scratch = self.dir / "home"
        _link_raw_zone(self.home, scratch)
        report = land_directory(self.landing, scratch)
        _say(f"c360 check: {self.landing} as a run on {self.home} would land it\n" + _indent(report.describe()))
        results = run_raw_gate(scratch, ungated_batches(scratch), self.session)
        self._raw(results)
        for batch_id, gate in results.items():
            if not gate.passed:
                reject_batch(scratch, batch_id, gate)
                self.result.notes.append(f"batch {batch_id} failed the raw gate: left out of the build,"
                                         " as a run would")
        version = read_published(self.home)
        published = set(version.batches) if version else set()
        new_batches = [b for b in committed_batches(scratch / "raw") if b not in published]
        database = scratch / "builds" / "check.duckdb"
        _say(f"   the build starts from {start_build(self.home, database)}")
        since = max(version.batches) if version and version.batches else None
        for layer, select in (("staging", SELECT_BEFORE_MARTS), ("marts", SELECT_MARTS)):
            if not self._dbt(database, scratch / "raw", as_of=None, select=select, changed_since=since):
                self.result.notes.append(f"the {layer} build broke: the layers after it were not checked")
                return
            self._layer(layer, database, new_batches=new_batches)

    # -- the parts ---------------------------------------------------------------------------

    def _dbt(self, database: Path, raw_root: Path, *, as_of: str | None, select: str,
             changed_since: str | None = None) -> bool:
        """dbt build (or only its tests) into `database`; False when the build broke."""
        from c360.build import DbtBuildError, build_models

        target = self.dir / "dbt"
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        _say(f"\n== dbt build --select {select}")
        error = None
        try:
            build_models(duckdb_path=database, raw_root=raw_root, as_of=as_of, select=select,
                         target_path=target, changed_since_batch=changed_since)
        except DbtBuildError as failed:
            error = failed
        cases = dbt_cases(target, database)
        if error is not None and not cases:
            cases = [Case("dbt", f"dbt build --select {select}", "error", str(error).splitlines()[0], str(error))]
        self.dbt.cases += cases
        broke = any(c.status == "error" for c in cases)
        self.result.build_broke |= broke
        failed = sum(c.status == "failed" for c in cases)
        _say(f"   {len(cases)} dbt tests and nodes, {failed} failed{', the build broke' if broke else ''}"
             f" ({time.perf_counter() - started:.1f} s)")
        return not broke

    def _raw(self, results: dict[str, GateResult]) -> None:
        for gate in results.values():
            self._gate_cases("raw", gate)

    def _layer(self, layer: str, database: Path, *, new_batches: list[str] | None) -> None:
        from c360.gates import run_layer_gate

        self._gate_cases(layer, run_layer_gate(layer, database, self.session, new_batches=new_batches))

    def _gate_cases(self, layer: str, gate: GateResult) -> None:
        _say(_indent(gate.describe()))
        suite = self.gx[layer]
        for outcome in gate.outcomes:
            where = f" where {outcome.condition}" if outcome.condition else ""
            case = Case(classname=outcome.suite,
                        name=f"{outcome.expectation}({outcome.column or ''}){where} on {outcome.frame}",
                        message=outcome.observed, details=outcome.describe(),
                        file=_relative_to_repo(outcome.suite))
            if outcome.blocking:
                case.status = "failed"
            elif outcome.warning:
                case.output = f"warning ({outcome.severity}), not blocking:\n{outcome.describe()}"
            suite.cases.append(case)
        for problem in gate.problems:
            suite.cases.append(Case(classname=f"{layer} gate", name=problem.split(":", 1)[0], status="error",
                                    message=problem, details=problem))


def _link_raw_zone(home: Path, scratch: Path) -> None:
    """The real raw zone and raw-gate ledger, in `scratch`: hard links (the raw zone's files
    are written once and never changed in place), copies across file systems."""
    def link(source: str, target: str) -> None:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)

    if (home / "raw").is_dir():
        shutil.copytree(home / "raw", scratch / "raw", copy_function=link,
                        ignore=shutil.ignore_patterns("_incoming"))
    if (home / "gates").is_dir():
        shutil.copytree(home / "gates", scratch / "gates")
    (scratch / "raw").mkdir(parents=True, exist_ok=True)


def _run_as_of(home: Path, build_id: str) -> str | None:
    """The `--as-of` the published build was run with (None: computed from its data)."""
    record = home / "runs" / f"{build_id}.json"
    return json.loads(record.read_text()).get("as_of") if record.is_file() else None


def _relative_to_repo(suite_name: str) -> str:
    return "expectations/suites/" + suite_name.replace(".", "/") + ".json"


def _remove_old_checks(checks: Path) -> None:
    for old in sorted(p for p in checks.iterdir() if p.is_dir())[:-KEEP_CHECKS]:
        shutil.rmtree(old, ignore_errors=True)


def _write_record(result: CheckResult) -> None:
    body = {"exit_code": result.exit_code, "seconds": round(result.seconds, 2),
            "junit": str(result.junit), "docs": str(result.docs) if result.docs else None,
            "notes": result.notes,
            "suites": {s.name: {status: s.count(status) for status in ("passed", "failed", "error", "skipped")}
                       for s in result.suites}}
    (result.check_dir / "check.json").write_text(json.dumps(body, indent=2) + "\n")


def _indent(text: str) -> str:
    return "\n".join("   " + line if line else line for line in text.splitlines())


def _say(text: str) -> None:
    print(text, flush=True)
