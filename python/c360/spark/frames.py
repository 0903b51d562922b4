"""The gates' frames computed by Spark on the Spark build (the twin of c360.gates.frames).

Same frames, same columns, same meaning as the DuckDB versions, so the same suites judge
them: summary frames (keys, relationships, GA hierarchy, grain, suite-written queries) are
aggregated by Spark over the whole build, then handed to GX as the small pandas frames they
are; row and table frames stay Spark DataFrames, validated by GX's Spark data source where
they live (see c360.spark.gates). Only the SQL dialect differs, hence this module.
"""
from __future__ import annotations

import re

import pandas as pd

from c360.gates.frames import EXAMPLES, FrameError, to_pandas


def _q(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _relation(name: str) -> str:
    return ".".join(_q(part) for part in name.split("."))


def relation_exists(spark, name: str) -> bool:
    return bool(spark.catalog.tableExists(name))


def columns_of(spark, name: str) -> list[str]:
    return list(spark.table(_relation(name)).columns)


def _require(spark, name: str, columns: list[str] = ()) -> None:
    if not relation_exists(spark, name):
        raise FrameError(f"{name} does not exist in the Spark build (did its dbt model build?)")
    missing = sorted(set(columns) - set(columns_of(spark, name)))
    if missing:
        raise FrameError(f"{name} has no column {', '.join(missing)}")


def _df(spark, sql: str) -> pd.DataFrame:
    return to_pandas(spark.sql(sql).toArrow())


def _one(spark, sql: str) -> tuple:
    return tuple(spark.sql(sql).first())


def _examples(spark, sql: str) -> list[dict]:
    rows = spark.sql(f"select * from ({sql}) as examples limit {EXAMPLES}").collect()
    return [{k: _scalar(v) for k, v in row.asDict().items()} for row in rows]


def _scalar(value):
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


# --- summaries ------------------------------------------------------------------------------

def key_stats(spark, spec: dict) -> pd.DataFrame:
    """One row per model: rows, null keys, duplicated keys and a few of them."""
    rows = []
    for model, keys in spec["keys"].items():
        _require(spark, model, keys)
        key_list = ", ".join(_q(k) for k in keys)
        any_null = " or ".join(f"{_q(k)} is null" for k in keys)
        row_count, null_keys, duplicated = _one(spark, f"""
            select coalesce(sum(n), 0), coalesce(sum(n) filter (where has_null), 0),
                   count(*) filter (where n > 1 and not has_null)
            from (select {any_null} as has_null, count(*) as n from {_relation(model)}
                  group by {key_list}, {any_null}) as grouped""")
        examples = []
        if duplicated:
            examples = _examples(spark, f"""
                select {key_list}, count(*) as rows from {_relation(model)} where not ({any_null})
                group by {key_list} having count(*) > 1 order by count(*) desc, {key_list}""")
        rows.append({"model": model, "key_columns": ", ".join(keys), "row_count": int(row_count),
                     "null_keys": int(null_keys), "duplicated_keys": int(duplicated),
                     "examples": examples})
    return pd.DataFrame(rows, columns=["model", "key_columns", "row_count", "null_keys",
                                       "duplicated_keys", "examples"])


def relationships(spark, spec: dict) -> pd.DataFrame:
    """One row per declared link child.column -> parent.column: rows, orphans, examples."""
    rows = []
    for link in spec["relationships"]:
        child, column = link["child"], link["column"]
        parent, parent_column = link["parent"], link.get("parent_column", link["column"])
        shown = link.get("show", [column])
        _require(spark, child, [column, *shown])
        _require(spark, parent, [parent_column])
        joined = (f"from {_relation(child)} as c left join (select distinct {_q(parent_column)} as parent_key"
                  f" from {_relation(parent)}) as p on p.parent_key = c.{_q(column)}"
                  f" where c.{_q(column)} is not null")
        child_rows, orphans = _one(
            spark, f"select count(*), count(*) filter (where p.parent_key is null) {joined}")
        examples = []
        if orphans:
            examples = _examples(spark, f"select {', '.join('c.' + _q(c) for c in shown)} {joined}"
                                        f" and p.parent_key is null order by all")
        rows.append({"relationship": link["name"], "child_rows": int(child_rows),
                     "orphan_rows": int(orphans), "examples": examples})
    return pd.DataFrame(rows, columns=["relationship", "child_rows", "orphan_rows", "examples"])


def ga_hierarchy(spark, spec: dict) -> pd.DataFrame:
    """One row per session date: sessions whose hits do not match their totals.hits."""
    sessions, hits = spec["sessions"], spec["hits"]
    _require(spark, sessions, ["session_key", "session_date", "n_hits"])
    _require(spark, hits, ["session_key", "hit_number"])
    counted = f"""
        select s.session_key, s.session_date, s.n_hits as totals_hits,
               coalesce(h.hits, 0) as hits_rows, coalesce(h.distinct_hit_numbers, 0) as hit_numbers
        from {_relation(sessions)} as s
        left join (select session_key, count(*) as hits, count(distinct hit_number) as distinct_hit_numbers
                   from {_relation(hits)} group by session_key) as h
            on h.session_key = s.session_key"""
    orphan_hits = _one(spark, f"""
        select count(*) from {_relation(hits)} as h
        left anti join {_relation(sessions)} as s on s.session_key = h.session_key""")[0]
    frame = _df(spark, f"""
        with counted as ({counted})
        select session_date,
               count(*) as sessions,
               count(*) filter (where totals_hits > 0) as sessions_with_totals,
               count(*) filter (where totals_hits > 0 and hits_rows <> totals_hits) as sessions_hits_mismatch,
               count(*) filter (where totals_hits = 0 and hits_rows > 0) as sessions_without_totals,
               count(*) filter (where hit_numbers <> hits_rows) as sessions_duplicate_hit_numbers,
               cast({int(orphan_hits)} as bigint) as orphan_hits
        from counted group by session_date order by session_date""")
    frame["examples"] = [[] for _ in range(len(frame))]
    for index in frame.index[frame["sessions_hits_mismatch"] > 0]:
        frame.at[index, "examples"] = _examples(spark, f"""
            select session_key, totals_hits, hits_rows from ({counted}) as counted
            where session_date = date '{frame.at[index, "session_date"]}' and totals_hits > 0
              and hits_rows <> totals_hits order by session_key""")
    return frame


def table_stats(spark, spec: dict) -> pd.DataFrame:
    """One row per declared table: row count and distinct count of its grain key, next to the
    count of the relation that defines the grain (one row per client: the client master)."""
    parts = []
    grain, grain_key = spec["grain"], spec["grain_key"]
    _require(spark, grain, [grain_key])
    key = _q(grain_key)
    for table in spec["tables"]:
        _require(spark, table, [grain_key])
        parts.append(f"""
            select '{table}' as table_name,
              (select count(*) from {_relation(table)}) as row_count,
              (select count(distinct {key}) from {_relation(table)}) as distinct_keys,
              (select count(*) from {_relation(grain)}) as grain_rows,
              (select count(*) from {_relation(table)} as t left anti join {_relation(grain)} as g
                 on g.{key} = t.{key}) as unknown_keys,
              (select count(*) from {_relation(grain)} as g left anti join {_relation(table)} as t
                 on t.{key} = g.{key}) as missing_keys""")
    return _df(spark, " union all ".join(parts))


# DuckDB functions the suites' own SQL may use, and their Spark spelling.
_QUANTILE_CONT = re.compile(r"quantile_cont\(\s*([^,()]+?)\s*,\s*([0-9.]+)\s*\)", re.IGNORECASE)


def spark_sql(sql: str) -> str:
    """A suite's summary SQL (written for DuckDB) in Spark SQL: `quantile_cont(x, q)` ->
    `percentile_cont(q) within group (order by x)`; everything else is common SQL."""
    return _QUANTILE_CONT.sub(r"percentile_cont(\2) within group (order by \1)", sql)


def query(spark, spec: dict) -> pd.DataFrame:
    """A summary written as SQL in the suite itself (for one-off aggregates)."""
    for relation in spec.get("requires", []):
        _require(spark, relation)
    return _df(spark, spark_sql(spec["sql"]))


SUMMARIES = {
    "key_stats": key_stats,
    "relationships": relationships,
    "ga_hierarchy": ga_hierarchy,
    "table_stats": table_stats,
    "query": query,
}


def summary_frame(spark, spec: dict) -> pd.DataFrame:
    builder = SUMMARIES.get(spec.get("frame"))
    if builder is None:
        raise FrameError(f"unknown summary frame {spec.get('frame')!r}; known: {sorted(SUMMARIES)}")
    try:
        return builder(spark, spec)
    except FrameError:
        raise
    except Exception as error:  # pyspark's AnalysisException and friends
        raise FrameError(f"summary {spec['frame']} on Spark: {_first_line(error)}") from error


# --- rows and tables (Spark DataFrames, validated where they live) --------------------------

def rows_of(spark, relation: str, *, batch_column: str | None, batches: list[str] | None):
    """The rows of `relation` (only those of `batches` when given), as one Spark DataFrame."""
    _require(spark, relation, [batch_column] if batch_column and batches is not None else [])
    data = spark.table(_relation(relation))
    if batch_column and batches is not None:
        from pyspark.sql import functions as F

        data = data.where(F.col(batch_column).isin(list(batches)))
    return data


def whole_table(spark, relation: str):
    _require(spark, relation)
    return spark.table(_relation(relation))


def parameter_values(spark, queries: dict[str, str]) -> dict:
    """Suite parameters computed on the build (e.g. the number of clients in staging)."""
    values = {}
    for name, sql in queries.items():
        try:
            values[name] = spark.sql(spark_sql(sql)).first()[0]
        except Exception as error:
            raise FrameError(f"parameter {name}: {_first_line(error)}") from error
    return values


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
