"""Progress of long work (landing gigabytes, a dbt build of hundreds of nodes), as it happens.

On a terminal, one live line per task, drawn by rich: files done of total, rows, rows/s and
an estimate of the time left (landing), or nodes done of total (dbt). Without a terminal (CI
logs, a redirected run) nothing is redrawn: one line when a task starts, one per large file
(LARGE_BYTES or LARGE_ROWS), and one when it ends, each with its counts and speed.
`C360_PROGRESS=live|lines|off` overrides the choice.

    from c360.progress import task
    with task("land", total=len(files), unit="files", total_bytes=size) as progress:
        for file in files:
            ...                                  # land it
            progress.advance(rows=rows_read, bytes=file_size, item=file_name)

    from c360.progress import dbt_progress
    with dbt_progress("dbt build") as on_event:  # a dbtRunner callback: nodes done of total
        dbtRunner(callbacks=[on_event]).invoke(args)

The estimate follows bytes when the total is known in bytes (files differ in size), else the
item count. A task costs a lock and a few additions per call; drawing happens on rich's own
refresh thread (4 times a second), never in the caller's loop.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

LARGE_BYTES = 64 << 20          # a file this big gets its own line without a terminal
LARGE_ROWS = 1_000_000
MODES = ("live", "lines", "off")
MODE_ENV = "C360_PROGRESS"


def mode(console: Console) -> str:
    """`live` on a terminal, `lines` otherwise; C360_PROGRESS overrides."""
    chosen = os.environ.get(MODE_ENV, "").strip().lower()
    if chosen in MODES:
        return chosen
    return "live" if console.is_terminal and not console.is_dumb_terminal else "lines"


class Task:
    """One long piece of work: counts items (files, nodes), rows and bytes as they are done."""

    def __init__(self, stage: str, *, total: int | None, unit: str, total_bytes: int | None,
                 console: Console, show: str):
        self.stage, self.total, self.unit, self.total_bytes = stage, total, unit, total_bytes
        self.console, self.show = console, show
        self.done = self.rows = self.bytes = 0
        self.failed = 0
        self.started = time.perf_counter()
        self._lock = threading.Lock()
        self._live: Progress | None = None
        self._live_id = None

    # -- what callers use --------------------------------------------------------------------

    def advance(self, n: int = 1, *, rows: int = 0, bytes: int = 0, item: str | None = None,  # noqa: A002
                failed: bool = False) -> None:
        with self._lock:
            self.done += n
            self.rows += rows
            self.bytes += bytes
            self.failed += failed
            if self._live is not None:
                self._live.update(self._live_id, completed=self._completed(), refresh=False, **self._fields())
            elif self.show == "lines" and item and (bytes >= LARGE_BYTES or rows >= LARGE_ROWS):
                self._line(f"{item}: {rows:,} rows, {_size(bytes)}; {self.summary()}")

    def set_total(self, total: int) -> None:
        with self._lock:
            self.total = total
            if self._live is not None:
                self._live.update(self._live_id, total=self._goal())

    # -- figures -----------------------------------------------------------------------------

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def estimate_left(self) -> float | None:
        """Seconds left at the speed so far (bytes when their total is known), None if unknown."""
        if self.total_bytes and self.bytes:
            share = self.bytes / self.total_bytes
        elif self.total and self.done:
            share = self.done / self.total
        else:
            return None
        return self.seconds * (1 - share) / share if share < 1 else 0.0

    def summary(self) -> str:
        of = f" of {self.total:,}" if self.total is not None else ""
        parts = [f"{self.done:,}{of} {self.unit}"]
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        if self.rows:
            parts.append(f"{self.rows:,} rows ({self.rows_per_second():,.0f} rows/s)")
        parts.append(f"{self.seconds:.1f} s")
        left = self.estimate_left()
        if left is not None and (self.total is None or self.done < self.total):
            parts.append(f"about {_duration(left)} left")
        return ", ".join(parts)

    # -- drawing -----------------------------------------------------------------------------

    def _goal(self) -> float | None:
        return float(self.total_bytes) if self.total_bytes else (float(self.total) if self.total is not None else None)

    def _completed(self) -> float:
        return float(self.bytes) if self.total_bytes else float(self.done)

    def _fields(self) -> dict:
        of = f"/{self.total:,}" if self.total is not None else ""
        rows = f"{self.rows:,} rows, {self.rows_per_second():,.0f} rows/s" if self.rows else ""
        failed = f", {self.failed} failed" if self.failed else ""
        return {"items": f"{self.done:,}{of} {self.unit}{failed}", "rows": rows}

    def _line(self, text: str) -> None:
        self.console.print(f"{self.stage}: {text}", highlight=False, markup=False, soft_wrap=True)

    def _start(self) -> None:
        if self.show == "live":
            self._live = Progress(TextColumn("{task.description}"), BarColumn(bar_width=24),
                                  TaskProgressColumn(), TextColumn("{task.fields[items]}"),
                                  TextColumn("{task.fields[rows]}"), _Estimate(),
                                  console=self.console, transient=False, refresh_per_second=4)
            self._live_id = self._live.add_task(self.stage, total=self._goal(), **self._fields())
            self._live.start()
        elif self.show == "lines":
            size = f", {_size(self.total_bytes)}" if self.total_bytes else ""
            self._line(f"started ({self.total:,} {self.unit}{size})" if self.total is not None else "started")

    def _finish(self) -> None:
        if self._live is not None:
            self._live.update(self._live_id, completed=self._completed(), **self._fields())
            self._live.stop()
            self._live = None
        if self.show == "lines":
            self._line(f"done: {self.summary()}")


class _Estimate(ProgressColumn):
    """rich's own estimate, labelled (`about 1:05 left`), blank until there is one."""
    _inner = TimeRemainingColumn()

    def render(self, task) -> Text:
        if task.time_remaining is None or task.finished:
            return Text("")
        return Text("about ") + self._inner.render(task) + Text(" left")


@contextmanager
def task(stage: str, *, total: int | None = None, unit: str = "files", total_bytes: int | None = None,
         console: Console | None = None) -> Iterator[Task]:
    """A task shown while the block runs; ended (its last line printed) when the block exits."""
    console = console or Console()
    work = Task(stage, total=total, unit=unit, total_bytes=total_bytes or None, console=console,
                show=mode(console))
    work._start()
    try:
        yield work
    finally:
        work._finish()


@contextmanager
def dbt_progress(stage: str = "dbt build", *, console: Console | None = None) -> Iterator[Callable]:
    """A dbtRunner callback that shows nodes done of total for one invocation.

    dbt announces the number of nodes it will run (`ConcurrencyLine`) and reports each node it
    finishes (`NodeFinished`), from its worker threads: Task is thread-safe.
    """
    with task(stage, unit="nodes", console=console) as work:
        def on_event(event) -> None:
            name = event.info.name
            if name == "ConcurrencyLine":
                work.set_total(int(event.data.node_count))
            elif name == "NodeFinished":
                status = str(event.data.node_info.node_status)
                work.advance(item=event.data.node_info.unique_id,
                             failed=status in ("error", "fail", "runtime error"))

        yield on_event


def _size(count: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}" if count < 10 * scale else f"{count / scale:,.0f} {unit}"
    return f"{count} bytes"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"
