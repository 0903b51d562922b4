"""The benchmark harness still runs end to end: a tiny bank, one repeat, every baseline
verified equal to the published mart and the report written. (`make bench` measures for
real; this only keeps bench/ from rotting: no delta run, and PySpark, with its ~40 s of
fixed cost, runs here only when C360_BENCH_SMOKE_SPARK=1.) Most of its time is the tiny
`c360 run` itself (dbt's ~270 nodes and the gates' fixed costs)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_harness_verifies_baselines_and_writes_the_report(tmp_path: Path):
    baselines = "floor,pandas" + (",pyspark" if os.environ.get("C360_BENCH_SMOKE_SPARK") == "1" else "")
    out, results = tmp_path / "BENCHMARKS.md", tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--scales", "0.01", "--repeats", "1",
         "--baselines", baselines, "--out", str(out), "--json", str(results), "--work", str(tmp_path / "work"),
         "--fresh", "--no-delta", "--timeout", "600"],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]

    report = json.loads(results.read_text())
    (entry,) = report["scales"]
    cold = entry["c360"]["cold"]
    assert cold["ok"] and cold["seconds"] > 0 and cold["peak_mib"] > 0
    assert {"land", "raw gate", "build staging", "build marts", "publish"} <= set(cold["stages"])
    assert entry["rows"]["clients"] > 0 and entry["rows"]["transactions"] > 0
    for name in baselines.split(","):
        baseline = entry["baselines"][name]
        assert baseline["verified"], baseline.get("comparison") or baseline.get("failure")
        assert baseline["seconds"] > 0 and baseline["peak_mib"] > 0

    text = out.read_text()
    assert "## customer_360 from a cold start" in text
    assert "| 0.01 |" in text
    assert "equal on all" in text
