"""Delimited text (mainframe extracts, district reference, visitor map) into the raw zone.

Fast path: every file of one table in ONE DuckDB `read_csv` pass with `store_rejects`,
written straight to zstd Parquet. DuckDB does not number the rows it returns, so a row's
physical line is computed from its position (`row_number() over ()`, a streaming window that
keeps the reader's order) and the file's header. That is exact only when every record is
exactly one line, which is proven per file afterwards: rows landed + rows rejected must equal
the file's lines as counted by the checksum read (`scan.py`). A file that fails the proof
(a quoted line break, a blank line, an unclosed quote that swallowed the lines after it) is
dropped from the fast output and read again record by record (`_read_slowly`), which knows
its lines. Rejected rows shift the positions after them: their lines are known from the
rejects table, so one more pass over the (small) Parquet output puts every row on its line.
"""
from __future__ import annotations

import csv
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from c360.land.records import TRUNCATED, FileOutcome, FileRejected, Rejection
from c360.land.scan import BOM, FileScan
from c360.land.sources import SourceTable

MAX_RECORD_LINES = 20       # a quoted field may hold line breaks, up to this many lines
SLOW_BATCH_ROWS = 100_000   # the per-record reader writes Parquet in batches of this size

_CSV_REASONS = {
    "MISSING COLUMNS": "too few columns",
    "TOO MANY COLUMNS": "too many columns",
    "UNQUOTED VALUE": "a quote is opened but not closed, or stray text follows a quoted value",
    "INVALID ENCODING": "bytes that are not valid UTF-8 text",
    "LINE SIZE OVER MAXIMUM": "the line is longer than the reader's maximum line size",
}


@dataclass(frozen=True)
class DelimitedFile:
    path: Path
    relative: str
    scan: FileScan


@dataclass(frozen=True)
class Lineage:
    batch_id: str
    ingested_at: object  # datetime


def has_header(spec: SourceTable, file: DelimitedFile) -> bool:
    """True when line 1 is the header; raises FileRejected for a file that cannot be read."""
    scan = file.scan
    if scan.size == 0 or scan.size == len(BOM):
        raise FileRejected("the file is empty: no header and no records", 0)
    if scan.gzip:
        raise FileRejected("the file is compressed (gzip), not text: deliver it uncompressed"
                           " (gunzip it) under the same name", None)
    if not scan.head.strip(b"\r\n\t "):
        raise FileRejected("the file starts with an empty line; expected the header first",
                           max(scan.lines - 1, 0))
    names = [part.strip().strip('"').strip() for part in scan.first_line_text().split(spec.sep)]
    if names == list(spec.columns):
        return True
    if spec.header == "optional":
        return False
    raise FileRejected(f"line 1 is not the expected header: found {names}, expected {list(spec.columns)}",
                       max(scan.lines - 1, 0))


def fast_path_fits(file: DelimitedFile) -> bool:
    """Files DuckDB's strict reader would refuse whole go straight to the per-record reader:
    mixed line endings ("invalid state machine") and blank lines (which it skips unnumbered)."""
    return file.scan.uniform_line_endings and not file.scan.has_blank_line


# --- fast path: one pass over all files of a table ----------------------------------------

