"""Frames for the staging and marts gates, computed by DuckDB on the build database.

Why summary frames: uniqueness, referential integrity and session/hit reconciliation are
properties of whole tables. Loading a whole table into pandas for GX would make the gate's
memory grow with the history (ten million transactions at scale 10). DuckDB computes them
out of core instead, as a compact frame with one row per checked thing (per model, per
relationship, per GA day) carrying the counts and a few offending rows (`examples`); GX then
validates that frame. The frame is empty of problems exactly when the table is, so GX's
verdict is the verdict on the whole table, and the examples make a failure readable.

Row-level checks (plausible amounts, dates) run on the rows the new batches added, read in
bounded chunks (`rows_of`); mart tables (one row per client) are read whole (`whole_table`).

What each summary checks is declared in its suite's `meta.c360` (models, keys, links), so the
suite JSON stays the one place that says what a gate guards.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import duckdb
import pandas as pd
import pyarrow as pa

from c360.gates.engine import Frame

EXAMPLES = 5
CHUNK_ROWS = 500_000


class FrameError(RuntimeError):
    """A frame cannot be built (a model is missing, a declared column does not exist)."""


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _relation(name: str) -> str:
    return ".".join(_q(part) for part in name.split("."))


def relation_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    schema, _, table = name.rpartition(".")
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema or "main", table]).fetchone()[0])


def columns_of(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    schema, _, table = name.rpartition(".")
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
        " order by ordinal_position", [schema or "main", table]).fetchall()]


def _require(con, name: str, columns: list[str] = ()) -> None:
    if not relation_exists(con, name):
        raise FrameError(f"{name} does not exist in the build (did its dbt model build?)")
    missing = sorted(set(columns) - set(columns_of(con, name)))
    if missing:
        raise FrameError(f"{name} has no column {', '.join(missing)}")


def _df(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return to_pandas(con.execute(sql).to_arrow_table())


# --- summaries ------------------------------------------------------------------------------

def key_stats(con: duckdb.DuckDBPyConnection, spec: dict) -> pd.DataFrame:
    """One row per model: rows, null keys, duplicated keys and a few of them.

    One scan per model for the counts; the examples are fetched only for a model that has
    duplicates (a second, limited query), so a clean build pays one scan per model.
    """
    rows = []
    for model, keys in spec["keys"].items():
        _require(con, model, keys)
        key_list = ", ".join(_q(k) for k in keys)
        any_null = " or ".join(f"{_q(k)} is null" for k in keys)
        row_count, null_keys, duplicated = con.execute(f"""
            select coalesce(sum(n), 0), coalesce(sum(n) filter (where has_null), 0),
                   count(*) filter (where n > 1 and not has_null)
            from (select {any_null} as has_null, count(*) as n from {_relation(model)}
                  group by {key_list}, has_null)""").fetchone()
        examples = []
        if duplicated:
            examples = _examples(con, f"""
                select {key_list}, count(*) as rows from {_relation(model)} where not ({any_null})
                group by {key_list} having count(*) > 1 order by count(*) desc, {key_list}""")
        rows.append({"model": model, "key_columns": ", ".join(keys), "row_count": row_count,
                     "null_keys": null_keys, "duplicated_keys": duplicated, "examples": examples})
    return pd.DataFrame(rows, columns=["model", "key_columns", "row_count", "null_keys",
                                       "duplicated_keys", "examples"])


def relationships(con: duckdb.DuckDBPyConnection, spec: dict) -> pd.DataFrame:
    """One row per declared link child.column -> parent.column: rows, orphans, examples."""
    rows = []
    for link in spec["relationships"]:
        child, column = link["child"], link["column"]
        parent, parent_column = link["parent"], link.get("parent_column", link["column"])
        shown = link.get("show", [column])
        _require(con, child, [column, *shown])
        _require(con, parent, [parent_column])
        joined = (f"from {_relation(child)} as c left join (select distinct {_q(parent_column)} as parent_key"
                  f" from {_relation(parent)}) as p on p.parent_key = c.{_q(column)}"
                  f" where c.{_q(column)} is not null")
        child_rows, orphans = con.execute(
            f"select count(*), count(*) filter (where p.parent_key is null) {joined}").fetchone()
        examples = []
        if orphans:
            examples = _examples(con, f"select {', '.join('c.' + _q(c) for c in shown)} {joined}"
                                      f" and p.parent_key is null order by all")
        rows.append({"relationship": link["name"], "child_rows": child_rows, "orphan_rows": orphans,
                     "examples": examples})
    return pd.DataFrame(rows, columns=["relationship", "child_rows", "orphan_rows", "examples"])


def _examples(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(f"select * from ({sql}) limit {EXAMPLES}")
    names = [d[0] for d in cursor.description]
    return [{n: _scalar(v) for n, v in zip(names, row)} for row in cursor.fetchall()]


def _scalar(value):
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def ga_hierarchy(con: duckdb.DuckDBPyConnection, spec: dict) -> pd.DataFrame:
    """One row per session date: sessions whose hits do not match their totals.hits."""
    sessions, hits = spec["sessions"], spec["hits"]
    _require(con, sessions, ["session_key", "session_date", "n_hits"])
    _require(con, hits, ["session_key", "hit_number"])
    counted = f"""
        select s.session_key, s.session_date, s.n_hits as totals_hits,
               coalesce(h.hits, 0) as hits_rows, coalesce(h.distinct_hit_numbers, 0) as hit_numbers
        from {_relation(sessions)} as s
        left join (select session_key, count(*) as hits, count(distinct hit_number) as distinct_hit_numbers
                   from {_relation(hits)} group by session_key) as h using (session_key)"""
    frame = _df(con, f"""
        with counted as ({counted}),
        orphan_hits as (
            select count(*) as n from {_relation(hits)} as h
            where not exists (select 1 from {_relation(sessions)} as s where s.session_key = h.session_key)
        )
        select session_date,
               count(*) as sessions,
               count(*) filter (where totals_hits > 0) as sessions_with_totals,
               count(*) filter (where totals_hits > 0 and hits_rows <> totals_hits) as sessions_hits_mismatch,
               count(*) filter (where totals_hits = 0 and hits_rows > 0) as sessions_without_totals,
               count(*) filter (where hit_numbers <> hits_rows) as sessions_duplicate_hit_numbers,
               (select n from orphan_hits) as orphan_hits
        from counted group by session_date order by session_date""")
    frame["examples"] = [[] for _ in range(len(frame))]
    for index in frame.index[frame["sessions_hits_mismatch"] > 0]:
        frame.at[index, "examples"] = _examples(con, f"""
            select session_key, totals_hits, hits_rows from ({counted})
            where session_date = '{frame.at[index, "session_date"]}' and totals_hits > 0
              and hits_rows <> totals_hits order by session_key""")
    return frame


def table_stats(con: duckdb.DuckDBPyConnection, spec: dict) -> pd.DataFrame:
    """One row per declared table: row count and distinct count of its grain key, next to the
    count of the relation that defines the grain (one row per client: the client master)."""
    parts = []
    grain, grain_key = spec["grain"], spec["grain_key"]
    _require(con, grain, [grain_key])
    for table in spec["tables"]:
        _require(con, table, [grain_key])
        parts.append(f"""
            select '{table}' as table_name,
              (select count(*) from {_relation(table)}) as row_count,
              (select count(distinct {_q(grain_key)}) from {_relation(table)}) as distinct_keys,
              (select count(*) from {_relation(grain)}) as grain_rows,
              (select count(*) from {_relation(table)} as t where not exists
                 (select 1 from {_relation(grain)} as g where g.{_q(grain_key)} = t.{_q(grain_key)})) as unknown_keys,
              (select count(*) from {_relation(grain)} as g where not exists
                 (select 1 from {_relation(table)} as t where t.{_q(grain_key)} = g.{_q(grain_key)})) as missing_keys""")
    return _df(con, " union all ".join(parts))


def query(con: duckdb.DuckDBPyConnection, spec: dict) -> pd.DataFrame:
    """A summary written as SQL in the suite itself (for one-off aggregates)."""
    for relation in spec.get("requires", []):
        _require(con, relation)
    return _df(con, spec["sql"])


SUMMARIES: dict[str, Callable[[duckdb.DuckDBPyConnection, dict], pd.DataFrame]] = {
    "key_stats": key_stats,
    "relationships": relationships,
    "ga_hierarchy": ga_hierarchy,
    "table_stats": table_stats,
    "query": query,
}


def summary_frame(con: duckdb.DuckDBPyConnection, spec: dict) -> pd.DataFrame:
    builder = SUMMARIES.get(spec.get("frame"))
    if builder is None:
        raise FrameError(f"unknown summary frame {spec.get('frame')!r}; known: {sorted(SUMMARIES)}")
    try:
        return builder(con, spec)
    except duckdb.Error as error:
        raise FrameError(f"summary {spec['frame']}: {error}") from error


# --- rows ----------------------------------------------------------------------------------

def rows_of(con: duckdb.DuckDBPyConnection, relation: str, *, batch_column: str | None,
            batches: list[str] | None, label: str, columns_read: set[str] | None = None,
            chunk_rows: int = CHUNK_ROWS) -> Iterator[Frame]:
    """Rows of `relation` (only those of `batches` when given), a bounded chunk at a time.

    With `columns_read`, only those columns and the identifiers (`*_id`, `*_key`: they name a
    failing row, with its batch) are read: the other columns would only be copied through
    every expectation.
    """
    _require(con, relation, [batch_column] if batch_column and batches is not None else [])
    columns = columns_of(con, relation)
    if columns_read is not None:
        columns = [c for c in columns if c in columns_read or c.endswith(("_id", "_key"))]
    sql = f"select {', '.join(_q(c) for c in columns)} from {_relation(relation)}"
    params: list = []
    if batch_column and batches is not None:
        sql += f" where {_q(batch_column)} in (select unnest(?::varchar[]))"
        params.append(list(batches))
    reader = con.execute(sql, params).to_arrow_reader(chunk_rows)
    start = 0
    for batch in reader:
        if batch.num_rows == 0:
            continue
        data = to_pandas(batch)
        data.index = pd.RangeIndex(start, start + len(data))
        yield Frame(f"{label} rows {start + 1}-{start + len(data)}", data)
        start += len(data)


def whole_table(con: duckdb.DuckDBPyConnection, relation: str) -> pd.DataFrame:
    _require(con, relation)
    return to_pandas(con.execute(f"select * from {_relation(relation)}").to_arrow_table())


def to_pandas(data: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Decimals as floats (GX compares them to numeric bounds), dates as `datetime.date`
    objects (GX parses date bounds in suites as dates)."""
    columns = []
    for field, column in zip(data.schema, data.columns):
        columns.append(column.cast(pa.float64()) if pa.types.is_decimal(field.type) else column)
    return pa.Table.from_arrays(columns, names=data.schema.names).to_pandas()


def parameter_values(con: duckdb.DuckDBPyConnection, queries: dict[str, str]) -> dict:
    """Suite parameters computed on the build (e.g. the number of clients in staging)."""
    values = {}
    for name, sql in queries.items():
        try:
            values[name] = con.execute(sql).fetchone()[0]
        except duckdb.Error as error:
            raise FrameError(f"parameter {name}: {error}") from error
    return values
