"""The staging and marts gates: every suite of the layer, on frames from the build.

The frames come from an engine (`c360.engines`): DuckDB on the build file, opened read-only
after dbt has closed it (nothing the gate does can change what is published), or Spark on
the Spark build's catalog.
"""
from __future__ import annotations

import time
from pathlib import Path

from c360.engines import Engine, EngineError
from c360.gates import frames
from c360.gates.engine import Frame, GxSession
from c360.gates.report import GateResult
from c360.gates.suites import Suite, load_suites


def run_layer_gate(layer: str, build: Path | Engine, session: GxSession, *, new_batches: list[str] | None,
                   parameters: dict | None = None, suites_dir: Path | None = None) -> GateResult:
    """Validate the `layer` suites against the build: a DuckDB build file, or an engine.

    `new_batches`: the batches not in the published version; row-level suites read only the
    rows those batches added (None: all rows).
    """
    from c360.engines.duckdb import DuckDBEngine

    started = time.perf_counter()
    result = GateResult(gate=layer)
    engine = DuckDBEngine.open(build) if isinstance(build, (str, Path)) else build
    try:
        for suite in load_suites(layer, suites_dir):
            try:
                _validate_suite(engine, suite, session, result, new_batches, parameters or {})
            except (frames.FrameError, EngineError) as error:
                result.problems.append(f"suite {suite.name}: {error}")
    finally:
        if engine is not build:
            engine.close()
    result.seconds = time.perf_counter() - started
    return result


def _validate_suite(engine: Engine, suite: Suite, session: GxSession, result: GateResult,
                    new_batches: list[str] | None, parameters: dict) -> None:
    spec = suite.frame
    params = dict(parameters)
    on = "" if engine.name == "duckdb" else f", {engine.name}"
    if spec.get("parameter_queries"):
        params |= frames.parameter_values(engine, spec["parameter_queries"])
    if suite.kind == "summary":
        what = f"summary {spec['frame']} ({suite.name}{on})"
        chunks = [Frame(what, frames.summary_frame(engine, spec))]
    elif suite.kind == "table":
        what = f"{spec['relation']} (whole table{on})"
        frames.require(engine, spec["relation"])
        chunks = [Frame(what, engine.table(spec["relation"]))]
    elif suite.kind == "rows":
        batch_column = spec.get("batch_column", "batch_id")
        scope = "all rows" if new_batches is None else f"rows of {len(new_batches)} new batches"
        what = f"{spec['relation']} ({scope}{on})"
        if new_batches is not None and not new_batches:
            skipped = "row suites skipped: no batch since the published version, no new rows to check"
            if skipped not in result.notes:
                result.notes.append(skipped)
            return
        frames.require(engine, spec["relation"], [batch_column] if new_batches is not None else [])
        chunks = engine.rows(spec["relation"], batch_column=batch_column, batches=new_batches,
                             label=spec["relation"], columns_read=suite.columns_read)
    else:
        raise frames.FrameError(f"kind {suite.kind!r} does not belong to the {suite.layer} layer")
    outcomes = session.validate(suite, chunks, params, what=what)
    if outcomes:          # a rows suite on new batches that added no row of its model: nothing to check
        result.frames.append(what)
    result.outcomes += outcomes
