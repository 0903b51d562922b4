"""`c360.connect(home)`: the published marts, read-only, for notebooks and scripts.

A notebook that opens `<home>/c360.duckdb` read-write would hold DuckDB's write lock and stop
the next `c360 run` from publishing; opened read-only it never blocks a run, and it keeps
reading the version it opened until it reconnects (publishing swaps the file atomically).
"""
from __future__ import annotations

from pathlib import Path

PUBLISHED_NAME = "c360.duckdb"


def connect(home: str | Path = "work/home/sf1", *, schema: str = "marts", config: dict | None = None):
    """A read-only DuckDB connection to the published database of `home`.

    `home` is the folder `c360 run --home` published into (or the `c360.duckdb` file itself).
    Unqualified table names resolve in `schema` (default: the marts), so
    `con.sql("select * from customer_360")` works; other schemas stay reachable by name
    (`staging.stg_...`, `c360_meta.version`).
    """
    import duckdb

    path = Path(home)
    database = path if path.suffix == ".duckdb" else path / PUBLISHED_NAME
    if not database.is_file():
        raise FileNotFoundError(f"{database}: nothing is published there yet (run `c360 run --landing DIR"
                                f" --home {database.parent}` or `make run` first)")
    con = duckdb.connect(str(database), read_only=True, config=config or {})
    con.execute(f"use {_identifier(schema)}")
    return con


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_command() -> str:
    """How to call the DuckDB CLI installed with c360 (the duckdb-cli package, at the library's
    version): `duckdb` when that one is first on PATH, else its full path beside this Python."""
    import shutil
    import sys

    beside = Path(sys.executable).parent / "duckdb"
    on_path = shutil.which("duckdb")
    if on_path and (not beside.exists() or Path(on_path).resolve() == beside.resolve()):
        return "duckdb"
    return str(beside) if beside.exists() else "duckdb"
