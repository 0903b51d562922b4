"""JSON records (GA sessions, CRM exports) into the raw zone.

Fast path: the newline-delimited files of one table, in groups read side by side, each
group in ONE DuckDB pass: `read_blob` split into lines (so every line keeps its number,
blank lines included), each line cast to the explicit record type of `ga_schema.py`, the
good records written straight to zstd Parquet. A record lands on this path only if the
cast takes it (the cast fails on a field outside the contract, at any level, and on a value
that does not convert, like "many" for a number) and it holds no fractional number where a
field's value goes (DuckDB would round 1.5 into a whole-number field). Every other record
is a suspect, decided by `check_record`, which knows the whole contract: it lands, or is
quarantined naming the field path.

Slow path: a JSON array file, a declared dialect (`dialects.py`) or the suspects of a fast
file: records are decided in Python one by one, and DuckDB types the good ones.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from c360.land.dialects import Dialect
from c360.land.delimited import Lineage, sql_path
from c360.land.ga_schema import GA_SESSION
from c360.land.records import TRUNCATED, FileOutcome, FileRejected, Rejection
from c360.land.scan import BOM, FileScan
from c360.land.sources import SourceTable

# A field's value that is a number with a fraction or exponent (`"visitNumber": 1.5`):
# DuckDB would round it into a whole-number field, so such a record is checked one by one.
# Text inside strings rarely looks like `": 1.5` (a timestamp's `13:26:45.2` does not).
_FRACTION = r'"\s*:\s*-?[0-9]+[.eE]'


@dataclass(frozen=True)
class JsonFile:
    path: Path
    relative: str
    scan: FileScan

    @property
    def is_array(self) -> bool:
        return self.scan.head.removeprefix(BOM).lstrip().startswith(b"[")


def schema_of(spec: SourceTable) -> dict:
    return GA_SESSION if spec.format == "ga_sessions" else {c: "VARCHAR" for c in spec.columns}


def duckdb_type(schema) -> str:
    """The DuckDB type of a schema written as json_transform structure (dicts, lists)."""
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return duckdb_type(schema[0]) + "[]"
    return "STRUCT(" + ", ".join(f'"{name}" {duckdb_type(sub)}' for name, sub in schema.items()) + ")"


def check_readable(file: JsonFile) -> None:
    if file.scan.size == 0 or not file.scan.head.strip() and file.scan.lines <= 1:
        raise FileRejected("the file is empty: no records", 0)
    if file.scan.gzip:
        raise FileRejected("the file is compressed (gzip), not text: deliver it uncompressed"
                           " (gunzip it) under the same name", None)


def fast_path_fits(file: JsonFile) -> bool:
    return not file.is_array


# --- fast path --------------------------------------------------------------------------

@dataclass
class FastResult:
    records: int                          # non-blank lines
    landed: int
    suspects: list[tuple[int, bytes]]     # (line, text) for check_record to decide


def land_fast(con: duckdb.DuckDBPyConnection, spec: SourceTable, files: list[JsonFile],
              target: Path, lineage: Lineage) -> dict[str, FastResult]:
    """Lands the records DuckDB alone can vouch for and returns the others as suspects.
    A file that is not valid UTF-8 as a whole is missing from the result (read slowly)."""
    record_type = duckdb_type(schema_of(spec))
    fraction_check = f" and not regexp_matches(text, '{_FRACTION}')" if "BIGINT" in record_type else ""
    con.execute("create or replace temp table split as select filename,"
                " string_split(try(decode(content)), chr(10)) as texts from read_blob(?)",
                [[str(f.path) for f in files]])
    relative = {str(f.path): f.relative for f in files}
    con.execute(
        "create or replace temp view lines as"
        " with numbered as (select filename, generate_subscripts(texts, 1) as line, unnest(texts) as text from split)"
        " select filename, line, rtrim(case when line = 1 then ltrim(text, chr(65279)) else text end, chr(13)) as text"
        " from numbered where trim(text, ' \t\r') <> ''"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # A cast from JSON is strict about keys at every level (a field the contract lacks
    # fails it) and about values that do not convert ("many"). Most groups hold no such
    # record, so the cast is tried bare first (try() costs as much again); a group that
    # fails is cast again under try(), which makes those records null: the suspects.
    # One thread per connection keeps the files' order: no sort is needed.
    for cast in (f"text::json::{record_type}", f"try(text::json::{record_type})"):
        try:
            con.execute(
                f"copy (select unnest(record), ?::varchar as _batch_id,"
                f" (?::varchar[])[list_position(?::varchar[], filename)] as _source_file,"
                f" line::bigint as _source_line, ?::timestamp as _ingested_at"
                f" from (select filename, line, text, {cast} as record from lines)"
                f" where record is not null{fraction_check})"
                f" to '{sql_path(target)}' (format parquet, compression zstd)",
                [lineage.batch_id, list(relative.values()), list(relative), lineage.ingested_at],
            )
            break
        except (duckdb.ConversionException, duckdb.InvalidInputException):
            target.unlink(missing_ok=True)
    landed = dict(con.execute(f"select _source_file, count(*) from read_parquet('{sql_path(target)}')"
                              " group by all").fetchall())
    # Records per file: its lines, as the checksum read counted them, unless blank lines
    # must be told apart (only then are the lines counted again).
    blanks = [name for name, f in zip(relative, files) if f.scan.has_blank_line or not f.scan.ends_with_newline]
    counted = dict(con.execute("select filename, count(*) from lines where list_contains(?, filename) group by all",
                               [blanks]).fetchall()) if blanks else {}
    results = {f.relative: FastResult(int(counted.get(name, 0) if name in blanks else f.scan.lines),
                                      landed.get(f.relative, 0), [])
               for name, f in zip(relative, files)}
    short = [name for name in relative if relative[name] in results
             and results[relative[name]].landed < results[relative[name]].records]
    if short:  # the suspects: lines of those files that did not land
        con.execute(f"create or replace temp table landed_lines as select _source_file, _source_line"
                    f" from read_parquet('{sql_path(target)}') where list_contains(?, _source_file)",
                    [[relative[name] for name in short]])
        for name, line, text in con.execute(
                "select l.filename, l.line, l.text from lines l where list_contains(?, l.filename)"
                " and not exists (select 1 from landed_lines d where d._source_line = l.line"
                " and d._source_file = (?::varchar[])[list_position(?::varchar[], l.filename)])"
                " order by all", [short, list(relative.values()), list(relative)]).fetchall():
            results[relative[name]].suspects.append((int(line), text.encode("utf-8")))
    decoded = {name for (name,) in con.execute("select filename from split where texts is not null").fetchall()}
    for file in files:  # an all-blank but decodable file has no rows, and nothing to land
        if str(file.path) in decoded:
            results.setdefault(file.relative, FastResult(0, 0, []))
        else:
            results.pop(file.relative, None)
    return results


# --- slow path --------------------------------------------------------------------------

def land_slowly(con: duckdb.DuckDBPyConnection, spec: SourceTable, file: JsonFile, target: Path,
                lineage: Lineage, dialect: Dialect | None = None,
                candidates: list[tuple[int, bytes]] | None = None) -> FileOutcome:
    """Decides each record of `file` one by one, or only `candidates` (the fast path's
    suspects: (line, text))."""
    truncated_at = None if file.scan.ends_with_newline or file.is_array else file.scan.lines
    if candidates is None:
        data = file.path.read_bytes()
        if file.is_array:
            candidates = _array_items(data)
        else:
            candidates = [(n, raw) for n, raw in enumerate(data.split(b"\n"), start=1) if raw.strip()]
    schema = schema_of(spec)
    good, rejections, unknown = [], [], set()
    for line, raw in candidates:
        text, reason = _decode(raw, line == 1)
        if reason is None and dialect is not None:
            text, reason = dialect.to_json(text)
        record = None
        if reason is None:
            record, reason = _parse_object(text)
        if reason is None:
            reason = check_record(record, schema)
        if reason is not None and line == truncated_at:  # a complete object is a complete record
            reason = f"{TRUNCATED}; {reason}"
        if reason:
            rejections.append(Rejection(line, reason, _readable(raw)))
            continue
        unknown |= set(record) - set(spec.columns)
        if dialect is not None:
            record = dialect.complete(record, file.relative)
        good.append((line, json.dumps(record, ensure_ascii=False)))
    landed = _write_records(con, spec, good, file.relative, target, lineage)
    outcome = FileOutcome(len(candidates), landed, rejections, dialect=dialect and dialect.name)
    if unknown:
        outcome.notes.append("fields not in the landing contract, not landed: " + ", ".join(sorted(unknown)))
    if dialect is not None and dialect.note:
        outcome.notes.append(dialect.note)
    return outcome


def _array_items(data: bytes) -> list[tuple[int, bytes]]:
    """(position, record bytes) of a JSON array file. Undecodable bytes stay in their own
    record (surrogate escapes), so one bad byte costs one record, not the file."""
    text = data.removeprefix(BOM).decode("utf-8", errors="surrogateescape")
    try:
        items = json.loads(text)
    except ValueError as error:
        raise FileRejected(f"the file starts like a JSON array but is not a valid JSON array ({error})",
                           max(text.count("{"), 1)) from None
    if not isinstance(items, list):
        raise FileRejected("the file starts like a JSON array but is not one", 1)
    return [(position, json.dumps(item, ensure_ascii=False).encode("utf-8", errors="surrogateescape"))
            for position, item in enumerate(items, start=1)]


def _decode(raw: bytes, first: bool) -> tuple[str | None, str | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "bytes that are not valid UTF-8 text"
    return (text.removeprefix("\ufeff") if first else text).rstrip("\r"), None


def _parse_object(text: str) -> tuple[dict | None, str | None]:
    try:
        value = json.loads(text)
    except ValueError:
        if text.lstrip().startswith("{'"):
            return None, "not valid JSON: single-quoted keys, like a Python dict literal"
        return None, "not valid JSON"
    if not isinstance(value, dict):
        return None, f"a JSON {_kind(value)}, expected an object (one record)"
    return value, None


def check_record(record: dict, schema: dict) -> str | None:
    """Why a parsed record does not fit the contract (first problem found), or None."""
    for name, expected in schema.items():
        problem = _check_value(record.get(name), expected, name)
        if problem:
            return problem
    return None


_WHOLE = re.compile(r"-?[0-9]+")


def _check_value(value, expected, path: str) -> str | None:
    if value is None or expected in ("JSON", "VARCHAR"):
        return None  # VARCHAR takes any value as its text, as DuckDB does
    if isinstance(expected, dict):
        if not isinstance(value, dict):
            return _wrong(path, "an object", value)
        for name, sub in expected.items():
            problem = _check_value(value.get(name), sub, f"{path}.{name}")
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(value, list):
            return _wrong(path, "a list", value)
        for i, item in enumerate(value):
            problem = _check_value(item, expected[0], f"{path}[{i}]")
            if problem:
                return problem
        return None
    if expected == "BIGINT":
        fits = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and _WHOLE.fullmatch(value.strip()) is not None)
        return None if fits else _wrong(path, "a whole number (BIGINT)", value)
    if expected == "BOOLEAN":
        return None if isinstance(value, bool) else _wrong(path, "true or false (BOOLEAN)", value)
    return None


def _wrong(path: str, expected: str, value) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f'field "{path}" does not have the expected type: expected {expected}, found {_kind(value)} {shown}'


def _kind(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", float: "number",
            int: "number", type(None): "null"}[type(value)]


def _readable(raw: bytes) -> str:
    return raw.decode("utf-8", errors="backslashreplace").rstrip("\r")


def _write_records(con: duckdb.DuckDBPyConnection, spec: SourceTable, good: list[tuple[int, str]],
                   source_file: str, target: Path, lineage: Lineage) -> int:
    if not good:
        return 0
    schema = json.dumps(schema_of(spec)).replace("'", "''")
    lines, texts = zip(*good)
    con.register("checked", pa.table({"line": pa.array(lines, pa.int64()), "text": pa.array(texts, pa.string())}))
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy (select unnest(json_transform(text, '{schema}')), ?::varchar as _batch_id,"
        f" ?::varchar as _source_file, line as _source_line, ?::timestamp as _ingested_at"
        f" from checked order by line) to '{sql_path(target)}' (format parquet, compression zstd)",
        [lineage.batch_id, source_file, lineage.ingested_at],
    )
    return len(good)
