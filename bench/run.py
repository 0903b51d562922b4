"""`make bench`: c360 against the alternatives, at several scales, in one run.

For each scale: generate a bank (kept under --work and reused while the generator's code is
unchanged), then
  1. a cold `c360 run` (fresh home: land, raw gate, dbt build, staging and marts gates,
     publish), measured per stage (wall seconds, peak RSS of the whole process tree);
  2. a one-day delta run on top of it (`c360 generate --delta-days 1`: see `delta_landing`);
  3. the baselines on the same raw Parquet zone: the floor (one DuckDB SQL script), pandas,
     PySpark local (where it installs). Each result is checked equal, value by value, to the
     published customer_360 before any of its timings is reported.
Timings are medians of --repeats runs when one run takes under a minute, else one run.
Results go to BENCHMARKS.md (--out) and bench/results.json (--json), merged by scale with
earlier results so that a long scale can be measured on its own.

    python bench/run.py                       # scales 1 and 10, 3 repeats
    python bench/run.py --scales 100          # add scale 100 to the existing report
    python bench/run.py --scales 0.01 --repeats 1 --baselines floor,pandas   # a smoke run
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "baselines"))

from compare import compare  # noqa: E402
from memory import run_measured  # noqa: E402
from report import render  # noqa: E402
from stages import DBT_STAGES, STAGES, c360_command, delta_landing, run_c360  # noqa: E402

BASELINES = {
    "floor": BENCH / "baselines" / "floor.py",
    "pandas": BENCH / "baselines" / "pandas_baseline.py",
    "pyspark": BENCH / "baselines" / "pyspark_baseline.py",
}
ONE_MINUTE = 60.0
# Row counts reported per scale: (label, raw table).
COUNTED = (("clients", "mainframe/client"), ("accounts", "mainframe/account"),
           ("transactions", "mainframe/trans"), ("ga_sessions", "ga/session"))


def log(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


# --- the machine ---------------------------------------------------------------------------

def machine() -> dict:
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cores": os.cpu_count(), "memory_gib": round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1),
            "cpu": cpu, "os": f"{platform.system()} {platform.release()}",
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "great_expectations", "pandas", "pyarrow", "pyspark"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
        found["java"] = (java.stderr or java.stdout).splitlines()[0].strip()
    except (OSError, subprocess.SubprocessError, IndexError):
        found["java"] = None
    return found


def pyspark_available() -> str | None:
    """None when PySpark can run here, else why not."""
    try:
        metadata.version("pyspark")
    except metadata.PackageNotFoundError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (PySpark needs Java 17)"
    return None


# --- data ----------------------------------------------------------------------------------

def generator_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO / "python" / "c360" / "generate").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def generate(scale_dir: Path, scale: float, seed: int) -> dict:
    """The landing folder of one scale, generated once and reused while the generator's code
    and the seed are unchanged."""
    landing, marker = scale_dir / "landing", scale_dir / "generated.json"
    wanted = {"scale": scale, "seed": seed, "generator": generator_fingerprint()}
    if marker.exists() and landing.is_dir():
        done = json.loads(marker.read_text())
        if {k: done.get(k) for k in wanted} == wanted:
            log(f"scale {scale:g}: reusing generated data in {landing}")
            return done
    shutil.rmtree(scale_dir, ignore_errors=True)
    scale_dir.mkdir(parents=True)
    log(f"scale {scale:g}: generating into {landing}")
    measured = run_measured(c360_command("generate", "--scale", f"{scale:g}", "--out", str(landing),
                                         "--seed", str(seed)), cwd=REPO, log=scale_dir / "generate.log")
    if measured.returncode != 0:
        raise RuntimeError(f"c360 generate failed (exit {measured.returncode}):\n{measured.output[-3000:]}")
    done = wanted | {"seconds": round(measured.seconds, 2), "peak_mib": round(measured.peak_mib),
                     "landing_mib": round(_size_mib(landing), 1)}
    marker.write_text(json.dumps(done, indent=2) + "\n")
    return done


def _size_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def raw_rows(raw: Path) -> dict:
    import duckdb
    rows = {}
    with duckdb.connect() as con:
        for label, table in COUNTED:
            pattern = str(raw / table / "batch=*" / "*.parquet").replace("'", "''")
            try:
                rows[label] = con.execute(
                    f"select sum(num_rows)::bigint from (select distinct file_name, num_rows"
                    f" from parquet_file_metadata('{pattern}'))").fetchone()[0] or 0
            except duckdb.Error:
                rows[label] = 0
    return rows


# --- measuring -----------------------------------------------------------------------------

def repeated(measure, repeats: int, what: str) -> list[dict]:
    """Run `measure()` once, then again up to `repeats` runs when a run takes under a minute."""
    runs = [measure()]
    while len(runs) < repeats and runs[0].get("ok") and runs[0]["seconds"] < ONE_MINUTE:
        runs.append(measure())
    if len(runs) == 1 and repeats > 1 and runs[0].get("ok"):
        log(f"{what}: one run ({runs[0]['seconds']:.0f} s is over a minute)")
    return runs


def median_of(runs: list[dict], *keys: str):
    values = []
    for run in runs:
        value = run
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            values.append(value)
    return round(statistics.median(values), 3) if values else None


def bench_c360(scale_dir: Path, landing: Path, repeats: int, scale: float, timeout: float | None,
               extra: tuple[str, ...] = (), with_delta: bool = True) -> dict:
    home = scale_dir / "home"
    logs = scale_dir / "logs"
    logs.mkdir(exist_ok=True)
    cold_runs, delta_runs, delta_mode = [], [], None

    def one_cold_then_delta() -> dict:
        nonlocal delta_mode
        shutil.rmtree(home, ignore_errors=True)
        i = len(cold_runs) + 1
        log(f"scale {scale:g}: cold c360 run #{i}")
        cold = run_c360(landing, home, logs / f"c360-run-{i}.log", timeout=timeout, extra=extra)
        cold_runs.append(cold)
        log(f"scale {scale:g}: cold c360 run #{i}: {'ok' if cold['ok'] else 'FAILED'} in {cold['seconds']:.1f} s,"
            f" peak {cold['peak_mib']:.0f} MiB")
        if cold["ok"] and with_delta:
            # on a copy: the cold home stays what the baselines are verified against
            delta_home = scale_dir / "home-delta"
            shutil.rmtree(delta_home, ignore_errors=True)
            shutil.copytree(home, delta_home, symlinks=True)
            delta_folder, delta_mode = delta_landing(landing, scale_dir, scale)
            log(f"scale {scale:g}: delta run #{i} ({delta_mode})")
            delta_run = run_c360(delta_folder, delta_home, logs / f"c360-delta-{i}.log", timeout=timeout, extra=extra)
            log(f"scale {scale:g}: delta run #{i}: {'ok' if delta_run['ok'] else 'FAILED'} in"
                f" {delta_run['seconds']:.1f} s, peak {delta_run['peak_mib']:.0f} MiB")
            if delta_run["ok"] and len(delta_runs) == 0:
                delta_run["floor_check"] = verify_floor(delta_home, scale_dir / "baselines", scale)
            delta_runs.append(delta_run)
            shutil.rmtree(delta_home, ignore_errors=True)
        return cold

    repeated(one_cold_then_delta, repeats, f"scale {scale:g} c360 run")
    return {"home": str(home), "cold": _summarise(cold_runs), "delta": _summarise(delta_runs) | {"mode": delta_mode}}


def verify_floor(home: Path, out_dir: Path, scale: float) -> dict:
    """The floor against the mart a delta run published: re-delivered and corrected records
    (latest batch wins) checked by an independent implementation. Not timed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = out_dir / "floor-after-delta.parquet"
    measured = run_measured([sys.executable, str(BASELINES["floor"]), "--raw", str(home / "raw"),
                             "--out", str(result)], cwd=BASELINES["floor"].parent)
    if measured.returncode != 0:
        return {"equal": False, "problems": [f"floor failed: {measured.output[-500:]}"]}
    comparison = compare(home / "c360.duckdb", result, "floor")
    log(f"scale {scale:g}, after the delta run: " + comparison.describe())
    return comparison.as_dict()


