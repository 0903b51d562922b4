"""One `c360 run`, exactly as users run it, measured stage by stage.

The command runs in its own process; its process tree's RSS is sampled (bench/memory.py)
and every output line is time-stamped as it arrives. The pipeline announces each stage
(`== <stage>`) and closes it (`<stage>: ok in 1.2 s`), and writes its own record,
`<home>/runs/<run id>.json`, with every stage's seconds: the seconds come from that record,
the memory of a stage is the peak of the samples between its two lines. What runs before
the first stage (interpreter start-up, imports) and between stages is `startup & other`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from memory import run_measured

REPO = Path(__file__).resolve().parents[1]
# The pipeline's stages in order (python/c360/pipeline.py), then what is outside them.
STAGES = ("land", "raw gate", "build staging", "staging gate", "build marts", "marts gate",
          "data docs", "publish", "startup & other")
DBT_STAGES = ("build staging", "build marts")
_START = re.compile(r"^== (?P<name>.+?)\s*$")
_END = re.compile(r"^\s+(?P<name>.+?): (?:ok|FAILED) in (?P<seconds>[0-9.]+) s\s*$")
# dbt's per-node lines: `12 of 201 OK created sql table model intermediate.x .... [OK in 1.2s]`
_DBT_NODE = re.compile(
    r"\d+ of \d+ (?:OK created sql (?P<materialized>\w+) model |OK loaded seed file |ERROR creating sql \w+ model |"
    r"(?:PASS|WARN \d+|FAIL \d+|ERROR) )(?P<name>\S+).*\[(?P<status>[A-Z]+)(?: \d+)? in (?P<seconds>[0-9.]+)s\]")
# The option of `c360 generate` that writes the next day(s) of the bank's drop
# on top of a generated landing folder, new files only. When `c360 generate --help` shows
# it, the delta run uses it; before it existed, the delta run was a re-run with no new file.
DELTA_OPTION = "--delta-days"


def c360_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("c360")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "c360.cli", *args]


def run_c360(landing: Path, home: Path, log: Path, *, timeout: float | None = None,
             extra: tuple[str, ...] = ()) -> dict:
    """A `c360 run`; returns ok, seconds, peak_mib and per-stage {seconds, peak_mib}."""
    before = set((home / "runs").glob("*.json")) if (home / "runs").exists() else set()
    measured = run_measured(c360_command("run", "--landing", str(landing), "--home", str(home), *extra),
                            cwd=REPO, env=os.environ | {"PYTHONUNBUFFERED": "1"}, log=log, timeout=timeout)
    record = _run_record(home, before)
    windows = _stage_windows(measured.lines, measured.started, measured.started + measured.seconds)
    stages: dict[str, dict] = {}
    for stage in (record or {}).get("stages", []):
        name = stage["name"]
        start, end = windows.get(name, (None, None))
        peak = measured.peak_mib_between(start, end) if start is not None else None
        stages[name] = {"seconds": round(stage["seconds"], 3),
                        "peak_mib": round(peak, 1) if peak is not None else None, "ok": stage["ok"]}
    if not stages:   # no run record: fall back on the printed timings
        for name, (start, end) in windows.items():
            stages[name] = {"seconds": round(end - start, 3),
                            "peak_mib": round(measured.peak_mib_between(start, end), 1), "ok": True}
    inside = sum(s["seconds"] for s in stages.values())
    stages["startup & other"] = {"seconds": round(max(measured.seconds - inside, 0.0), 3), "peak_mib": None}
    ok = measured.returncode == 0 and (record is None or record.get("outcome") == "published")
    result = {"ok": ok, "exit_code": measured.returncode, "seconds": round(measured.seconds, 3),
              "peak_mib": round(measured.peak_mib, 1), "stages": stages,
              "dbt_seconds": round(sum(stages[s]["seconds"] for s in DBT_STAGES if s in stages), 3),
              "outcome": (record or {}).get("outcome"), "stopped_at": (record or {}).get("stopped_at"),
              "log": str(log)}
    result["dbt_nodes"] = dbt_nodes(measured.lines)
    if not ok:
        result["tail"] = measured.output[-2000:]
    return result


def dbt_nodes(lines: list[tuple[float, str]], top: int = 10) -> dict:
    """What dbt spent its time on (from its own per-node lines): models and tests in total,
    and the slowest nodes. Node times overlap when dbt runs threads in parallel."""
    models, tests, seeds = [], [], []
    for _, line in lines:
        if match := _DBT_NODE.search(line):
            entry = (match["name"], float(match["seconds"]))
            if match["materialized"] or "creating sql" in line:
                models.append(entry + (match["materialized"] or "?",))
            elif "seed file" in line:
                seeds.append(entry)
            else:
                tests.append(entry)
    slowest = sorted([(n, s, m) for n, s, m in models] + [(n, s, "test") for n, s in tests],
                     key=lambda e: -e[1])[:top]
    return {"models": len(models), "model_seconds": round(sum(s for _, s, _ in models), 2),
            "tests": len(tests), "test_seconds": round(sum(s for _, s in tests), 2),
            "seeds": len(seeds), "seed_seconds": round(sum(s for _, s in seeds), 2),
            "slowest": [{"node": n, "seconds": s, "kind": k} for n, s, k in slowest]}


def _run_record(home: Path, before: set[Path]) -> dict | None:
    new = sorted(set((home / "runs").glob("*.json")) - before) if (home / "runs").exists() else []
    return json.loads(new[-1].read_text()) if new else None


def _stage_windows(lines: list[tuple[float, str]], started: float, ended: float) -> dict[str, tuple[float, float]]:
    """(start, end) time of every stage, from the pipeline's `== stage` and `stage: ok in` lines."""
    windows, open_at = {}, {}
    for at, line in lines:
        if match := _START.match(line):
            open_at[match["name"]] = at
        elif (match := _END.match(line)) and match["name"] in open_at:
            windows[match["name"]] = (open_at.pop(match["name"]), at)
    for name, at in open_at.items():   # a stage that never closed (the run failed in it)
        windows[name] = (at, ended)
    return windows


def delta_landing(landing: Path, scale_dir: Path, scale: float) -> tuple[Path, str]:
    """The landing folder of the one-day delta run and what it is.

    The delta folder holds the base files (hard links: the bank's landing folder keeps
    growing; files already landed are recognised by checksum and skipped) plus one new day
    from `c360 generate --delta-days 1`, which adds files and never rewrites one (a rewrite
    would go through the link into the base folder)."""
    delta = scale_dir / "delta-landing"
    if not delta.exists():
        building = scale_dir / "delta-landing.tmp"
        shutil.rmtree(building, ignore_errors=True)
        for path in landing.rglob("*"):
            if path.is_file():
                target = building / path.relative_to(landing)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, target)
        subprocess.run(c360_command("generate", "--scale", f"{scale:g}", "--out", str(building), DELTA_OPTION, "1"),
                       cwd=REPO, check=True, capture_output=True)
        building.rename(delta)
    return delta, f"one new day of files (c360 generate {DELTA_OPTION} 1)"
