"""Writers for the native file formats: Berka .asc tables and newline-delimited JSON.

Berka files are ASCII with CRLF line endings, ';' separators, a header of quoted names,
strings in double quotes, numbers bare (money with 2 decimals), dates as YYMMDD and every
line (the last one too) ending in CRLF. DuckDB builds each line (in parallel); the
lines' Arrow buffer is then written as is, so no Python code touches a row.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa

CRLF = "\r\n"

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
