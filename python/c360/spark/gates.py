"""The gates on the Spark build: the same suites, validated through GX's Spark data source.

What is shared with the DuckDB gates (c360.gates), unchanged: the suite files and their
loading (`load_suites`), the GX session, its merging of results and its Data Docs
(`GxSession`), the report (`GateResult`, `Outcome`), the raw gate's bookkeeping (manifest
frame, quarantine notes, `record_passed` / `reject_batch`). What differs is where the frames
come from and which GX data source reads them:

  raw_rows  each new batch's Parquet folder read by Spark      -> GX Spark data source
  rows      a staging model's rows of the new batches (Spark)  -> GX Spark data source
  table     a whole mart table (Spark)                         -> GX Spark data source
  summary   aggregated by Spark over the whole build, small    -> GX pandas data source
  manifest  the batch's manifest next to what is on disk       -> GX pandas data source

A Spark DataFrame is validated where it lives: GX computes its metrics as Spark jobs, so
validation scales with the cluster, and nothing is chunked (the pandas gates read bounded
chunks only because pandas holds them in memory).

Examples of offending rows: the pandas gates show whole rows; GX's Spark engine returns the
offending values (and their counts), which the report shows instead.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from pathlib import Path

from c360.gates.engine import Frame, GxSession
from c360.gates.frames import FrameError
from c360.gates.raw import manifest_frame, quarantine_notes
from c360.gates.report import GateResult, Outcome
from c360.gates.suites import Suite, load_suites
from c360.land.manifest import read_manifest
from c360.spark import frames

__all__ = ["SparkGxSession", "run_layer_gate_on_spark", "run_raw_gate_on_spark"]


class SparkGxSession(GxSession):
    """A GxSession that validates Spark DataFrames through GX's Spark data source (and
    pandas frames, e.g. the summaries, through its pandas data source as before)."""

    def __init__(self, docs_dir: Path, run_name: str):
        super().__init__(docs_dir, run_name)
        self.pandas_datasource = self.datasource
        self.spark_datasource = self.context.data_sources.add_spark("c360_spark")

    def validate(self, suite: Suite, frames: Iterable[Frame], parameters: dict | None = None,
                 *, what: str = "") -> list[Outcome]:
        frames = iter(frames)
        first = next(frames, None)
        if first is None:
            return []
        if not _is_spark(first.data):
            return super().validate(suite, itertools.chain([first], frames), parameters, what=what)
        self.datasource = self.spark_datasource
        try:
            spark_frames = (Frame(f.label, _structs_as_text(f.data)) for f in itertools.chain([first], frames))
            return super().validate(suite, spark_frames, parameters, what=what)
        finally:
            self.datasource = self.pandas_datasource


def _is_spark(data) -> bool:
    return type(data).__module__.startswith("pyspark.")


def _structs_as_text(data):
    """GX's Spark engine lists every field of a STRUCT column as a column of its own
    (`totals.hits`), which breaks schema expectations written against the top-level columns
    (as the pandas engine and the suites see them). STRUCT columns are handed over as their
    JSON text instead: same names, null where the struct is null."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    if not any(isinstance(f.dataType, StructType) for f in data.schema.fields):
        return data
    return data.select(*[
        (F.to_json(F.col(f"`{f.name}`")) if isinstance(f.dataType, StructType) else F.col(f"`{f.name}`")).alias(f.name)
        for f in data.schema.fields])


# --- raw gate ---------------------------------------------------------------------------------

