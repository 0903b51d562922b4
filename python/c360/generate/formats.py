"""Writers for the native file formats: Berka .asc tables and newline-delimited JSON.

Berka files are ASCII with CRLF line endings, ';' separators, a header of quoted names,
strings in double quotes, numbers bare (money with 2 decimals), dates as YYMMDD and every
line (the last one too) ending in CRLF. DuckDB builds each line (in parallel); the
lines' Arrow buffer is then written as is, so no Python code touches a row.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa

CRLF = "\r\n"
BATCH_ROWS = 16_384

# SQL per column kind, given to DuckDB's concat() (which reads NULL as '').
_BERKA_FORMATS = {
    "int": "{col}",
    "text": "if({col} is null, '', concat('\"', {col}, '\"'))",  # null -> empty field, '' -> ""
    "money": "(cast({col} as decimal(18, 2)) / 100)::decimal(18, 2)",  # integer cents -> 700.00
    "date": "strftime({col}, '%y%m%d')",
    "datetime": "strftime({col}, '%y%m%d 00:00:00')",
}

BerkaColumns = Sequence[tuple[str, str]]  # (header name, kind); the Arrow column has the same name


def write_berka(con: duckdb.DuckDBPyConnection, path: Path, table: pa.Table, columns: BerkaColumns) -> int:
    """Write one Berka table, rows in the table's order; returns the number of data rows."""
    fields = ", ';', ".join(_BERKA_FORMATS[kind].format(col=f'"{name}"') for name, kind in columns)
    lines = select_lines(con, table, f"select concat({fields}, chr(13), chr(10)) as line from rows")
    header = ";".join(f'"{name}"' for name, _ in columns) + CRLF
    with open_output(path) as handle:
        handle.write(header.encode("ascii"))
        write_lines(handle, lines["line"])
    return lines.num_rows


def write_district(path: Path, rows: Sequence[tuple]) -> int:
    """district.asc: unquoted A1..A16 header, '?' for missing numbers, fixed decimals.

    77 rows of embedded reference constants, formatted in Python (no generated data here).
    """
    decimals = {9: 1, 11: 2, 12: 2}  # A10 urban ratio, A12/A13 unemployment rates

    def field(position: int, value: object) -> str:
        if value is None:
            return "?"
        if isinstance(value, str):
            return f'"{value}"'
        if position in decimals:
            return f"{value:.{decimals[position]}f}"
        return str(value)

    header = ";".join(f"A{i}" for i in range(1, len(rows[0]) + 1))
    lines = [";".join(field(i, v) for i, v in enumerate(row)) for row in rows]
    with open_output(path) as handle:
        handle.write((CRLF.join([header, *lines]) + CRLF).encode("ascii"))
    return len(rows)


def select_lines(con: duckdb.DuckDBPyConnection, table: pa.Table, sql: str) -> pa.Table:
    """Run `sql` over `table` (visible as `rows`); input order is kept (DuckDB preserves
    insertion order), so callers sort the table first."""
    # Several record batches let DuckDB render them on all cores (order is still kept).
    table = pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), schema=table.schema)
    con.register("rows", table)
    try:
        return con.execute(sql).to_arrow_table()
    finally:
        con.unregister("rows")


def write_lines(handle: BinaryIO, lines: pa.ChunkedArray) -> None:
    """Write a string column whose values are complete lines, straight from its buffers."""
    for chunk in lines.chunks:
        if len(chunk) == 0:
            continue
        _, offsets, data = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        bounds = np.frombuffer(offsets, dtype=width)[[chunk.offset, chunk.offset + len(chunk)]]
        handle.write(memoryview(data)[bounds[0]:bounds[1]])


def open_output(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def dictionary(indices: np.ndarray, values: Sequence[str]) -> pa.DictionaryArray:
    """A string column of a few distinct values, as codes (-1 = null) into `values`."""
    return pa.DictionaryArray.from_arrays(pa.array(indices, type=pa.int32(), mask=indices < 0), pa.array(values))


class Sql(str):
    """A SQL expression, inside a JSON template, that yields JSON text (never NULL)."""


def value(expr: str) -> Sql:
    """Any column or expression as JSON text: escaped strings, numbers, booleans, null."""
    return Sql(f"coalesce(to_json({expr})::varchar, 'null')")


def when(condition: str, template: object) -> Sql:
    """A sub-object present only where `condition` holds, null elsewhere."""
    return Sql(f"if({condition}, {json_sql(template)}, 'null')")


def json_list(list_column: str) -> Sql:
    """A list column whose items are JSON texts, as a JSON array."""
    return Sql(f"concat('[', array_to_string({list_column}, ','), ']')")


def json_sql(template: object) -> str:
    """Compile a JSON template into one DuckDB concat() expression.

    The template mirrors the document: dicts and lists are objects (key order kept) and
    arrays, Sql pieces are per-row values, anything else is a constant rendered once here. Constant text is
    merged, so a row costs one copy per constant run plus one call per value: rendering
    whole sessions this way runs an order of magnitude faster than to_json over the
    equivalent structs (whose many always-null fields each cost a serialisation).
    """
    pieces: list[str] = []
    for piece in _json_pieces(template):
        if pieces and not isinstance(piece, Sql) and not isinstance(pieces[-1], Sql):
            pieces[-1] += piece
        else:
            pieces.append(piece)
    sql = [piece if isinstance(piece, Sql) else "'" + piece.replace("'", "''") + "'" for piece in pieces]
    return sql[0] if len(sql) == 1 else f"concat({', '.join(sql)})"


def _json_pieces(template: object) -> list[str]:
    if isinstance(template, Sql):
        return [template]
    if isinstance(template, dict):
        pieces: list[str] = ["{"]
        for i, (key, child) in enumerate(template.items()):
            pieces.append(("," if i else "") + json.dumps(key) + ":")
            pieces.extend(_json_pieces(child))
        return pieces + ["}"]
    if isinstance(template, list):
        pieces = ["["]
        for i, child in enumerate(template):
            pieces.extend(([","] if i else []) + _json_pieces(child))
        return pieces + ["]"]
    return [json.dumps(template, separators=(",", ":"))]
