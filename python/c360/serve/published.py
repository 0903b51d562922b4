"""The published database as the server sees it: one read-only opening per published version.

`c360 run` publishes by renaming a new file over `<home>/c360.duckdb` (c360.publish). The
server never holds that path across a publish: before each request it compares the file the
path names now (device and inode, one `stat`) with the version it has open, and opens the
new one when they differ. Requests already running finish on the version they started with;
that version is closed when its last request ends. No request waits for a publish, and none
fails because of one.

Each version is attached, read-only, to a private in-memory DuckDB instance. Opening the
path with `duckdb.connect(path)` would not do: DuckDB caches database instances by path, and
a second connect to the same path while the old version is still open returns the old one.

Threads: a DuckDB connection serves one thread at a time, so each version keeps a pool of
cursors (connections to its instance), one per concurrently running request.
"""
from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb

PUBLISHED_NAME = "c360.duckdb"       # the name c360.publish swaps in (not imported: the server reads the file only)
CATALOG = "published"


class NotServable(RuntimeError):
    """Nothing the server can answer from: nothing published yet, or a version without the
    serving layout (published before it existed)."""


@dataclass(frozen=True)
class VersionInfo:
    build_id: str
    as_of_date: str | None
    published_at: str | None
    built_at: str | None
    batches: list[str]
    gates: dict
    has_serving_layout: bool


class Version:
    """One published file, open read-only, with its cursor pool and in-flight count."""

    def __init__(self, path: Path, identity: tuple[int, int]):
        self.identity = identity
        self.instance = duckdb.connect(config={"threads": 1})    # one request, one core: many run side by side
        try:
            self.instance.execute(f"attach '{_sql_text(path)}' as {CATALOG} (read_only)")
            self.instance.execute(f"use {CATALOG}")
            self.info = self._read_info()
        except duckdb.Error:
            self.instance.close()
            raise
        self.users = 0
        self.retired = False
        self._idle: list[duckdb.DuckDBPyConnection] = []
        self._opened: list[duckdb.DuckDBPyConnection] = []

    def _read_info(self) -> VersionInfo:
        row = self.instance.execute("select build_id, cast(as_of_date as varchar), cast(published_at as varchar),"
                                    " cast(built_at as varchar), batches, gates from c360_meta.version").fetchone()
        has_serving = self.instance.execute(
            "select count(*) from duckdb_tables() where database_name = ? and schema_name = 'serving'"
            " and table_name = 'customer_documents'", [CATALOG]).fetchone()[0] == 1
        build_id, as_of, published_at, built_at, batches, gates = row
        return VersionInfo(build_id, as_of, published_at, built_at, list(batches or []),
                           json.loads(gates) if gates else {}, has_serving)

    def take_cursor(self) -> duckdb.DuckDBPyConnection:
        if self._idle:
            return self._idle.pop()
        cursor = self.instance.cursor()
        cursor.execute(f"use {CATALOG}")        # the default catalog is per connection
        self._opened.append(cursor)
        return cursor

    def give_back(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self._idle.append(cursor)

    def close(self) -> None:
        for cursor in self._opened:
            cursor.close()
        self.instance.close()


@dataclass(frozen=True)
class Reader:
    """What a request reads with: a cursor on one version, and that version's description."""
    cursor: duckdb.DuckDBPyConnection
    version: VersionInfo


class PublishedDatabase:
    """`<home>/c360.duckdb`, followed across publishes."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.path = self.home / PUBLISHED_NAME
        self._lock = threading.Lock()          # guards the current version, in-flight counts, cursor pools
        self._opening = threading.Lock()
        self._current: Version | None = None

    @contextmanager
    def reader(self, *, serving: bool = True) -> Iterator[Reader]:
        """A cursor on the newest published version, for one request. With `serving`, the
        version must have the serving layout."""
        version = self._enter()
        try:
            if serving and not version.info.has_serving_layout:
                raise NotServable(f"the published version {version.info.build_id} in {self.path} has no serving"
                                  " layout (schema serving): it was published by an older c360; publish a new"
                                  " version with `c360 run`")
            with self._lock:
                cursor = version.take_cursor()
            try:
                yield Reader(cursor, version.info)
            finally:
                with self._lock:
                    version.give_back(cursor)
        finally:
            self._leave(version)

    def refresh(self) -> None:
        """Open a newly published version now and let the previous one go (called on a timer
        as well, so an idle server does not keep a replaced file open)."""
        try:
            self._leave(self._enter())
        except NotServable:
            pass

    def close(self) -> None:
        with self._lock:
            current, self._current = self._current, None
            if current is not None:
                current.retired = True
                idle = current.users == 0
        if current is not None and idle:
            current.close()

    # -- switching versions ------------------------------------------------------------------

    def _enter(self) -> Version:
        identity = self._identity()
        with self._lock:
            current = self._current
            if current is not None and current.identity == identity:
                current.users += 1
                return current
        with self._opening:                     # one opening at a time: versions only move forward
            with self._lock:
                current = self._current
                if current is not None and current.identity == self._identity():
                    current.users += 1              # another request opened it meanwhile
                    return current
            fresh = self._open()
            with self._lock:
                previous, self._current = self._current, fresh
                fresh.users += 1
                done_with_previous = previous is not None and self._retire(previous)
        if done_with_previous:
            previous.close()
        return fresh

    def _leave(self, version: Version) -> None:
        with self._lock:
            version.users -= 1
            done = version.retired and version.users == 0
        if done:
            version.close()

    @staticmethod
    def _retire(version: Version) -> bool:
        """Mark a version replaced; True when no request uses it any more (close it now)."""
        version.retired = True
        return version.users == 0

    def _open(self) -> Version:
        """Open the file the path names now. A publish may land between the `stat` and the
        attach; the identity is therefore taken before and after, and the open retried until
        both agree (the attached file is then the one identified)."""
        for _ in range(10):
            before = self._identity()
            try:
                version = Version(self.path, before)
            except duckdb.Error as error:
                raise NotServable(f"{self.path} cannot be read as a published c360 version: {error}") from error
            if self._identity() == before:
                return version
            version.close()
        raise NotServable(f"{self.path} changed ten times while being opened; try again")

    def _identity(self) -> tuple[int, int]:
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            raise NotServable(f"nothing is published in {self.home} yet: run `c360 run --landing DIR"
                              f" --home {self.home}`") from None
        return status.st_dev, status.st_ino


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")