def _summarise(runs: list[dict]) -> dict:
    summary = {"n_runs": len(runs), "ok": bool(runs) and all(r["ok"] for r in runs),
               "floor_check": next((r["floor_check"] for r in runs if "floor_check" in r), None),
               "seconds": median_of(runs, "seconds"), "peak_mib": max((r["peak_mib"] for r in runs), default=None),
               "stages": {}, "runs": runs}
    for stage in STAGES:
        if any(stage in r.get("stages", {}) for r in runs):
            summary["stages"][stage] = {"seconds": median_of(runs, "stages", stage, "seconds"),
                                        "peak_mib": max((r["stages"][stage]["peak_mib"] for r in runs
                                                         if stage in r.get("stages", {})
                                                         and r["stages"][stage].get("peak_mib") is not None),
                                                        default=None)}
    return summary


def bench_baseline(name: str, raw: Path, published: Path, scale_dir: Path, repeats: int, scale: float,
                   rss_limit_mib: float | None, timeout: float | None, spark_memory: str) -> dict:
    out_dir = scale_dir / "baselines"
    out_dir.mkdir(exist_ok=True)
    result_path = out_dir / f"{name}.parquet"
    env = os.environ | {"C360_BENCH_SPARK_MEMORY": spark_memory, "PYTHONUNBUFFERED": "1"}
    runs: list[dict] = []

    def one() -> dict:
        i = len(runs) + 1
        result_path.unlink(missing_ok=True)
        log(f"scale {scale:g}: {name} #{i}")
        measured = run_measured([sys.executable, str(BASELINES[name]), "--raw", str(raw), "--out", str(result_path)],
                                cwd=BASELINES[name].parent, env=env, log=out_dir / f"{name}-{i}.log",
                                rss_limit_mib=rss_limit_mib, timeout=timeout)
        reported = _last_json(measured.output)
        run = {"ok": measured.returncode == 0 and result_path.exists(), "seconds": round(measured.seconds, 3),
               "peak_mib": round(measured.peak_mib, 1), "reported": reported, "exit_code": measured.returncode}
        if measured.over_limit:
            run["failure"] = f"stopped by the harness: its process tree passed {rss_limit_mib:.0f} MiB"
        elif measured.returncode != 0:
            run["failure"] = f"exit code {measured.returncode}: {measured.output[-800:].strip()}"
        if run["ok"] and i == 1:   # verify before any timing counts
            comparison = compare(published, result_path, name)
            run["comparison"] = comparison.as_dict()
            log(comparison.describe())
        runs.append(run)
        log(f"scale {scale:g}: {name} #{i}: {'ok' if run['ok'] else 'FAILED'} in {run['seconds']:.1f} s,"
            f" peak {run['peak_mib']:.0f} MiB")
        return run

    repeated(one, repeats, f"scale {scale:g} {name}")
    first = runs[0]
    verified = bool(first["ok"] and first.get("comparison", {}).get("equal"))
    summary = {"ok": all(r["ok"] for r in runs), "verified": verified,
               "comparison": first.get("comparison"), "failure": first.get("failure"),
               "n_runs": len(runs), "runs": runs}
    if verified:   # timings of an unverified baseline are not reported
        summary |= {"seconds": median_of(runs, "seconds"), "peak_mib": max(r["peak_mib"] for r in runs)}
        if name == "pyspark":
            summary["session_seconds"] = median_of(runs, "reported", "session_seconds")
            summary["job_seconds"] = median_of(runs, "reported", "job_seconds")
    return summary


