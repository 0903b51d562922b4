"""The raw gate: every batch not gated yet, checked before anything is built from it.

Per batch it validates
  * `raw.batch`, one row per file of the batch's manifest, next to what is really on disk
    (rows in the batch's Parquet files, records in its quarantine files): counts reconcile,
    and the quarantined share of every file stays under the threshold (default 1%);
  * `raw.<source>.<table>`, what the batch landed for that table: schema, keys present,
    code values known, dates parse, no business key delivered twice with different content
    in one file.

The engine measures, GX judges. The facts a table's suite checks are computed by the
engine (DuckDB, or Spark) in one aggregate query over the batch's Parquet files of that
table, grouped by delivered file: per file its rows (for `raw.batch`), and for every
column-level expectation of the suite the rows it would find unexpected, with the SQL
derived from the expectation itself (`measure_sql`). GX then validates those measurements:
each expectation becomes `unexpected_rows` (or its share, with `mostly`) between 0 and 0 on
its row of the measured frame, and the schema expectations run on an empty frame carrying
the batch's columns. Nothing reads the rows into Python; only when a check finds something
are its most common offending values and a few offending rows (file and line first) fetched,
so a failure on a ten-million-row batch still shows examples.

The suite JSON stays the one place that says what is guarded: a raw suite holds ordinary GX
expectations (see MEASURED for the types the engine measures), and `meta.c360.conflicts`
names the business key whose conflicting duplicates inside one delivered file are reported.

A batch that passes is recorded in `<home>/gates/raw/batch=<id>.json` and is never gated again.
A batch that fails is taken out of the raw zone (manifest first, so it is uncommitted at once)
into `<home>/rejected/batch=<id>/` with its verdict: what is built is always gated data. Its
files are not remembered as landed, so delivering them again gates them again.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from c360.engines import Engine, EngineError
from c360.gates.engine import Frame, GxSession
from c360.gates.report import GateResult, Outcome
from c360.gates.suites import BLOCKING_SEVERITY, Suite, SuiteError, load_suites
from c360.land.manifest import MANIFEST_DIR, committed_batches, manifest_path, read_manifest

QUARANTINE_EXAMPLES = 5
EXAMPLES = 5                    # offending rows shown per failed check
VALUES = 5                      # most common offending values shown per failed check
LINEAGE = ("_batch_id", "_source_file", "_source_line", "_ingested_at")
SCHEMA_TYPES = ("expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list",
                "expect_column_to_exist", "expect_table_column_count_to_equal",
                "expect_table_column_count_to_be_between")


# --- what the engine measures -------------------------------------------------------------

def _not_null(e: Engine, column: str, kwargs: dict) -> str:
    return f"{column} is null"


def _regex(e: Engine, column: str, kwargs: dict) -> str:
    return f"{column} is not null and not {e.regex_match(e.text(column), kwargs['regex'])}"


def _not_regex(e: Engine, column: str, kwargs: dict) -> str:
    return f"{column} is not null and {e.regex_match(e.text(column), kwargs['regex'])}"


def _in_set(e: Engine, column: str, kwargs: dict) -> str:
    listed = ", ".join(e.literal(str(v)) for v in kwargs["value_set"])
    return f"{column} is not null and {e.text(column)} not in ({listed})"


def _strftime(e: Engine, column: str, kwargs: dict) -> str:
    return f"{column} is not null and not {e.parses_as(e.text(column), kwargs['strftime_format'])}"


# expectation type -> SQL predicate "this row is unexpected", GX's semantics: every type but
# not-null ignores null values (they count as rows, never as unexpected)
MEASURED = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_match_regex": _regex,
    "expect_column_values_to_not_match_regex": _not_regex,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_match_strftime_format": _strftime,
}
CONFLICTS = "conflicting duplicates in one file"


@dataclass
class Check:
    """One measured fact of a raw suite: an expectation's unexpected rows, or conflicts."""
    id: str
    expectation: str
    kwargs: dict
    column: str
    severity: str
    description: str | None
    predicate: str | None = None          # SQL: the row is unexpected (None: conflicts)
    mostly: float | None = None


