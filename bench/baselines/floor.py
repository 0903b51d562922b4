"""Baseline 1, the floor: bench/baselines/floor.sql run by DuckDB straight on the raw zone."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from contract import CONTRACT_COLUMNS, report

SCRIPT = Path(__file__).with_name("floor.sql")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, required=True, help="<home>/raw")
    parser.add_argument("--out", type=Path, required=True, help="result Parquet file")
    args = parser.parse_args()

    started = time.perf_counter()
    sql = SCRIPT.read_text().replace("{raw}", str(args.raw.resolve()).replace("'", "''"))
    with duckdb.connect() as con:
        con.execute(sql)
        computed = time.perf_counter()
        columns = ", ".join(CONTRACT_COLUMNS)
        out = str(args.out).replace("'", "''")
        con.execute(f"copy (select {columns} from customer_360) to '{out}' (format parquet)")
        rows = con.execute("select count(*) from customer_360").fetchone()[0]
    report(read_seconds=None, compute_seconds=computed - started,
           total_seconds=time.perf_counter() - started, rows=rows)


if __name__ == "__main__":
    main()
