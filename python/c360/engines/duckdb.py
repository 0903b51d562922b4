"""The gates' engine on DuckDB: the build database (read-only) and the raw zone's Parquet.

Row frames are read in bounded chunks (`CHUNK_ROWS`), because GX's pandas engine holds each
frame in memory; everything else is a small answer DuckDB computes out of core.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from c360.engines import EngineError, scalar, to_pandas

CHUNK_ROWS = 500_000


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    @classmethod
    def open(cls, database: Path | None = None) -> "DuckDBEngine":
        """The build file read-only (nothing a gate does can change what is published), or an
        in-memory database for the raw zone."""
        if database is None:
            return cls(duckdb.connect())
        return cls(duckdb.connect(str(database), read_only=True))

    def close(self) -> None:
        self.con.close()

    # --- dialect --------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def relation(self, name: str) -> str:
        return ".".join(self.quote(part) for part in name.split("."))

    def literal(self, value: str) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    def regex_match(self, expression: str, regex: str) -> str:
        return f"regexp_matches({expression}, {self.literal(regex)})"

    def parses_as(self, expression: str, strftime_format: str) -> str:
        return f"(try_strptime({expression}, {self.literal(strftime_format)}) is not null)"

    def text(self, expression: str) -> str:
        return f"cast({expression} as varchar)"

    def row(self, expressions: list[str]) -> str:
        return f"row({', '.join(expressions)})"

    def translate(self, sql: str) -> str:
        return sql          # suites write their SQL for DuckDB

    # --- catalog --------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        schema, _, table = name.rpartition(".")
        return bool(self.con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema or "main", table]).fetchone()[0])

    def columns(self, name: str) -> list[str]:
        schema, _, table = name.rpartition(".")
        return [r[0] for r in self.con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
            " order by ordinal_position", [schema or "main", table]).fetchall()]

    # --- answers --------------------------------------------------------------------------
    def _run(self, sql: str):
        try:
            return self.con.execute(sql)
        except duckdb.Error as error:
            raise EngineError(str(error).strip().splitlines()[0]) from error

    def frame(self, sql: str) -> pd.DataFrame:
        return to_pandas(self._run(sql).to_arrow_table())

    def one(self, sql: str) -> tuple:
        return tuple(self._run(sql).fetchone())

    def records(self, sql: str, limit: int) -> list[dict]:
        cursor = self._run(f"select * from ({sql}) limit {int(limit)}")
        names = [d[0] for d in cursor.description]
        return [{n: scalar(v) for n, v in zip(names, row)} for row in cursor.fetchall()]

    # --- frames GX validates row by row ------------------------------------------------------
    def rows(self, relation: str, *, batch_column: str | None, batches: list[str] | None,
             label: str, columns_read: set[str] | None = None,
             chunk_rows: int = CHUNK_ROWS) -> Iterator:
        """Rows of `relation` (only those of `batches` when given), a bounded chunk at a time.

        With `columns_read`, only those columns and the identifiers (`*_id`, `*_key`: they
        name a failing row, with its batch) are read.
        """
        from c360.gates.engine import Frame

        columns = self.columns(relation)
        if columns_read is not None:
            columns = [c for c in columns if c in columns_read or c.endswith(("_id", "_key"))]
        sql = f"select {', '.join(self.quote(c) for c in columns)} from {self.relation(relation)}"
        params: list = []
        if batch_column and batches is not None:
            sql += f" where {self.quote(batch_column)} in (select unnest(?::varchar[]))"
            params.append(list(batches))
        reader = self.con.execute(sql, params).to_arrow_reader(chunk_rows)
        start = 0
        for batch in reader:
            if batch.num_rows == 0:
                continue
            data = to_pandas(batch)
            data.index = pd.RangeIndex(start, start + len(data))
            yield Frame(f"{label} rows {start + 1}-{start + len(data)}", data)
            start += len(data)

    def table(self, relation: str) -> pd.DataFrame:
        return self.frame(f"select * from {self.relation(relation)}")

    # --- the raw zone ----------------------------------------------------------------------
    def raw_relation(self, folder: Path) -> tuple[str, dict[str, str]] | None:
        """One batch's Parquet files of one table as a relation, with its columns and types
        (the union over the files, by name); None when the folder holds no file."""
        files = sorted(str(p) for p in Path(folder).glob("*.parquet"))
        if not files:
            return None
        listed = ", ".join(self.literal(f) for f in files)
        relation = f"read_parquet([{listed}], union_by_name = true, hive_partitioning = false)"
        types = {r[0]: r[1] for r in self._run(f"describe select * from {relation}").fetchall()}
        return relation, types