@dataclass
class Measured:
    """What the engine found in one table of one batch."""
    table: str
    rows_per_file: dict[str, int]
    columns: dict[str, str]
    checks: list[Check]
    unexpected: dict[str, int]                     # check id -> unexpected rows (conflicts: keys)
    non_null: dict[str, int]                       # check id -> non-null rows of its column
    files: dict[str, list[str]] = field(default_factory=dict)     # check id -> files with findings
    values: dict[str, list[tuple]] = field(default_factory=dict)  # check id -> (value, count)
    examples: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.rows_per_file.values())


def _resolve(value, parameters: dict):
    if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
        return parameters[value["$PARAMETER"]]
    return value


def checks_of(suite: Suite, engine: Engine, parameters: dict | None = None) -> list[Check]:
    """The measured checks of a raw suite, with their SQL, derived from its expectations."""
    params = suite.parameters | (parameters or {})
    checks = []
    for expectation in suite.expectations:
        kind = expectation["type"]
        if kind in SCHEMA_TYPES:
            continue
        if kind not in MEASURED:
            raise SuiteError(f"{suite.path}: {kind} cannot be measured by the raw gate; a raw suite"
                             f" holds schema expectations and {sorted(MEASURED)}")
        kwargs = {k: _resolve(v, params) for k, v in expectation["kwargs"].items()}
        unknown = set(kwargs) - {"column", "regex", "value_set", "strftime_format", "mostly"}
        if unknown:
            raise SuiteError(f"{suite.path}: {kind} on {kwargs.get('column')}: the raw gate does not"
                             f" measure {sorted(unknown)}")
        checks.append(Check(
            id=expectation["id"], expectation=kind, kwargs=kwargs, column=kwargs["column"],
            severity=expectation.get("severity", BLOCKING_SEVERITY),
            description=expectation.get("meta", {}).get("description"),
            predicate=MEASURED[kind](engine, engine.quote(kwargs["column"]), kwargs),
            mostly=kwargs.get("mostly")))
    conflicts = suite.frame.get("conflicts")
    if conflicts:
        checks.append(Check(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{suite.name}#conflicts")), expectation=CONFLICTS,
            kwargs={"key": conflicts["key"]}, column=", ".join(conflicts["key"]),
            severity=conflicts.get("severity", BLOCKING_SEVERITY), description=conflicts.get("description")))
    return checks


def _key_expressions(engine: Engine, suite: Suite) -> list[str]:
    spec = suite.frame["conflicts"]
    keys = [engine.quote(k) for k in spec["key"]]
    return [f"trim({engine.text(k)})" for k in keys] if spec.get("trim", True) else keys


def measure_sql(engine: Engine, relation: str, checks: list[Check], key: list[str] | None) -> str:
    """The one aggregate query per table: per delivered file, its rows, the distinct business
    keys (when the suite names one), and each check's unexpected and non-null rows."""
    parts = ["_source_file", "count(*) as n_rows"]
    if key:
        parts.append(f"count(distinct {engine.row(key)}) as n_keys")
    for index, check in enumerate(checks):
        if check.predicate is None:
            continue
        parts.append(f"sum(case when {check.predicate} then 1 else 0 end) as u{index}")
        parts.append(f"count({engine.quote(check.column)}) as n{index}")
    return f"select {', '.join(parts)} from {relation} as raw group by _source_file"