def land_fast(con: duckdb.DuckDBPyConnection, spec: SourceTable, files: list[DelimitedFile],
              header: bool, target: Path, lineage: Lineage
              ) -> tuple[dict[str, FileOutcome], list[DelimitedFile]]:
    """Lands `files` into `target`; returns the outcome per file, and the files that must
    be read record by record instead (their rows are not in `target`)."""
    skip = int(header)
    expected = [f.scan.lines - skip for f in files]
    offsets = [sum(expected[:i]) for i in range(len(files))]
    columns = ", ".join(f'"{c}"' for c in spec.columns)
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy (select {columns}, ?::varchar as _batch_id,"
        f" (?::varchar[])[file_index::bigint + 1] as _source_file,"
        f" (rn - (?::bigint[])[file_index::bigint + 1] + {skip})::bigint as _source_line,"
        f" ?::timestamp as _ingested_at"
        f" from (select *, file_index, row_number() over () as rn from read_csv(?, columns = ?,"
        f" header = ?, sep = ?, quote = '\"', escape = '\"', auto_detect = false,"
        f" strict_mode = true, null_padding = false, store_rejects = true)))"
        f" to '{sql_path(target)}' (format parquet, compression zstd)",
        [lineage.batch_id, [f.relative for f in files], offsets, lineage.ingested_at,
         [str(f.path) for f in files], {c: "VARCHAR" for c in spec.columns}, header, spec.sep],
    )
    landed = dict(con.execute(
        f"select _source_file, count(*) from read_parquet('{sql_path(target)}') group by all").fetchall())
    rejected = _rejections_by_file(con, files, len(spec.columns))
    outcomes, slow = {}, []
    for file, records in zip(files, expected):
        good, bad = landed.get(file.relative, 0), rejected.get(file.relative, [])
        if good + len(bad) != records:  # some record is not exactly one line: not provable here
            slow.append(file)
        else:
            outcomes[file.relative] = FileOutcome(records, good, bad)
    needs_fixing = slow or rejected or any(not f.scan.ends_with_newline for f in files)
    if needs_fixing:
        _fix_lines(con, spec, files, outcomes, rejected, skip, target)
    return outcomes, slow


def _rejections_by_file(con: duckdb.DuckDBPyConnection, files: list[DelimitedFile],
                        n_columns: int) -> dict[str, list[Rejection]]:
    by_path = {str(f.path): f for f in files}
    rows = con.execute(
        "select s.file_path, e.line, list(distinct e.error_type::varchar order by e.error_type::varchar),"
        " min(e.error_message), min(e.line_byte_position) from reject_errors e"
        " join reject_scans s using (scan_id, file_id) group by all order by all"
    ).fetchall()
    rejected: dict[str, list[Rejection]] = {}
    for path, line, error_types, message, position in rows:
        reasons = "; ".join(_CSV_REASONS.get(t, t.lower()) for t in error_types)
        file = by_path[path]
        rejected.setdefault(file.relative, []).append(
            Rejection(int(line), f"{reasons} (expected {n_columns} columns; {message})",
                      _line_at(file.path, int(line), position)))
    return rejected


def _line_at(path: Path, line: int, position: int | None) -> str | None:
    """The delivered line, undecodable bytes shown as escapes (DuckDB's copy of the line
    has them replaced). DuckDB's line position lands on, or just after, the line feed that
    ends the line before (it differs by one between LF and CRLF files)."""
    if position is None:
        return None
    with path.open("rb") as handle:
        if line > 1:
            handle.seek(max(position - 2, 0))
            newline = handle.read(4).find(b"\n")
            handle.seek(max(position - 2, 0) + newline + 1 if newline >= 0 else position)
        return _readable(handle.readline(1 << 20).rstrip(b"\r\n"))


def _fix_lines(con: duckdb.DuckDBPyConnection, spec: SourceTable, files: list[DelimitedFile],
               outcomes: dict[str, FileOutcome], rejected: dict[str, list[Rejection]], skip: int,
               target: Path) -> None:
    """Rewrites `target` with every row on its physical line: a row's line is its position
    in its file, plus the header, plus the rejected lines before it. Drops the rows of files
    left to the per-record reader, and a last row cut off without a line ending."""
    # Rejected line r_j (j-th in its file) follows the good row at position r_j - skip - j.
    shifts = [(name, r.line - skip - j) for name, rs in rejected.items() if name in outcomes
              for j, r in enumerate(sorted(rs, key=lambda r: r.line), start=1)]
    tails = [(f.relative, f.scan.lines) for f in files  # a header alone is not a record
             if f.relative in outcomes and not f.scan.ends_with_newline and f.scan.lines > skip]
    con.execute("create or replace temp table shifts (f varchar, after_position bigint)")
    if shifts:
        con.executemany("insert into shifts values (?, ?)", shifts)
    con.execute("create or replace temp table tails (f varchar, line bigint)")
    if tails:
        con.executemany("insert into tails values (?, ?)", tails)
    keep = [name for name in outcomes]
    columns = ", ".join(f'"{c}"' for c in spec.columns)
    fixed = target.with_name(target.name + ".fixed")
    con.execute(
        f"copy (with rows as (select *, file_row_number - min(file_row_number) over"
        f" (partition by _source_file) + 1 as position"
        f" from read_parquet('{sql_path(target)}', file_row_number = true) where list_contains(?, _source_file)),"
        f" placed as (select r.*, r.position + {skip} + (select count(*) from shifts s"
        f"  where s.f = r._source_file and s.after_position < r.position) as line from rows r)"
        f" select {columns}, _batch_id, _source_file, line::bigint as _source_line, _ingested_at"
        f" from placed p where not exists (select 1 from tails t where t.f = p._source_file and t.line = p.line)"
        f" order by _source_file, _source_line) to '{sql_path(fixed)}' (format parquet, compression zstd)",
        [keep],
    )
    fixed.replace(target)
    for name, last in tails:
        outcome = outcomes[name]
        file = next(f for f in files if f.relative == name)
        already = next((r for r in outcome.rejections if r.line == last), None)
        if already:
            outcome.rejections = [r for r in outcome.rejections if r is not already] + [
                Rejection(last, f"{TRUNCATED}; {already.reason}", already.record)]
        else:
            outcome.rows_landed -= 1
            outcome.rejections.append(Rejection(last, TRUNCATED, _last_line(file.path)))


