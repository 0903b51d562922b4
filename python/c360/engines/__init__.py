"""Where the gates' frames come from: one interface, a DuckDB and a Spark implementation.

After dbt's adapter pattern: the gates (`c360.gates`) hold the logic once (which facts a
suite needs, the SQL that measures them, how GX judges them) and ask an engine for

  * its SQL dialect: `quote`, `relation`, `literal`, `regex_match`, `parses_as`, `text`,
    `row`, `translate` (suite SQL written for DuckDB, in this engine's SQL);
  * its catalog: `exists`, `columns`;
  * answers: `frame` (a small pandas frame), `one` (one row), `records` (a few rows as dicts);
  * the frames GX validates row by row: `rows` (a relation's rows of some batches) and
    `table` (a whole table), in whatever form its GX data source reads;
  * the raw zone: `raw_relation` (one batch's Parquet files of one table, as a relation).

    engine = DuckDBEngine.open(build_file)        # c360.engines.duckdb
    engine = SparkEngine(spark)                   # c360.engines.spark

`c360.gates.run_raw_gate(..., engine=)` and `run_layer_gate(layer, engine, ...)` take either.
"""
from __future__ import annotations

from typing import Protocol


class EngineError(RuntimeError):
    """A query the gate needs failed on the engine (its message names the relation)."""


class Engine(Protocol):
    name: str

    def quote(self, identifier: str) -> str: ...
    def relation(self, name: str) -> str: ...
    def literal(self, value: str) -> str: ...
    def regex_match(self, expression: str, regex: str) -> str: ...
    def parses_as(self, expression: str, strftime_format: str) -> str: ...
    def text(self, expression: str) -> str: ...
    def row(self, expressions: list[str]) -> str: ...
    def translate(self, sql: str) -> str: ...

    def exists(self, name: str) -> bool: ...
    def columns(self, name: str) -> list[str]: ...

    def frame(self, sql: str): ...
    def one(self, sql: str) -> tuple: ...
    def records(self, sql: str, limit: int) -> list[dict]: ...

    def rows(self, relation: str, *, batch_column: str | None, batches: list[str] | None,
             label: str, columns_read: set[str] | None = None): ...
    def table(self, relation: str): ...

    def raw_relation(self, folder) -> tuple[str, dict[str, str]] | None: ...
    def close(self) -> None: ...





def to_pandas(data):
    """An Arrow table or batch as pandas, the way GX compares it: decimals as floats (GX
    compares them to numeric bounds), dates as `datetime.date` (GX parses date bounds in
    suites as dates)."""
    import pyarrow as pa

    columns = [column.cast(pa.float64()) if pa.types.is_decimal(f.type) else column
               for f, column in zip(data.schema, data.columns)]
    return pa.Table.from_arrays(columns, names=data.schema.names).to_pandas()


def scalar(value):
    """A value as a report shows it: JSON types as they are, anything else as its text."""
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
__all__ = ["Engine", "EngineError", "scalar", "to_pandas"]
