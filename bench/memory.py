"""Wall time and peak memory of a command's whole process tree.

psutil is not a dependency: the tree is found through /proc (every process's parent pid in
/proc/<pid>/stat) and its resident memory read from /proc/<pid>/status (VmRSS), sampled in
a thread every `interval` seconds. The peak of a tree is the largest sum of its members'
RSS seen at one sample. Samples are kept with their time, so the peak of any time window
(a pipeline stage) can be read afterwards.

A short spike between two samples can be missed by the sum; the kernel's own high-water
mark of the largest single process (`ru_maxrss` from wait4, which covers the command and
every descendant it waited for) is exact, so the reported peak is the larger of the two.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # the process ended while we looked
            continue
        # the command name (field 2) may hold spaces and parentheses: split after the last ')'
        ppid = int(stat[stat.rindex(b")") + 2:].split(b" ", 2)[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_pids(root: int) -> list[int]:
    children = _children_map()
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def rss_kib(pid: int) -> int:
    """Resident set of one process in KiB (0 if it is gone). statm is cheaper than status."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_kib(root: int) -> int:
    return sum(rss_kib(pid) for pid in tree_pids(root))


@dataclass
class Measured:
    """One command's run: exit code, wall seconds, peak tree RSS, the samples and the output
    lines with the time each arrived."""
    returncode: int
    seconds: float
    started: float                      # time.time() at start
    peak_kib: int
    samples: list[tuple[float, int]] = field(default_factory=list)   # (time.time(), tree KiB)
    lines: list[tuple[float, str]] = field(default_factory=list)     # (time.time(), stdout line)
    over_limit: bool = False            # stopped by the harness for using more than its limit

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    @property
    def output(self) -> str:
        return "".join(line for _, line in self.lines)

    def peak_mib_between(self, start: float, end: float) -> float:
        """Peak tree RSS (MiB) of the samples taken in [start, end] (time.time() values);
        with no sample inside, the nearest sample before the window's end."""
        inside = [kib for t, kib in self.samples if start <= t <= end]
        if not inside:
            inside = [kib for t, kib in self.samples if t <= end][-1:] or [0]
        return max(inside) / 1024


class _Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float, limit_kib: int | None):
        super().__init__(daemon=True)
        self.pid, self.interval, self.limit_kib = pid, interval, limit_kib
        self.samples: list[tuple[float, int]] = []
        self.over_limit = False
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            kib = tree_rss_kib(self.pid)
            self.samples.append((time.time(), kib))
            if self.limit_kib and kib > self.limit_kib and not self.over_limit:
                self.over_limit = True   # stop the command's own process group, nothing else
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.done.wait(self.interval)


def run_measured(command: list[str], *, cwd: Path | None = None, env: dict | None = None,
                 interval: float = 0.05, log: Path | None = None, timeout: float | None = None,
                 rss_limit_mib: float | None = None) -> Measured:
    """Run `command` (stdout and stderr merged), sampling its process tree's RSS; the output
    is kept line by line with arrival times, and written to `log` as it comes. The command
    runs in its own process group; past `rss_limit_mib` or `timeout` that group is killed
    (a guard for a shared machine: a baseline must not push the others into swap or OOM)."""
    lines: list[tuple[float, str]] = []
    started, t0 = time.time(), time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace", bufsize=1, start_new_session=True)
    sampler = _Sampler(proc.pid, interval, int(rss_limit_mib * 1024) if rss_limit_mib else None)
    sampler.start()

    def read() -> None:
        with open(log, "w") if log else open(os.devnull, "w") as sink:
            for line in proc.stdout:
                lines.append((time.time(), line))
                sink.write(line)
                sink.flush()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = None if timeout is None else t0 + timeout
    while True:  # wait4, not Popen.wait: it also returns the tree's maximum RSS
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            deadline = None
        time.sleep(0.01)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.done.set()
    sampler.join()
    reader.join()
    peak = max([kib for _, kib in sampler.samples] + [usage.ru_maxrss])
    return Measured(proc.returncode, seconds, started, peak, sampler.samples, lines, sampler.over_limit)