def drop_files(con: duckdb.DuckDBPyConnection, target: Path, names: list[str]) -> None:
    """Rewrites a Parquet part without the rows of `names` (files that cannot land from it)."""
    if not target.exists():
        return
    kept = target.with_name(target.name + ".kept")
    con.execute(f"copy (select * from read_parquet('{sql_path(target)}') where not list_contains(?, _source_file))"
                f" to '{sql_path(kept)}' (format parquet, compression zstd)", [names])
    kept.replace(target)


def _last_line(path: Path) -> str:
    with path.open("rb") as handle:
        handle.seek(max(path.stat().st_size - (1 << 20), 0))
        return handle.read().rsplit(b"\n", 1)[-1].decode("utf-8", errors="backslashreplace")


# --- slow path: record by record, for the files the fast path cannot prove ----------------

def land_slowly(spec: SourceTable, file: DelimitedFile, header: bool, target: Path,
                lineage: Lineage) -> FileOutcome:
    """Python's csv module parses each record; lines are tracked while records are
    assembled, so quoted line breaks, blank lines and broken line endings keep exact lines."""
    schema = pa.schema([(c, pa.string()) for c in spec.columns] + [
        ("_batch_id", pa.string()), ("_source_file", pa.string()), ("_source_line", pa.int64()),
        ("_ingested_at", pa.timestamp("us"))])
    crlf_file = file.scan.crlf * 2 > file.scan.lf
    dominant, other = ("CRLF", "LF only") if crlf_file else ("LF", "CRLF")
    outcome = FileOutcome(0, 0)
    odd_endings: list[int] = []
    rows: list[tuple[int, list[str | None]]] = []
    records = _records(file.path, header, spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        previous = next(records, None)
        while previous is not None:
            current, previous = previous, next(records, None)
            start, raw, endings, values, reason = current
            outcome.rows_read += 1
            odd = [n for n, has_cr in endings if has_cr != crlf_file]
            odd_endings += odd
            if previous is None and not file.scan.ends_with_newline:
                reason = TRUNCATED if reason is None else f"{TRUNCATED}; {reason}"
            elif reason and odd:
                reason += f"; line {odd[0]} ends with {other} while the file's other lines end with {dominant}"
            if reason:
                outcome.rejections.append(Rejection(start, reason, _readable(raw)))
                continue
            rows.append((start, values))
            if len(rows) >= SLOW_BATCH_ROWS:
                _write_rows(writer, schema, spec, rows, file.relative, lineage)
                outcome.rows_landed += len(rows)
                rows = []
        _write_rows(writer, schema, spec, rows, file.relative, lineage)
        outcome.rows_landed += len(rows)
    if odd_endings:
        shown = ", ".join(map(str, odd_endings[:5])) + (", ..." if len(odd_endings) > 5 else "")
        outcome.notes.append(f"mixed line endings: {len(odd_endings)} line(s) end with {other} while the"
                             f" others end with {dominant} (line {shown}); their records were read as usual")
    return outcome


_UNCLOSED = "a quote is opened but not closed on this line (expected a closing \" before the line ends)"


def _records(path: Path, header: bool, spec: SourceTable):
    """(first line, bytes, [(line, ended with CR)], values, reason) for each record.

    A line whose quotes are left open continues on the next lines (a quoted line break)
    only if the quotes close within MAX_RECORD_LINES lines and the result parses as one
    record; otherwise that line is a record of its own with an unclosed quote and reading
    goes on at the next line, so one bad quote never swallows the rest of the file."""
    source = _physical_lines(path)
    queue: deque = deque()
    while (line := queue.popleft() if queue else next(source, None)) is not None:
        number, raw, has_cr = line
        if number == 1:
            raw = raw.removeprefix(BOM)
            if header:
                continue
        if not raw:
            continue  # a blank line is not a record
        if raw.count(b'"') % 2 == 0:
            yield (number, raw, [(number, has_cr)], *_parse(raw, spec))
            continue
        group, quotes = [(number, raw, has_cr)], raw.count(b'"')
        while len(group) < MAX_RECORD_LINES and quotes % 2:
            following = queue.popleft() if queue else next(source, None)
            if following is None:
                break
            group.append(following)
            quotes += following[1].count(b'"')
        if quotes % 2 == 0:
            joined = _rejoin(group)
            values, reason = _parse(joined, spec)
            if reason is None:
                yield number, joined, [(n, c) for n, _, c in group], values, None
                continue
        yield number, raw, [(number, has_cr)], None, _UNCLOSED
        queue.extendleft(reversed(group[1:]))


def _rejoin(pending: list[tuple[int, bytes, bool]]) -> bytes:
    """A record spanning lines, with its inner line breaks as delivered."""
    parts = []
    for i, (_, raw, has_cr) in enumerate(pending):
        parts.append(raw)
        if i < len(pending) - 1:
            parts.append(b"\r\n" if has_cr else b"\n")
    return b"".join(parts)


def _physical_lines(path: Path):
    """(line number, bytes without the line ending, ended with CR) for every line."""
    number, rest = 0, b""
    with path.open("rb") as handle:
        while block := handle.read(8 << 20):
            pieces = (rest + block).split(b"\n")
            rest = pieces.pop()
            for piece in pieces:
                number += 1
                has_cr = piece.endswith(b"\r")
                yield number, piece[:-1] if has_cr else piece, has_cr
    if rest:
        yield number + 1, rest, False


def _parse(raw: bytes, spec: SourceTable) -> tuple[list[str | None] | None, str | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "bytes that are not valid UTF-8 text"
    try:
        fields = next(csv.reader([text], delimiter=spec.sep, quotechar='"', doublequote=True,
                                 strict=True, lineterminator="\n"))
    except csv.Error as error:
        if "new-line character" in str(error):
            return None, ("a carriage return (CR) inside the line without a line feed after it:"
                          " a broken line ending; fix or remove that CR")
        return None, f"{_CSV_REASONS['UNQUOTED VALUE']} ({error})"
    except StopIteration:
        fields = []
    n = len(spec.columns)
    if len(fields) != n:
        kind = "too few columns" if len(fields) < n else "too many columns"
        return None, f"{kind} (expected {n} columns, found {len(fields)})"
    return [value if value != "" else None for value in fields], None


def _readable(raw: bytes) -> str:
    return raw.decode("utf-8", errors="backslashreplace")


def _write_rows(writer: pq.ParquetWriter, schema: pa.Schema, spec: SourceTable,
                rows: list[tuple[int, list[str | None]]], source_file: str, lineage: Lineage) -> None:
    if not rows:
        return
    columns = list(zip(*(values for _, values in rows)))
    arrays = [pa.array(column, pa.string()) for column in columns]
    n = len(rows)
    arrays += [pa.array([lineage.batch_id] * n, pa.string()), pa.array([source_file] * n, pa.string()),
               pa.array([line for line, _ in rows], pa.int64()),
               pa.array([lineage.ingested_at] * n, pa.timestamp("us"))]
    writer.write_table(pa.Table.from_arrays(arrays, schema=schema))


def sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
