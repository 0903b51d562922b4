"""Exact equality of a baseline's result and the published customer_360 mart.

Every contract column is compared value by value on client_id (null equals null, nothing
else is forgiven: no tolerance on money, no rounding). Types must be of the same family
(integer, decimal, date, text), so a baseline that computes money in floating point fails
even when the printed numbers look alike. The report says which clients and columns differ
and shows both values.

    python bench/compare.py <home>/c360.duckdb baseline.parquet
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).with_name("baselines")))
from contract import CONTRACT_COLUMNS  # noqa: E402

SAMPLES = 5


@dataclass
class Comparison:
    baseline: str
    equal: bool
    mart_rows: int
    baseline_rows: int
    problems: list[str] = field(default_factory=list)
    differing: dict[str, int] = field(default_factory=dict)          # column -> clients
    examples: list[dict] = field(default_factory=list)               # client, column, both values

    def describe(self) -> str:
        head = (f"{self.baseline}: {'EQUAL' if self.equal else 'DIFFERENT'} to the mart"
                f" ({self.mart_rows:,} mart rows, {self.baseline_rows:,} baseline rows)")
        lines = [head] + [f"  ! {p}" for p in self.problems]
        lines += [f"  column {c}: {n:,} clients differ" for c, n in self.differing.items()]
        lines += [f"    client {e['client_id']} {e['column']}: mart={e['mart']!r} {self.baseline}={e['baseline']!r}"
                  for e in self.examples]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"baseline": self.baseline, "equal": self.equal, "mart_rows": self.mart_rows,
                "baseline_rows": self.baseline_rows, "problems": self.problems,
                "differing": self.differing,
                "examples": [{k: (v if isinstance(v, (int, float, str, type(None))) else str(v))
                              for k, v in e.items()} for e in self.examples]}


def find_mart(database: Path, table: str = "customer_360") -> tuple[str, str]:
    """(schema, table) of `table` in a published database (its schema may vary)."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select table_schema from information_schema.tables where table_name = ? order by"
            " table_schema = 'marts' desc, table_schema", [table]).fetchall()
    if not rows:
        raise LookupError(f"no table {table} in {database}")
    return rows[0][0], table


def _family(duck_type: str) -> str:
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        return "decimal"
    if t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT"}:
        return "integer"
    if t in {"VARCHAR"} or t.startswith("VARCHAR"):
        return "text"
    return t.lower()   # DATE, DOUBLE, ...


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def compare(database: Path, result: Path, name: str, columns=CONTRACT_COLUMNS) -> Comparison:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{_sql_path(database)}' as published (read_only)")
        schema, table = find_mart(database)
        con.execute(f'create temp view m as select * from published."{schema}"."{table}"')
        con.execute(f"create temp view b as select * from read_parquet('{_sql_path(result)}')")
        m_types = dict(con.execute("select column_name, column_type from (describe m)").fetchall())
        b_types = dict(con.execute("select column_name, column_type from (describe b)").fetchall())
        mart_rows = con.execute("select count(*) from m").fetchone()[0]
        baseline_rows = con.execute("select count(*) from b").fetchone()[0]
        out = Comparison(name, False, mart_rows, baseline_rows)

        missing = [c for c in columns if c not in m_types or c not in b_types]
        for c in missing:
            where = "the mart" if c not in m_types else name
            out.problems.append(f"column {c} is missing from {where}")
        present = [c for c in columns if c not in missing]
        for c in present:
            if _family(m_types[c]) != _family(b_types[c]):
                out.problems.append(f"column {c}: mart type {m_types[c]}, {name} type {b_types[c]}")
        for side in ("m", "b"):
            dup, nulls = con.execute(f"select count(*) - count(distinct client_id), count(*) - count(client_id)"
                                     f" from {side}").fetchone()
            label = "mart" if side == "m" else name
            if dup:
                out.problems.append(f"{label}: {dup} duplicate client_id rows")
            if nulls:
                out.problems.append(f"{label}: {nulls} rows without client_id")
        only = con.execute(
            "select count(*) filter (where b.client_id is null), count(*) filter (where m.client_id is null),"
            " list(coalesce(m.client_id, b.client_id) order by coalesce(m.client_id, b.client_id))[1:5]"
            " from m full join b on m.client_id = b.client_id"
            " where m.client_id is null or b.client_id is null").fetchone()
        if only[0] or only[1]:
            out.problems.append(f"{only[0]} clients only in the mart, {only[1]} only in {name}"
                                f" (e.g. {only[2]})")
        comparable = [c for c in present if c != "client_id"
                      and _family(m_types[c]) == _family(b_types[c])]
        if comparable:
            counts = con.execute(
                "select " + ", ".join(f'count(*) filter (where m."{c}" is distinct from b."{c}")'
                                      for c in comparable)
                + " from m join b on m.client_id = b.client_id").fetchone()
            out.differing = {c: n for c, n in zip(comparable, counts) if n}
            for c in out.differing:
                for client_id, mv, bv in con.execute(
                        f'select m.client_id, m."{c}", b."{c}" from m join b on m.client_id = b.client_id'
                        f' where m."{c}" is distinct from b."{c}" order by m.client_id limit {SAMPLES}').fetchall():
                    out.examples.append({"client_id": client_id, "column": c, "mart": mv, "baseline": bv})
        out.equal = not out.problems and not out.differing
        return out
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", type=Path, help="the published c360.duckdb")
    parser.add_argument("result", type=Path, help="a baseline's result Parquet")
    parser.add_argument("--name", default="baseline")
    args = parser.parse_args(argv)
    comparison = compare(args.database, args.result, args.name)
    print(comparison.describe())
    return 0 if comparison.equal else 1


if __name__ == "__main__":
    sys.exit(main())
