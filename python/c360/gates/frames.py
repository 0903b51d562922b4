"""Summary frames for the staging and marts gates, computed by the engine on the build.

Why summary frames: uniqueness, referential integrity and session/hit reconciliation are
properties of whole tables. Loading a whole table into pandas for GX would make the gate's
memory grow with the history (ten million transactions at scale 10). The engine (DuckDB or
Spark, `c360.engines`) computes them out of core instead, as a compact frame with one row
per checked thing (per model, per relationship, per GA day) carrying the counts and a few
offending rows (`examples`); GX then validates that frame. The frame is empty of problems
exactly when the table is, so GX's verdict is the verdict on the whole table, and the
examples make a failure readable.

What each summary checks is declared in its suite's `meta.c360` (models, keys, links), so the
suite JSON stays the one place that says what a gate guards. The SQL here is written once,
in the SQL both engines speak; identifiers, literals and functions that differ come from
the engine.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from c360.engines import Engine, EngineError

EXAMPLES = 5


class FrameError(RuntimeError):
    """A frame cannot be built (a model is missing, a declared column does not exist)."""


def require(engine: Engine, name: str, columns: list[str] = ()) -> None:
    if not engine.exists(name):
        raise FrameError(f"{name} does not exist in the {engine.name} build (did its dbt model build?)")
    missing = sorted(set(columns) - set(engine.columns(name)))
    if missing:
        raise FrameError(f"{name} has no column {', '.join(missing)}")


def _count_missing(engine: Engine, child: str, child_key: str, parent: str, parent_key: str) -> str:
    """Rows of `child` whose key has no row in `parent` (a left join both engines run well)."""
    q = engine.quote
    return (f"(select count(*) from {engine.relation(child)} as t left join"
            f" (select distinct {q(parent_key)} as k from {engine.relation(parent)}) as g"
            f" on g.k = t.{q(child_key)} where g.k is null)")


def key_stats(engine: Engine, spec: dict) -> pd.DataFrame:
    """One row per model: rows, null keys, duplicated keys and a few of them.

    One scan per model for the counts; the examples are fetched only for a model that has
    duplicates (a second, limited query), so a clean build pays one scan per model.
    """
    q, rows = engine.quote, []
    for model, keys in spec["keys"].items():
        require(engine, model, keys)
        key_list = ", ".join(q(k) for k in keys)
        any_null = " or ".join(f"{q(k)} is null" for k in keys)
        row_count, null_keys, duplicated = engine.one(f"""
            select coalesce(sum(n), 0), coalesce(sum(case when has_null then n else 0 end), 0),
                   coalesce(sum(case when n > 1 and not has_null then 1 else 0 end), 0)
            from (select {any_null} as has_null, count(*) as n from {engine.relation(model)}
                  group by {key_list}, {any_null}) as grouped""")
        examples = []
        if duplicated:
            examples = engine.records(f"""
                select {key_list}, count(*) as rows from {engine.relation(model)} where not ({any_null})
                group by {key_list} having count(*) > 1 order by count(*) desc, {key_list}""", EXAMPLES)
        rows.append({"model": model, "key_columns": ", ".join(keys), "row_count": int(row_count),
                     "null_keys": int(null_keys), "duplicated_keys": int(duplicated), "examples": examples})
    return pd.DataFrame(rows, columns=["model", "key_columns", "row_count", "null_keys",
                                       "duplicated_keys", "examples"])


def relationships(engine: Engine, spec: dict) -> pd.DataFrame:
    """One row per declared link child.column -> parent.column: rows, orphans, and the
    offending rows' keys (`show`), so a failure names them, not only counts them."""
    q, rows = engine.quote, []
    for link in spec["relationships"]:
        child, column = link["child"], link["column"]
        parent, parent_column = link["parent"], link.get("parent_column", link["column"])
        shown = link.get("show", [column])
        require(engine, child, [column, *shown])
        require(engine, parent, [parent_column])
        joined = (f"from {engine.relation(child)} as c left join (select distinct {q(parent_column)} as parent_key"
                  f" from {engine.relation(parent)}) as p on p.parent_key = c.{q(column)}"
                  f" where c.{q(column)} is not null")
        child_rows, orphans = engine.one(
            f"select count(*), coalesce(sum(case when p.parent_key is null then 1 else 0 end), 0) {joined}")
        examples = []
        if orphans:
            listed = ", ".join("c." + q(c) for c in shown)
            examples = engine.records(f"select {listed} {joined} and p.parent_key is null"
                                      f" order by {listed}", EXAMPLES)
        rows.append({"relationship": link["name"], "child_rows": int(child_rows), "orphan_rows": int(orphans),
                     "examples": examples})
    return pd.DataFrame(rows, columns=["relationship", "child_rows", "orphan_rows", "examples"])


