"""One writer per home at a time: `c360 land`, `c360 run` and `c360 quarantine release`.

Every command that writes a home holds its lock for as long as it writes: a landing started
while a run builds would otherwise commit a batch that the running build reads (dbt's sources
glob the raw zone) and publishes without it ever passing the raw gate. Readers (analysts,
`c360 status`, `c360 quarantine list|show`) never take it.

The lock is an advisory `flock` on `<home>/.c360-run.lock` (the name the first version of
`c360 run` used, kept so that a run of that version and one of this version still exclude
each other). The operating system drops it when the holder's process dies, so a killed run
never leaves a home locked. The file names the holder (command, pid, since) for the message
a refused command prints; it is informative only, the flock is the lock.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

LOCK_NAME = ".c360-run.lock"


class HomeLocked(RuntimeError):
    """Another c360 command is writing the same home."""


@contextlib.contextmanager
def hold_home(home: Path, command: str) -> Iterator[None]:
    """Hold `home`'s lock for `command` (e.g. "c360 land"); raises HomeLocked at once if
    another process holds it (no waiting: the caller says so and exits)."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    # "a+": opening must not truncate the holder's description before we hold the lock
    with (home / LOCK_NAME).open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            handle.seek(0)
            holder = handle.read().strip() or "another c360 command"
            raise HomeLocked(f"{home} is being written by {holder}; nothing was done,"
                             " try again when it has finished") from error
        handle.seek(0)
        handle.truncate()
        since = datetime.now(timezone.utc).isoformat(timespec="seconds")
        handle.write(f"{command} (pid {os.getpid()}, since {since})\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