def measure_table(engine: Engine, table: str, folder: Path, suite: Suite | None,
                  parameters: dict | None = None) -> Measured | None:
    """Measure one table of one batch (None: the folder holds no Parquet file)."""
    found = engine.raw_relation(folder)
    if found is None:
        return None
    relation, columns = found
    checks = checks_of(suite, engine, parameters) if suite else []
    checks = [c for c in checks if c.expectation == CONFLICTS or c.column in columns]
    key = _key_expressions(engine, suite) if suite and suite.frame.get("conflicts") else None
    if key and not set(suite.frame["conflicts"]["key"]) <= set(columns):
        key, checks = None, [c for c in checks if c.expectation != CONFLICTS]  # the schema check fails
    per_file = engine.frame(measure_sql(engine, relation, checks, key))
    measured = Measured(
        table=table, columns=columns, checks=checks,
        rows_per_file={str(f): int(n) for f, n in zip(per_file["_source_file"], per_file["n_rows"])},
        unexpected={}, non_null={})
    for index, check in enumerate(checks):
        if check.predicate is None:
            continue
        unexpected = per_file[f"u{index}"].fillna(0).astype(int)
        measured.unexpected[check.id] = int(unexpected.sum())
        measured.non_null[check.id] = int(per_file[f"n{index}"].sum())
        if measured.unexpected[check.id]:
            measured.files[check.id] = sorted(per_file["_source_file"][unexpected > 0].astype(str))
            _fetch_examples(engine, relation, columns, check, measured)
    conflict = next((c for c in checks if c.expectation == CONFLICTS), None)
    if conflict is not None:
        duplicated = per_file[per_file["n_rows"] > per_file["n_keys"]]
        measured.unexpected[conflict.id] = 0
        measured.non_null[conflict.id] = measured.rows
        if len(duplicated):
            _find_conflicts(engine, relation, columns, suite, key, conflict, measured)
    return measured


def _shown_columns(columns: dict[str, str], first: list[str]) -> list[str]:
    """Columns an example row shows: file and line, the checked column(s), then the other
    flat columns (nested GA columns would drown the row)."""
    flat = [c for c, t in columns.items() if not any(m in t.upper() for m in ("STRUCT", "[]", "MAP", "ARRAY"))]
    order = ["_source_file", "_source_line", *first]
    return [c for c in order if c in columns] + [c for c in flat if c not in order and c not in LINEAGE]


def _fetch_examples(engine: Engine, relation: str, columns: dict[str, str], check: Check,
                    measured: Measured) -> None:
    q = engine.quote
    column = q(check.column)
    measured.values[check.id] = [tuple(r.values()) for r in engine.records(
        f"select {column} as value, count(*) as n from {relation} as raw where {check.predicate}"
        f" group by {column} order by count(*) desc, {column}", VALUES)]
    shown = ", ".join(q(c) for c in _shown_columns(columns, [check.column]))
    measured.examples[check.id] = engine.records(
        f"select {shown} from {relation} as raw where {check.predicate}"
        f" order by _source_file, _source_line", EXAMPLES)


def _find_conflicts(engine: Engine, relation: str, columns: dict[str, str], suite: Suite,
                    key: list[str], check: Check, measured: Measured) -> None:
    """Keys delivered more than once in one file with different content (identical repeats
    are harmless: staging keeps one of equal records); a few of them with file, lines and
    the differing values."""
    key_columns = suite.frame["conflicts"]["key"]
    content = [engine.quote(c) for c in columns if c not in LINEAGE and c not in key_columns]
    keyed = f"select raw.*, {engine.row(key)} as c360_key from {relation} as raw"
    conflicting = (f"select _source_file, c360_key from ({keyed}) as keyed group by _source_file, c360_key"
                   f" having count(*) > 1 and count(distinct {engine.row(content)}) > 1")
    (count,) = engine.one(f"select count(*) from ({conflicting}) as conflicting")
    measured.unexpected[check.id] = int(count)
    if not count:
        return
    first = engine.records(f"select _source_file, c360_key from ({conflicting}) as c"
                           f" order by _source_file, c360_key", EXAMPLES)
    measured.files[check.id] = sorted({r["_source_file"] for r in first})
    shown = ", ".join(f"k.{engine.quote(c)}" for c in _shown_columns(columns, key_columns))
    rows = engine.records(
        f"select {shown}, k.c360_key from ({keyed}) as k join ({conflicting}) as c"
        f" on k._source_file = c._source_file and k.c360_key = c.c360_key"
        f" order by k._source_file, k.c360_key, k._source_line", 1000)
    wanted = {(r["_source_file"], r["c360_key"]) for r in first}
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        where = (row["_source_file"], row.pop("c360_key"))
        if where in wanted:
            groups.setdefault(where, []).append(row)
    measured.examples[check.id] = [_conflict_example(key_columns, group) for group in groups.values()]


