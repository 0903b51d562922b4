"""`GET /customers/{id}` under load, beside the same lookup as a direct DuckDB query.

Starts `c360 serve` on the published home given (loopback, a free port, no access log), then
runs --concurrency clients, each on one keep-alive HTTP/1.1 connection, for --seconds, each
asking for random client ids of that version. The load generator is a bare asyncio client
(no HTTP library), so that on a small machine it takes as little CPU from the server as it
can. Every response is checked (status 200, a body with the id asked for); any other answer
counts as a failure. Then the direct cost on one read-only DuckDB connection, for the same
document (`serving.customer_documents`) and for the four marts joined (what a request would
cost without the serving layout).

    python bench/serve_bench.py --home work/home/sf1            # prints a table
    python bench/serve_bench.py --home DIR --json out.json      # and writes the figures

Goal (issue 14): p99 under 20 ms and at least 1,000 requests/s on 2 cores, at scale 10.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
GOAL_P99_MS, GOAL_RPS = 20.0, 1000.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "python"), os.environ.get("PYTHONPATH")]))}
    env.pop("C360_API_TOKEN", None)
    process = subprocess.Popen([sys.executable, "-m", "c360.cli", "serve", "--home", str(home), "--port", str(port),
                                "--no-access-log"], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"c360 serve exited with {process.returncode}: see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"c360 serve did not answer /health within 60 s: see {log}")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc): the server's cost per request,
    which a busy shared machine disturbs far less than latency."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_ids(home: Path) -> list[int]:
    with duckdb.connect(str(home / "c360.duckdb"), read_only=True) as con:
        return [i for (i,) in con.execute("select client_id from serving.customer_index").fetchall()]


async def one_client(port: int, ids: list[int], stop_at: float, latencies: list[float], failures: list[str],
                     seed: int) -> None:
    pick = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            client_id = pick.choice(ids)
            started = time.perf_counter()
            writer.write(f"GET /customers/{client_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12]
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != b"200" or not body.startswith(b'{"client_id":%d,' % client_id):
                failures.append(f"{client_id}: {status.decode()} {body[:80]!r}")
    finally:
        writer.close()


async def load(port: int, ids: list[int], seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(one_client(port, ids, stop_at, latencies, failures, seed)
                           for seed in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "failures": len(failures), "failure_examples": failures[:5],
            "seconds": round(elapsed, 2), "rps": round(len(latencies) / elapsed, 1), **percentiles(latencies)}


def percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"p50_ms": None, "p99_ms": None}
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"p50_ms": round(statistics.median(seconds) * 1000, 3), "p99_ms": round(cuts[98] * 1000, 3)}


MARTS_JOINED = """
    select * from marts.customer_360 c
    join marts.customer_loyalty l using (client_id)
    join marts.customer_demographic d using (client_id)
    join marts.customer_engagement e using (client_id)
    where c.client_id = $1"""


def direct(home: Path, ids: list[int], n: int = 2000) -> dict:
    """One read-only connection, n random ids: the serving document, and the marts joined."""
    pick = random.Random(7)
    sample = [pick.choice(ids) for _ in range(n)]
    results = {}
    with duckdb.connect(str(home / "c360.duckdb"), read_only=True) as con:
        for name, query in (("document", "select document from serving.customer_documents where client_id = $1"),
                            ("marts_joined", MARTS_JOINED)):
            con.execute(query, [sample[0]]).fetchall()      # warm
            timings = []
            for client_id in sample:
                started = time.perf_counter()
                con.execute(query, [client_id]).fetchall()
                timings.append(time.perf_counter() - started)
            results[name] = percentiles(timings)
    return results


def _run(coroutine):
    """uvloop where installed (c360 serve's uvicorn uses it too): a cheaper load generator."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def describe(result: dict) -> str:
    h, d = result["http"], result["direct"]
    met = h["p99_ms"] is not None and h["p99_ms"] < GOAL_P99_MS and h["rps"] >= GOAL_RPS and h["failures"] == 0
    return "\n".join([
        f"GET /customers/{{id}} on {result['home']} ({result['clients']:,} clients), {result['concurrency']} concurrent"
        f" clients for {h['seconds']} s, {result['cpus']} CPUs:",
        f"  http      {h['requests']:,} requests, {h['failures']} failed, {h['rps']:,.0f} req/s,"
        f" p50 {h['p50_ms']:.2f} ms, p99 {h['p99_ms']:.2f} ms; server CPU {h['server_cpu_ms_per_request']:.2f} ms"
        " per request",
        f"  direct    serving document p50 {d['document']['p50_ms']:.3f} ms, p99 {d['document']['p99_ms']:.3f} ms;"
        f" four marts joined p50 {d['marts_joined']['p50_ms']:.3f} ms, p99 {d['marts_joined']['p99_ms']:.3f} ms",
        f"  goal      p99 < {GOAL_P99_MS:g} ms and >= {GOAL_RPS:,.0f} req/s: {'met' if met else 'NOT met'}",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True, help="a home with a published c360.duckdb")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = parser.parse_args(argv)
    home = args.home.resolve()
    ids = client_ids(home)
    load_before = os.getloadavg()[0]
    port = args.port or free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"c360-serve-bench-{port}.log"
    server = start_server(home, port, log)
    try:
        cpu_before = process_cpu_seconds(server.pid)
        http = _run(load(port, ids, args.seconds, args.concurrency))
        http["server_cpu_ms_per_request"] = round(
            (process_cpu_seconds(server.pid) - cpu_before) * 1000 / max(http["requests"], 1), 3)
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {"home": str(home), "clients": len(ids), "concurrency": args.concurrency, "cpus": os.cpu_count(),
              "load_average_before": load_before, "http": http, "direct": direct(home, ids)}
    result["goal_met"] = (http["p99_ms"] is not None and http["p99_ms"] < GOAL_P99_MS
                          and http["rps"] >= GOAL_RPS and http["failures"] == 0)
    print(describe(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if http["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
