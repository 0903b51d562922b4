"""Readers turn one delivered file into good rows and rejected records.

DuckDB does the parsing (read_csv with its rejects table, its JSON functions); the line
index from `lines.py` gives every row and every rejection its physical line. A reader puts
the good rows in a temp table `good` (delivered columns + `_source_line`) on the connection
it is given and returns the rejections.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from c360.land.ga_schema import GA_SESSION
from c360.land.lines import LineIndex
from c360.land.sources import SourceTable

TRUNCATED = "the file ends in the middle of this record (no line ending after it): a cut-off delivery"


class FileRejected(Exception):
    """The whole file is unusable (empty, wrong header...): it is quarantined as a whole."""


class LandingInvariantError(RuntimeError):
    """The reader and the line index disagree: landing stops rather than mislabel lines."""


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass
class ReadResult:
    rows_read: int
    rejections: list[Rejection] = field(default_factory=list)
    unmapped_fields: tuple[str, ...] = ()  # delivered top-level JSON fields the contract lacks


# --- delimited text (mainframe extracts, district reference, visitor map) -----------------

def read_delimited(con: duckdb.DuckDBPyConnection, path: Path, spec: SourceTable,
                   lines: LineIndex) -> ReadResult:
    if not (~lines.blank).any():
        raise FileRejected("the file is empty: no header and no records")
    header_line = _header_line(spec, lines)
    data_lines = lines.numbers[header_line:][~lines.blank[header_line:]]
    con.execute(
        "create temp table parsed as select * from read_csv(?, columns = ?, header = ?, sep = ?,"
        " quote = '\"', escape = '\"', auto_detect = false, strict_mode = true,"
        " null_padding = false, store_rejects = true)",
        [str(path), {c: "VARCHAR" for c in spec.columns}, header_line == 1, spec.sep],
    )
    rejections = _csv_rejections(con, len(spec.columns))
    good_lines = np.setdiff1d(data_lines, [r.line for r in rejections], assume_unique=True)
    parsed_rows = con.execute("select count(*) from parsed").fetchone()[0]
    if parsed_rows != len(good_lines):
        raise LandingInvariantError(
            f"{path}: DuckDB parsed {parsed_rows} rows but the file has {len(good_lines)} "
            "good lines; refusing to guess line numbers"
        )
    con.register("good_line_numbers", {"_source_line": good_lines})
    con.execute("create temp table good as select * from parsed positional join good_line_numbers")
    rejections = _mark_truncated_tail(con, lines, rejections)
    return ReadResult(rows_read=len(data_lines), rejections=rejections)


def _header_line(spec: SourceTable, lines: LineIndex) -> int:
    """1 when the first line is the header, 0 when the file starts with data."""
    first = int(np.flatnonzero(~lines.blank)[0])
    if first != 0:
        raise FileRejected("the file starts with an empty line; expected the header first")
    names = [part.strip().strip('"').strip() for part in lines.text(1).split(spec.sep)]
    if names == list(spec.columns):
        return 1
    if spec.header == "optional":
        return 0
    raise FileRejected(
        f"line 1 is not the expected header: found {names}, expected {list(spec.columns)}"
    )


_CSV_REASONS = {
    "MISSING COLUMNS": "too few columns",
    "TOO MANY COLUMNS": "too many columns",
    "UNQUOTED VALUE": "a quote is opened but not closed, or stray text follows a quoted value",
    "INVALID ENCODING": "bytes that are not valid UTF-8 text",
    "LINE SIZE OVER MAXIMUM": "the line is longer than the reader's maximum line size",
}


def _csv_rejections(con: duckdb.DuckDBPyConnection, n_columns: int) -> list[Rejection]:
    rows = con.execute(
        "select line, list(distinct error_type::varchar order by error_type::varchar),"
        " min(error_message) from reject_errors group by line order by line"
    ).fetchall()
    rejections = []
    for line, error_types, message in rows:
        reasons = "; ".join(_CSV_REASONS.get(t, t.lower()) for t in error_types)
        rejections.append(Rejection(int(line), f"{reasons} (expected {n_columns} columns; {message})"))
    return rejections


def _mark_truncated_tail(con: duckdb.DuckDBPyConnection, lines: LineIndex,
                         rejections: list[Rejection]) -> list[Rejection]:
    """A mainframe extract ends every row with a line ending; the last row without one was
    cut off, even when what is left of it happens to parse."""
    if lines.ends_with_newline:
        return rejections
    last = int(lines.numbers[~lines.blank][-1])
    earlier = [r for r in rejections if r.line != last]
    detail = next((r.reason for r in rejections if r.line == last), None)
    con.execute("delete from good where _source_line = ?", [last])
    reason = TRUNCATED if detail is None else f"{TRUNCATED}; {detail}"
    return earlier + [Rejection(last, reason)]


# --- JSON records (CRM exports, GA sessions) ----------------------------------------------
# Many small files (one GA file a day) are read together: the fixed cost of binding the GA
# type is paid once per group, not once per file.

@dataclass(frozen=True)
class JsonFile:
    source_file: str
    lines: LineIndex


def read_json_files(con: duckdb.DuckDBPyConnection, spec: SourceTable, files: list[JsonFile]
                    ) -> tuple[dict[str, ReadResult], dict[str, str]]:
    """Newline-delimited JSON, or one JSON array per file (then `_source_line` is the
    record's position). Leaves `good` (with `_source_file`) on the connection; returns the
    results per file, and the files that could not be read at all with the reason."""
    pieces, unreadable = [], {}
    for file in files:
        try:
            pieces.append(_json_records(con, file))
        except FileRejected as rejected:
            unreadable[file.source_file] = str(rejected)
    con.register("records", pa.concat_tables(pieces) if pieces else _EMPTY_RECORDS)
    # Decode once into a table: used inline, the decoded text is recomputed for every use.
    con.execute("create temp table decoded as select _source_file, line_no,"
                " rtrim(try(decode(raw)), chr(13) || chr(10)) as text from records")
    # One parse per record: text that does not open like an object, or does not parse (try),
    # gets a null record, and only those few records are parsed again, to say why
    # (_json_reason_sql). The opening brace is checked because json_transform also accepts an array.
    con.execute(
        f"create temp table typed as select *, case when ltrim(text, ' \t\r\n') like '{{%'"
        f" then try(json_transform(text, '{_json_schema(spec)}')) end as record from decoded"
    )
    con.execute("drop table decoded")
    con.execute(f"create temp table classified as select _source_file, line_no, {_json_reason_sql(spec)} as reason from typed")
    con.execute(
        "create temp table good as select unnest(t.record), t._source_file, t.line_no as _source_line"
        " from typed t join classified c using (_source_file, line_no) where c.reason is null"
    )
    counts = dict(con.execute("select _source_file, count(*) from typed group by all").fetchall())
    rejections: dict[str, list[Rejection]] = {}
    for name, line, reason in con.execute(
        "select _source_file, line_no, reason from classified where reason is not null order by all"
    ).fetchall():
        rejections.setdefault(name, []).append(Rejection(int(line), reason))
    unmapped = _unmapped_fields(con, spec)
    results = {
        file.source_file: ReadResult(counts.get(file.source_file, 0),
                                     _note_truncated_json(file.lines, rejections.get(file.source_file, [])),
                                     unmapped.get(file.source_file, ()))
        for file in files if file.source_file not in unreadable
    }
    return results, unreadable


def _unmapped_fields(con: duckdb.DuckDBPyConnection, spec: SourceTable) -> dict[str, tuple[str, ...]]:
    """A new field in a feed is not silently lost: landing names it in the file's report."""
    rows = con.execute(
        "select _source_file, list(distinct key order by key) from"
        " (select _source_file, unnest(json_keys(text)) as key from typed where record is not null)"
        " where not list_contains(?, key) group by all",
        [list(spec.columns)],
    ).fetchall()
    return {name: tuple(keys) for name, keys in rows}


_EMPTY_RECORDS = pa.table({"line_no": pa.array([], pa.int64()), "raw": pa.array([], pa.large_binary()),
                           "_source_file": pa.array([], pa.string())})


def _json_records(con: duckdb.DuckDBPyConnection, file: JsonFile) -> pa.Table:
    """(line_no, raw, _source_file) for the non-blank lines, or for the array's items."""
    lines = file.lines
    if not (~lines.blank).any():
        raise FileRejected("the file is empty: no records")
    if lines.text(int(lines.numbers[~lines.blank][0])).lstrip().startswith("["):
        table = _json_array_items(con, lines)
    else:
        table = lines.as_arrow().filter(pa.array(~lines.blank)).select(["line_no", "raw"])
    return table.append_column("_source_file", pa.repeat(file.source_file, table.num_rows).cast(pa.string()))


def _json_array_items(con: duckdb.DuckDBPyConnection, lines: LineIndex) -> pa.Table:
    text = lines.data.tobytes().decode("utf-8", errors="replace")
    if not con.execute("select json_valid(?) and json_type(?) = 'ARRAY'", [text, text]).fetchone()[0]:
        raise FileRejected("the file starts like a JSON array but is not a valid JSON array")
    return con.execute(
        "select generate_subscripts(items, 1)::bigint as line_no, unnest(items)::varchar::blob as raw"
        " from (select from_json(?, '[\"JSON\"]') as items)", [text]
    ).to_arrow_table().cast(pa.schema([("line_no", pa.int64()), ("raw", pa.large_binary())]))


def _json_schema(spec: SourceTable) -> str:
    if spec.format == "ga_sessions":
        return json.dumps(GA_SESSION).replace("'", "''")
    return json.dumps({column: "VARCHAR" for column in spec.columns})


def _json_reason_sql(spec: SourceTable) -> str:
    """Why a record cannot land, or null. A field that is present but does not fit its
    declared type would come back null from json_transform: that is a rejection, not a
    silent loss. The record's own null test comes first so that a good record is not parsed
    again."""
    mistyped = " ".join(
        f"when record.\"{c}\" is null and json_type(text, '$.\"{c}\"') <> 'NULL'"
        f" then 'field \"{c}\" does not have the expected type (' || json_type(text, '$.\"{c}\"') || ')'"
        for c in spec.columns
    )
    return (
        "case when text is null then 'bytes that are not valid UTF-8 text'"
        " when record is null then case"
        "  when not json_valid(text) and ltrim(text) like '{''%'"
        "  then 'not valid JSON: single-quoted keys, like a Python dict literal'"
        "  when not json_valid(text) then 'not valid JSON'"
        "  when json_type(text) <> 'OBJECT' then 'a JSON ' || lower(json_type(text)) || ', expected an object (one record)'"
        "  else 'a JSON object that does not fit the landing contract' end"
        f" {mistyped} end"
    )


def _note_truncated_json(lines: LineIndex, rejections: list[Rejection]) -> list[Rejection]:
    if lines.ends_with_newline or not rejections:
        return rejections
    last = int(lines.numbers[~lines.blank][-1])
    return [Rejection(r.line, f"{TRUNCATED}; {r.reason}") if r.line == last else r for r in rejections]