def _conflict_example(key_columns: list[str], rows: list[dict]) -> dict:
    """One conflicting key: where it was delivered and what differs, e.g.
    {'_source_file': 'mainframe/trans.asc', 'lines': [3, 7], 'trans_id': '1001',
     'differs': "amount: '100.00' (line 3) | '999.00' (line 7)"}"""
    first = rows[0]
    differing = [c for c in first if c not in ("_source_file", "_source_line", *key_columns)
                 and len({repr(r.get(c)) for r in rows}) > 1]
    differs = "; ".join(f"{c}: " + " | ".join(f"{r.get(c)!r} (line {r['_source_line']})" for r in rows)
                        for c in differing)
    return {"_source_file": first["_source_file"], "lines": [r["_source_line"] for r in rows],
            **{k: first.get(k) for k in key_columns}, "differs": differs}


# --- what GX judges -------------------------------------------------------------------------

def measured_frame(measured: Measured) -> pd.DataFrame:
    """One row per check: what the engine counted, and `excess`, how far it is over what the
    expectation allows (unexpected rows, or with `mostly` the unexpected share over 1 - mostly)."""
    rows = []
    for check in measured.checks:
        unexpected = measured.unexpected.get(check.id, 0)
        denominator = measured.rows if check.expectation in (CONFLICTS, "expect_column_values_to_not_be_null") \
            else measured.non_null.get(check.id, 0)
        share = unexpected / denominator if denominator else 0.0
        rows.append({"check": check.id, "severity": check.severity, "expectation": check.expectation,
                     "column": check.column, "rows": measured.rows, "unexpected_rows": unexpected,
                     "unexpected_share": share,
                     "excess": unexpected if check.mostly is None else share - (1 - check.mostly),
                     "files": ", ".join(measured.files.get(check.id, []))})
    return pd.DataFrame(rows, columns=["check", "severity", "expectation", "column", "rows", "unexpected_rows",
                                       "unexpected_share", "excess", "files"])


def measured_suite(severities: list[str]) -> Suite:
    """The suite GX runs on the measured frame: no check in excess, one expectation per
    severity (GX's cost grows with the number of expectations, not with the frame's rows)."""
    expectations = [{
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"raw.measured#{severity}")),
        "type": "expect_column_values_to_be_between", "severity": severity,
        "kwargs": {"column": "excess", "max_value": 0,
                   "row_condition": {"type": "comparison", "column": {"name": "severity"},
                                     "operator": "==", "parameter": severity}},
        "meta": {"description": f"No {severity} check of a raw suite finds more than its expectation allows."}}
        for severity in severities]
    body = {"name": "raw.measured", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "raw.measured")),
            "expectations": expectations, "meta": {"c360": {"kind": "summary"}}}
    return Suite(name=body["name"], path=Path("raw.measured"), body=body)