def run_raw_gate_on_spark(home: Path, batch_ids: list[str], spark, session: SparkGxSession, *,
                          parameters: dict | None = None,
                          suites_dir: Path | None = None) -> dict[str, GateResult]:
    """`c360.gates.run_raw_gate`, with each raw table's rows read and validated by Spark.
    Returns one result per batch; record or reject them with c360.gates as usual."""
    home = Path(home)
    suites = load_suites("raw", suites_dir)
    manifest_suite = next((s for s in suites if s.kind == "manifest"), None)
    table_suites = {s.frame["table"]: s for s in suites if s.kind == "raw_rows"}
    results = {}
    for batch_id in batch_ids:
        started = time.perf_counter()
        result = GateResult(gate="raw")
        manifest = read_manifest(home / "raw", batch_id)
        if manifest_suite is None:
            result.problems.append("no suite of kind 'manifest' under expectations/suites/raw")
        else:
            frame = manifest_frame(home, manifest)
            result.frames.append(f"manifest of batch={batch_id}")
            result.outcomes += session.validate(manifest_suite, [Frame(f"manifest batch={batch_id}", frame)],
                                                parameters, what=f"files of batch={batch_id} (manifest)")
            result.notes += quarantine_notes(home, manifest)
        for table_dir in sorted((home / "raw").glob(f"*/*/batch={batch_id}")):
            table = f"{table_dir.parent.parent.name}/{table_dir.parent.name}"
            suite = table_suites.get(table)
            if suite is None:
                result.problems.append(f"raw table {table} has no suite (expectations/suites/raw/...)")
                continue
            if not any(table_dir.glob("*.parquet")):
                continue
            what = f"raw/{table} rows of batch={batch_id} (Spark)"
            result.frames.append(what)
            data = spark.read.parquet(str(table_dir.resolve()))
            result.outcomes += session.validate(suite, [Frame(what, data)], parameters, what=what)
        result.seconds = time.perf_counter() - started
        results[batch_id] = result
    return results


# --- staging and marts gates ------------------------------------------------------------------

def run_layer_gate_on_spark(layer: str, spark, session: SparkGxSession, *,
                            new_batches: list[str] | None, parameters: dict | None = None,
                            suites_dir: Path | None = None) -> GateResult:
    """`c360.gates.run_layer_gate` against the Spark build in `spark`'s catalog.

    `new_batches`: the batches not in the published version; row-level suites read only the
    rows those batches added (None: all rows).
    """
    started = time.perf_counter()
    result = GateResult(gate=layer)
    for suite in load_suites(layer, suites_dir):
        try:
            _validate_suite(spark, suite, session, result, new_batches, parameters or {})
        except FrameError as error:
            result.problems.append(f"suite {suite.name}: {error}")
    result.seconds = time.perf_counter() - started
    return result


def _validate_suite(spark, suite: Suite, session: SparkGxSession, result: GateResult,
                    new_batches: list[str] | None, parameters: dict) -> None:
    spec = suite.frame
    params = dict(parameters)
    if spec.get("parameter_queries"):
        params |= frames.parameter_values(spark, spec["parameter_queries"])
    if suite.kind == "summary":
        what = f"summary {spec['frame']} ({suite.name}, Spark)"
        chunks = [Frame(what, frames.summary_frame(spark, spec))]
    elif suite.kind == "table":
        what = f"{spec['relation']} (whole table, Spark)"
        chunks = [Frame(what, frames.whole_table(spark, spec["relation"]))]
    elif suite.kind == "rows":
        batch_column = spec.get("batch_column", "batch_id")
        scope = "all rows" if new_batches is None else f"rows of {len(new_batches)} new batches"
        what = f"{spec['relation']} ({scope}, Spark)"
        if new_batches is not None and not new_batches:
            result.notes.append(f"suite {suite.name}: no new batch, no new rows to check")
            return
        data = frames.rows_of(spark, spec["relation"], batch_column=batch_column, batches=new_batches)
        if new_batches is not None and data.isEmpty():
            return    # the new batches added no row to this model: nothing to check
        chunks = [Frame(what, data)]
    else:
        raise FrameError(f"kind {suite.kind!r} does not belong to the {suite.layer} layer")
    outcomes = session.validate(suite, chunks, params, what=what)
    if outcomes:
        result.frames.append(what)
    result.outcomes += outcomes