def ga_hierarchy(engine: Engine, spec: dict) -> pd.DataFrame:
    """One row per session date: sessions whose hits do not match their totals.hits."""
    sessions, hits = spec["sessions"], spec["hits"]
    require(engine, sessions, ["session_key", "session_date", "n_hits"])
    require(engine, hits, ["session_key", "hit_number"])
    counted = f"""
        select s.session_key, s.session_date, s.n_hits as totals_hits,
               coalesce(h.hits, 0) as hits_rows, coalesce(h.distinct_hit_numbers, 0) as hit_numbers
        from {engine.relation(sessions)} as s
        left join (select session_key, count(*) as hits, count(distinct hit_number) as distinct_hit_numbers
                   from {engine.relation(hits)} group by session_key) as h
            on h.session_key = s.session_key"""
    (orphan_hits,) = engine.one(_count_missing(engine, hits, "session_key", sessions, "session_key")[1:-1])
    frame = engine.frame(f"""
        with counted as ({counted})
        select session_date,
               count(*) as sessions,
               sum(case when totals_hits > 0 then 1 else 0 end) as sessions_with_totals,
               sum(case when totals_hits > 0 and hits_rows <> totals_hits then 1 else 0 end) as sessions_hits_mismatch,
               sum(case when totals_hits = 0 and hits_rows > 0 then 1 else 0 end) as sessions_without_totals,
               sum(case when hit_numbers <> hits_rows then 1 else 0 end) as sessions_duplicate_hit_numbers,
               cast({int(orphan_hits)} as bigint) as orphan_hits
        from counted group by session_date order by session_date""")
    frame["examples"] = [[] for _ in range(len(frame))]
    for index in frame.index[frame["sessions_hits_mismatch"] > 0]:
        frame.at[index, "examples"] = engine.records(f"""
            select session_key, totals_hits, hits_rows from ({counted}) as counted
            where session_date = date '{frame.at[index, "session_date"]}' and totals_hits > 0
              and hits_rows <> totals_hits order by session_key""", EXAMPLES)
    return frame


def table_stats(engine: Engine, spec: dict) -> pd.DataFrame:
    """One row per declared table: row count and distinct count of its grain key, next to the
    count of the relation that defines the grain (one row per client: the client master)."""
    parts = []
    grain, grain_key = spec["grain"], spec["grain_key"]
    require(engine, grain, [grain_key])
    key = engine.quote(grain_key)
    for table in spec["tables"]:
        require(engine, table, [grain_key])
        parts.append(f"""
            select {engine.literal(table)} as table_name,
              (select count(*) from {engine.relation(table)}) as row_count,
              (select count(distinct {key}) from {engine.relation(table)}) as distinct_keys,
              (select count(*) from {engine.relation(grain)}) as grain_rows,
              {_count_missing(engine, table, grain_key, grain, grain_key)} as unknown_keys,
              {_count_missing(engine, grain, grain_key, table, grain_key)} as missing_keys""")
    return engine.frame(" union all ".join(parts))


def query(engine: Engine, spec: dict) -> pd.DataFrame:
    """A summary written as SQL in the suite itself (for one-off aggregates)."""
    for relation in spec.get("requires", []):
        require(engine, relation)
    return engine.frame(engine.translate(spec["sql"]))


SUMMARIES: dict[str, Callable[[Engine, dict], pd.DataFrame]] = {
    "key_stats": key_stats,
    "relationships": relationships,
    "ga_hierarchy": ga_hierarchy,
    "table_stats": table_stats,
    "query": query,
}


def summary_frame(engine: Engine, spec: dict) -> pd.DataFrame:
    builder = SUMMARIES.get(spec.get("frame"))
    if builder is None:
        raise FrameError(f"unknown summary frame {spec.get('frame')!r}; known: {sorted(SUMMARIES)}")
    try:
        return builder(engine, spec)
    except EngineError as error:
        raise FrameError(f"summary {spec['frame']} on {engine.name}: {error}") from error


def parameter_values(engine: Engine, queries: dict[str, str]) -> dict:
    """Suite parameters computed on the build (e.g. the number of clients in staging)."""
    values = {}
    for name, sql in queries.items():
        try:
            values[name] = engine.one(engine.translate(sql))[0]
        except EngineError as error:
            raise FrameError(f"parameter {name}: {error}") from error
    return values