def _derived_id(suite: Suite, part: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{suite.name}#{part}"))


def schema_suite(suite: Suite) -> Suite | None:
    expectations = [e for e in suite.expectations if e["type"] in SCHEMA_TYPES]
    if not expectations:
        return None
    body = {"name": f"{suite.name}.schema", "id": _derived_id(suite, "schema"), "expectations": expectations,
            "meta": {"c360": {"kind": "summary", "measures": suite.name}}}
    return Suite(name=body["name"], path=suite.path, body=body)


def validate_schema(session: GxSession, suite: Suite, measured: Measured, parameters: dict | None,
                    what: str) -> list[Outcome]:
    """The suite's schema expectations, by GX, on an empty frame with the batch's columns."""
    schema = schema_suite(suite)
    if schema is None:
        return []
    empty = pd.DataFrame({c: pd.Series([], dtype="object") for c in measured.columns})
    return [dataclasses.replace(o, suite=suite.name)
            for o in session.validate(schema, [Frame(f"{what} (columns)", empty)], parameters, what=what)]


def validate_measured(session: GxSession, tables: list[tuple[Suite, Measured, str]], parameters: dict | None,
                      batch_id: str) -> list[Outcome]:
    """Every table's measured checks in one GX validation (one row per check); GX's verdict
    per severity, then told check by check as its suite's own expectation."""
    if not any(m.checks for _, m, _ in tables):
        return []
    frame = pd.concat([measured_frame(m) for _, m, _ in tables if m.checks], ignore_index=True)
    severities = sorted(set(frame["severity"]))
    judged = session.validate(measured_suite(severities), [Frame(f"measured raw tables of batch={batch_id}", frame)],
                              parameters, what=f"raw tables of batch={batch_id} (measured)")
    verdict = {o.condition.split("==", 1)[1].strip().strip("'\""): o for o in judged}
    excess = dict(zip(frame["check"], frame["excess"]))
    outcomes = []
    for suite, measured, what in tables:
        for check in measured.checks:
            group, in_excess = verdict[check.severity], bool(excess[check.id] > 0)
            if group.success and in_excess:     # GX and the frame apply one rule: never
                raise RuntimeError(f"GX passed check {check.id} of {suite.name} although it is in excess")
            judged_check = dataclasses.replace(group, expectation_id=check.id,
                                               success=not in_excess and not group.observed.startswith("error:"))
            outcomes.append(dataclasses.replace(_as_measured(judged_check, check, measured, suite.name), frame=what))
    return outcomes


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _as_measured(outcome: Outcome, check: Check, measured: Measured, suite_name: str) -> Outcome:
    """GX's verdict on a measured row, told as the original expectation on the rows."""
    unexpected = measured.unexpected.get(check.id, 0)
    if outcome.observed.startswith("error:"):
        observed = outcome.observed
    elif check.expectation == CONFLICTS:
        observed = f"{unexpected:,} keys delivered more than once with different content in one file"
    else:
        denominator = measured.non_null.get(check.id, 0) if check.expectation != "expect_column_values_to_not_be_null" \
            else measured.rows
        share = unexpected / denominator if denominator else 0.0
        observed = f"{unexpected:,} of {measured.rows:,} rows unexpected ({share:.4%})"
        values = measured.values.get(check.id)
        if values:
            observed += "; values " + ", ".join(f"{_clip(repr(v))} x{n:,}" for v, n in values)
    if measured.files.get(check.id):
        files = measured.files[check.id]
        observed += f"; in {', '.join(files[:3])}" + (f" and {len(files) - 3} more files" if len(files) > 3 else "")
    return dataclasses.replace(
        outcome, suite=suite_name, expectation=check.expectation, column=check.column, condition=None,
        kwargs={k: v for k, v in check.kwargs.items()}, observed=observed,
        unexpected_count=unexpected, element_count=measured.rows,
        examples=measured.examples.get(check.id, []), description=check.description)


# --- the gate ---------------------------------------------------------------------------

def ledger_dir(home: Path) -> Path:
    return Path(home) / "gates" / "raw"


def ungated_batches(home: Path) -> list[str]:
    """Committed batches the raw gate has not passed yet (landed by this run or by `c360 land`)."""
    passed = {p.stem.removeprefix("batch=") for p in ledger_dir(home).glob("batch=*.json")}
    return [b for b in committed_batches(Path(home) / "raw") if b not in passed]


def run_raw_gate(home: Path, batch_ids: list[str], session: GxSession, *,
                 parameters: dict | None = None, suites_dir: Path | None = None,
                 engine: Engine | None = None) -> dict[str, GateResult]:
    """Gate each batch; returns one result per batch (an empty dict when there is nothing new).
    `engine`: where the raw Parquet is measured (default: an in-memory DuckDB)."""
    from c360.engines.duckdb import DuckDBEngine

    home = Path(home)
    suites = load_suites("raw", suites_dir)
    manifest_suite = next((s for s in suites if s.kind == "manifest"), None)
    table_suites = {s.frame["table"]: s for s in suites if s.kind == "raw_rows"}
    own = engine is None
    engine = DuckDBEngine.open() if own else engine
    results = {}
    try:
        for batch_id in batch_ids:
            results[batch_id] = _gate_batch(home, batch_id, engine, session, manifest_suite,
                                            table_suites, parameters)
    finally:
        if own:
            engine.close()
    return results


def _gate_batch(home: Path, batch_id: str, engine: Engine, session: GxSession, manifest_suite: Suite | None,
                table_suites: dict[str, Suite], parameters: dict | None) -> GateResult:
    started = time.perf_counter()
    result = GateResult(gate="raw")
    on = "" if engine.name == "duckdb" else f", {engine.name}"
    parquet_rows: dict[str, int] = {}
    measured_tables: list[tuple[Suite, Measured, str]] = []
    for table_dir in sorted((home / "raw").glob(f"*/*/batch={batch_id}")):
        table = f"{table_dir.parent.parent.name}/{table_dir.parent.name}"
        if table_dir.parent.parent.name == MANIFEST_DIR:
            continue
        suite = table_suites.get(table)
        what = f"raw/{table} of batch={batch_id}{on}"
        try:
            measured = measure_table(engine, table, table_dir, suite, parameters)
        except (EngineError, SuiteError) as error:
            result.problems.append(f"raw/{table} of batch={batch_id}: {error}")
            continue
        if measured is None:
            continue
        parquet_rows |= measured.rows_per_file
        if suite is None:
            result.problems.append(f"raw table {table} has no suite (expectations/suites/raw/...)")
            continue
        result.frames.append(f"{what} ({measured.rows:,} rows measured)")
        result.outcomes += validate_schema(session, suite, measured, parameters, what)
        measured_tables.append((suite, measured, what))
    result.outcomes += validate_measured(session, measured_tables, parameters, batch_id)
    manifest = read_manifest(home / "raw", batch_id)
    if manifest_suite is None:
        result.problems.append("no suite of kind 'manifest' under expectations/suites/raw")
    else:
        frame = manifest_frame(home, manifest, parquet_rows)
        result.frames.insert(0, f"manifest of batch={batch_id}")
        result.outcomes[:0] = session.validate(manifest_suite, [Frame(f"manifest batch={batch_id}", frame)],
                                               parameters, what=f"files of batch={batch_id} (manifest)")
        result.notes += quarantine_notes(home, manifest)
    result.seconds = time.perf_counter() - started
    return result


def manifest_frame(home: Path, manifest: dict, parquet_rows: dict[str, int]) -> pd.DataFrame:
    """One row per new file: what the manifest says next to what is on disk (`parquet_rows`:
    the rows per delivered file the engine counted in the batch's Parquet files)."""
    rows = []
    for entry in manifest["files"]:
        if entry["status"] == "skipped":
            continue
        rows_read = int(entry.get("rows_read") or 0)
        landed = int(entry.get("rows_landed") or 0)
        quarantined = int(entry.get("rows_quarantined") or 0)
        rows.append({
            "source_file": entry["source_file"],
            "source": entry.get("source"),
            "table": entry.get("table"),
            "status": entry["status"],
            "rows_read": rows_read,
            "rows_landed": landed,
            "rows_quarantined": quarantined,
            "parquet_rows": parquet_rows.get(entry["source_file"], 0),
            "quarantine_records": _quarantine_records(home, entry.get("quarantine_file")),
            "unaccounted_rows": rows_read - landed - quarantined,
            "quarantined_share": quarantined / rows_read if rows_read else
                                 float(entry["status"] == "quarantined"),
            "quarantine_file": entry.get("quarantine_file"),
        })
    frame = pd.DataFrame(rows, columns=[
        "source_file", "source", "table", "status", "rows_read", "rows_landed", "rows_quarantined",
        "parquet_rows", "quarantine_records", "unaccounted_rows", "quarantined_share", "quarantine_file"])
    frame["landed_minus_parquet"] = frame["rows_landed"] - frame["parquet_rows"]
    frame["quarantined_minus_records"] = frame["rows_quarantined"] - frame["quarantine_records"]
    return frame


def _quarantine_records(home: Path, relative: str | None) -> int:
    """Records kept aside in a quarantine file (a whole-file entry says how many rows it had)."""
    if not relative or not (home / relative).is_file():
        return 0
    count = 0
    with (home / relative).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                count += int(record["rows"]) if record.get("line") is None and "rows" in record else 1
    return count


def quarantine_notes(home: Path, manifest: dict) -> list[str]:
    """Names the quarantined records: file, share, where they are, the first few lines."""
    notes = []
    for entry in manifest["files"]:
        quarantined, read = entry.get("rows_quarantined") or 0, entry.get("rows_read") or 0
        if not quarantined or not entry.get("quarantine_file"):
            continue
        share = quarantined / read if read else 1.0
        note = (f"{entry['source_file']}: {quarantined:,} of {read:,} records quarantined ({share:.3%})"
                f" -> {home / entry['quarantine_file']}")
        with (home / entry["quarantine_file"]).open(encoding="utf-8") as handle:
            for _, line in zip(range(QUARANTINE_EXAMPLES), handle):
                record = json.loads(line)
                where = f"line {record['line']}" if record.get("line") is not None else "whole file"
                note += f"\n         {where}: {record['reason']}"
        notes.append(note)
    return notes


def record_passed(home: Path, batch_id: str, result: GateResult) -> None:
    _write_json(ledger_dir(home) / f"batch={batch_id}.json",
                {"batch_id": batch_id, "verdict": "passed"} | result.summary())


def reject_batch(home: Path, batch_id: str, result: GateResult) -> Path:
    """Move a failed batch out of the raw zone; returns where it went.

    The manifest goes first: from then on the batch is not committed, so no build reads it
    and landing would clean up any part a crash left behind.
    """
    home = Path(home)
    target = home / "rejected" / f"batch={batch_id}"
    target.mkdir(parents=True, exist_ok=True)
    os.replace(manifest_path(home / "raw", batch_id), target / "manifest.json")
    for table_dir in sorted((home / "raw").glob(f"*/*/batch={batch_id}")):
        if table_dir.parent.parent.name == MANIFEST_DIR:
            continue
        destination = target / "raw" / table_dir.parent.parent.name / table_dir.parent.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(destination, ignore_errors=True)
        os.replace(table_dir, destination)
    quarantine = home / "quarantine" / f"batch={batch_id}"
    if quarantine.is_dir():
        shutil.rmtree(target / "quarantine", ignore_errors=True)
        os.replace(quarantine, target / "quarantine")
    _write_json(target / "verdict.json", {"batch_id": batch_id, "verdict": "rejected"} | result.summary())
    return target


def _write_json(path: Path, body: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body, indent=2, default=str) + "\n")
    os.replace(temporary, path)


__all__ = ["run_raw_gate", "ungated_batches", "record_passed", "reject_batch", "manifest_frame",
           "measure_table", "measure_sql", "checks_of"]