def _last_json(output: str) -> dict:
    for line in reversed(output.splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return {}


def ratios(entry: dict) -> dict:
    c360 = entry["c360"]["cold"]["seconds"] if entry["c360"]["cold"]["ok"] else None
    base = {name: b.get("seconds") for name, b in entry["baselines"].items()}

    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    return {"c360_over_floor": ratio(c360, base.get("floor")),
            "pandas_over_c360": ratio(base.get("pandas"), c360),
            "pyspark_over_c360": ratio(base.get("pyspark"), c360),
            "dbt_build_over_floor": ratio(dbt_seconds(entry["c360"]["cold"]), base.get("floor"))}


def dbt_seconds(summary: dict) -> float | None:
    """The dbt build alone: the pipeline's two dbt stages (medians)."""
    seconds = [summary["stages"].get(s, {}).get("seconds") for s in DBT_STAGES]
    return round(sum(seconds), 3) if all(s is not None for s in seconds) else None


def bench_scale(args, scale: float, baselines: list[str], skipped: dict) -> dict:
    scale_dir = args.work / f"sf{scale:g}"
    if args.landing:   # your own data instead of a generated bank
        scale_dir.mkdir(parents=True, exist_ok=True)
        landing = args.landing.resolve()
        generated = {"landing": str(landing), "landing_mib": round(_size_mib(landing), 1)}
    else:
        generated = generate(scale_dir, scale, args.seed)
        landing = scale_dir / "landing"
    entry = {"scale": scale, "measured_at": _now(), "machine": machine(), "generated": generated}
    extra = ("--accept-quarantine",) if args.accept_quarantine else ()
    entry["c360"] = bench_c360(scale_dir, landing, args.repeats, scale, args.timeout, extra, not args.no_delta)
    home = Path(entry["c360"]["home"])
    entry["rows"] = raw_rows(home / "raw")
    entry["raw_mib"] = round(_size_mib(home / "raw"), 1) if (home / "raw").exists() else None
    entry["baselines"] = {}
    published = home / "c360.duckdb"
    for name in baselines:
        if name in skipped:
            entry["baselines"][name] = {"ok": False, "verified": False, "skipped": skipped[name]}
        elif not published.exists():
            entry["baselines"][name] = {"ok": False, "verified": False,
                                        "skipped": "no published mart to verify against (c360 run failed)"}
        else:
            entry["baselines"][name] = bench_baseline(name, home / "raw", published, scale_dir, args.repeats,
                                                      scale, args.baseline_memory_mib, args.timeout,
                                                      args.spark_memory)
    entry["ratios"] = ratios(entry)
    entry["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return entry


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def merge(previous: dict | None, fresh: list[dict]) -> list[dict]:
    by_scale = {e["scale"]: e for e in (previous or {}).get("scales", [])}
    by_scale |= {e["scale"]: e for e in fresh}
    return [by_scale[s] for s in sorted(by_scale)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10", help="comma-separated scales (1 = the real bank's size)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement when one takes under a minute")
    parser.add_argument("--baselines", default="floor,pandas,pyspark")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--json", type=Path, default=BENCH / "results.json")
    parser.add_argument("--work", type=Path, default=REPO / "work" / "bench",
                        help="generated data and runs (reused across invocations)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--landing", type=Path, default=None,
                        help="benchmark this landing folder instead of generating one (one scale: its label)")
    parser.add_argument("--fresh", action="store_true", help="do not merge with earlier results in --json")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the data of scales >= 100 (deleted after use by default: disk)")
    parser.add_argument("--report-only", action="store_true",
                        help="only re-render --out from --json (after editing bench/notes.md)")
    parser.add_argument("--no-delta", action="store_true", help="skip the delta run after each cold run")
    parser.add_argument("--accept-quarantine", action="store_true",
                        help="pass --accept-quarantine to c360 run (real data: the CRM sample is malformed)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds before a run is stopped")
    parser.add_argument("--baseline-memory-mib", type=float, default=None,
                        help="stop a baseline whose process tree passes this RSS (default: 80%% of RAM)")
    parser.add_argument("--spark-memory", default="6g", help="spark.driver.memory of the PySpark baseline")
    args = parser.parse_args(argv)

    if args.report_only:
        args.out.write_text(render(json.loads(args.json.read_text())))
        log(f"wrote {args.out} from {args.json}")
        return 0
    scales = [float(s) for s in args.scales.split(",") if s.strip()]
    if args.landing and len(scales) != 1:
        parser.error("--landing takes one --scales value, used as the label of that data")
    baselines = [b.strip() for b in args.baselines.split(",") if b.strip()]
    unknown = set(baselines) - set(BASELINES)
    if unknown:
        parser.error(f"unknown baselines {sorted(unknown)}; choose from {sorted(BASELINES)}")
    if args.baseline_memory_mib is None:
        args.baseline_memory_mib = machine()["memory_gib"] * 1024 * 0.8
    skipped = {}
    if "pyspark" in baselines and (why := pyspark_available()):
        skipped["pyspark"] = why
        log(f"pyspark baseline skipped: {why}")
    args.work = args.work.resolve()

    previous = None
    if args.json.exists() and not args.fresh:
        previous = json.loads(args.json.read_text())
    fresh = []
    for scale in scales:
        started = time.perf_counter()
        entry = bench_scale(args, scale, baselines, skipped)
        entry["bench_seconds"] = round(time.perf_counter() - started, 1)
        fresh.append(entry)
        if scale >= 100 and not args.keep_data:
            shutil.rmtree(args.work / f"sf{scale:g}", ignore_errors=True)
            log(f"scale {scale:g}: data deleted (disk); --keep-data keeps it")
        results = {"generated_at": _now(), "command": " ".join([Path(sys.argv[0]).name] + (argv or sys.argv[1:])),
                   "versions": versions(), "machine": machine(),
                   "settings": {"repeats": args.repeats, "seed": args.seed, "one_minute_rule": ONE_MINUTE,
                                "spark_driver_memory": args.spark_memory},
                   "scales": merge(previous, fresh)}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
        args.out.write_text(render(results))
        log(f"wrote {args.out} and {args.json}")
    failed = [e["scale"] for e in fresh
              if not e["c360"]["cold"]["ok"] or any(b.get("ok") and not b.get("verified")
                                                     for b in e["baselines"].values())]
    if failed:
        log(f"c360 failed or a baseline differs from the mart at scales {failed}: see {args.out}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
