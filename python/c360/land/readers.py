"""Readers turn one delivered file into good rows and rejected records.

DuckDB does the parsing (read_csv with its rejects table, its JSON functions); the line
index from `lines.py` gives every row and every rejection its physical line. A reader puts
the good rows in a temp table `good` (delivered columns + `_source_line`) on the connection
it is given and returns the rejections.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

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


def read_file(con: duckdb.DuckDBPyConnection, path: Path, spec: SourceTable,
              lines: LineIndex) -> ReadResult:
    if not (~lines.blank).any():
        raise FileRejected("the file is empty: no header and no records")
    if spec.delimited:
        return read_delimited(con, path, spec, lines)
    return read_json_records(con, spec, lines)


# --- delimited text (mainframe extracts, district reference, visitor map) -----------------

def read_delimited(con: duckdb.DuckDBPyConnection, path: Path, spec: SourceTable,
                   lines: LineIndex) -> ReadResult:
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

def read_json_records(con: duckdb.DuckDBPyConnection, spec: SourceTable,
                      lines: LineIndex) -> ReadResult:
    """Newline-delimited JSON, or one JSON array (then `_source_line` is the position)."""
    con.register("file_lines", lines.as_arrow())
    con.execute(
        "create temp table records as select line_no, rtrim(try(decode(raw)), chr(13) || chr(10)) as text,"
        " raw is not null and try(decode(raw)) is null as undecodable"
        " from file_lines where not blank"
    )
    if _is_json_array(con):
        _explode_json_array(con)
    schema = _json_schema(spec)
    con.execute(
        f"create temp table typed as select line_no, text, undecodable,"
        f" case when not undecodable and json_valid(text) and json_type(text) = 'OBJECT'"
        f" then json_transform(text, '{schema}') end as record from records"
    )
    con.execute(f"create temp table classified as select line_no, {_json_reason_sql(spec)} as reason from typed")
    con.execute(
        "create temp table good as select unnest(t.record), t.line_no as _source_line"
        " from typed t join classified c using (line_no) where c.reason is null order by t.line_no"
    )
    rejections = [
        Rejection(int(line), reason) for line, reason in con.execute(
            "select line_no, reason from classified where reason is not null order by line_no"
        ).fetchall()
    ]
    rows_read = con.execute("select count(*) from records").fetchone()[0]
    return ReadResult(rows_read=rows_read, rejections=_note_truncated_json(lines, rejections))


def _is_json_array(con: duckdb.DuckDBPyConnection) -> bool:
    first = con.execute("select ltrim(text) from records order by line_no limit 1").fetchone()
    return first is not None and first[0] is not None and first[0].startswith("[")


def _explode_json_array(con: duckdb.DuckDBPyConnection) -> None:
    whole = con.execute("select string_agg(text, chr(10) order by line_no) from records").fetchone()[0]
    if not con.execute("select json_valid(?)", [whole]).fetchone()[0]:
        raise FileRejected("the file starts like a JSON array but is not valid JSON as a whole")
    con.execute("drop table records")
    con.execute(
        "create temp table records as select generate_subscripts(items, 1) as line_no,"
        " unnest(items)::varchar as text, false as undecodable"
        " from (select from_json(?, '[\"JSON\"]') as items)",
        [whole],
    )


def _json_schema(spec: SourceTable) -> str:
    import json

    if spec.format == "ga_sessions":
        return json.dumps(GA_SESSION).replace("'", "''")
    return json.dumps({column: "VARCHAR" for column in spec.columns})


def _json_reason_sql(spec: SourceTable) -> str:
    """Why a record cannot land, or null. A field that is present but does not fit its
    declared type would come back null from json_transform: that is a rejection, not a
    silent loss."""
    mistyped = " ".join(
        f"when json_type(text, '$.\"{c}\"') not in ('NULL') and record.\"{c}\" is null"
        f" then 'field \"{c}\" does not have the expected type (' || json_type(text, '$.\"{c}\"') || ')'"
        for c in spec.columns
    )
    return (
        "case when undecodable then 'bytes that are not valid UTF-8 text'"
        " when not json_valid(text) and ltrim(text) like '{''%'"
        " then 'not valid JSON: single-quoted keys, like a Python dict literal'"
        " when not json_valid(text) then 'not valid JSON'"
        " when json_type(text) <> 'OBJECT' then 'a JSON ' || lower(json_type(text)) || ', expected an object (one record)'"
        f" {mistyped} end"
    )


def _note_truncated_json(lines: LineIndex, rejections: list[Rejection]) -> list[Rejection]:
    if lines.ends_with_newline or not rejections:
        return rejections
    last = int(lines.numbers[~lines.blank][-1])
    return [Rejection(r.line, f"{TRUNCATED}; {r.reason}") if r.line == last else r for r in rejections]
