"""A running c360 server follows publishes: while a client requests in a loop, `c360 run`
publishes a new version (and then several more swaps in quick succession); not one request
fails, the version served moves forward only, and the replaced file is let go."""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from c360.publish import PublishedVersion, new_build_path, publish, published_path, read_published
from c360.serve.app import REFRESH_SECONDS, create_app

pytestmark = pytest.mark.slow


class LiveServer:
    """uvicorn in a thread of this process, on a free loopback port."""

    def __init__(self, home: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(home), host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            assert time.time() < deadline and self.thread.is_alive(), "the server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class RequestLoop:
    """A client asking for one customer and the version, over and over, in a thread."""

    def __init__(self, url: str, client_id: int):
        self.answers: list[tuple[str, int, str | None]] = []      # (route, status, build id served)
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, client_id), daemon=True)
        self._thread.start()

    def _run(self, url: str, client_id: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while not self._stop.is_set():
                for route in (f"/customers/{client_id}", "/version"):
                    try:
                        response = http.get(route)
                        body = response.json()
                        build = body["version"]["build_id"] if route != "/version" else body.get("build_id")
                        self.answers.append((route, response.status_code, build))
                    except Exception as error:          # a failed request is what this test counts
                        self.errors.append(f"{route}: {error!r}")

    def builds_seen(self) -> list[str]:
        return [build for _, _, build in self.answers]

    def wait_for(self, build_id: str, seconds: float = 30) -> None:
        deadline = time.time() + seconds
        while build_id not in self.builds_seen()[-10:]:
            assert time.time() < deadline, f"the server never served {build_id}"
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def held_replaced_files(home: Path) -> list[str]:
    """Files of this process that are the published database's path, replaced since opened."""
    target = str(published_path(home))
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith(target) and link.endswith("(deleted)"):
            held.append(link)
    return held


def in_order_without_going_back(builds: list[str], expected: list[str]) -> bool:
    order = [b for i, b in enumerate(builds) if i == 0 or builds[i - 1] != b]   # runs collapsed
    return order == [b for b in expected if b in order]


def test_requests_during_publishes_never_fail_and_the_version_moves_forward(published_tiny_bank, tmp_path):
    from c360.pipeline import run_pipeline

    home, landing = published_tiny_bank(tmp_path)
    first = read_published(home).build_id
    server = LiveServer(home)
    loop = RequestLoop(server.url, client_id=1)
    try:
        loop.wait_for(first)
        # a new batch (a new client and its disposition), through the whole c360 run
        (landing / "mainframe" / "client_1999.asc").write_bytes(
            b'"client_id";"birth_number";"district_id"\r\n13;"655612";2\r\n')
        (landing / "mainframe" / "disp_1999.asc").write_bytes(
            b'"disp_id";"client_id";"account_id";"type"\r\n13;13;3;"DISPONENT"\r\n')
        assert run_pipeline(landing=landing, home=home) == 0
        second = read_published(home).build_id
        assert second != first
        loop.wait_for(second)
        # then swaps in quick succession: the published file re-published under new build ids
        swaps = []
        for i in range(5):
            build_id = f"swap-{i}"
            build = new_build_path(home, build_id)
            shutil.copyfile(published_path(home), build)
            publish(build, home, PublishedVersion(build_id=build_id, as_of_date=read_published(home).as_of_date,
                                                  batches=read_published(home).batches,
                                                  built_at="2026-01-01T00:00:00Z", build_seconds=0.0))
            swaps.append(build_id)
            loop.wait_for(build_id)
        with httpx.Client(base_url=server.url) as http:
            assert http.get("/customers/13").json()["version"]["build_id"] == swaps[-1]   # the new client is served
        time.sleep(2 * REFRESH_SECONDS + 0.5)
        assert held_replaced_files(home) == [], "the server still holds a replaced version"
    finally:
        loop.stop()
        server.stop()
    assert loop.errors == []
    assert len(loop.answers) > 100, "the loop should have run throughout"
    assert {status for _, status, _ in loop.answers} == {200}
    builds = loop.builds_seen()
    assert in_order_without_going_back(builds, [first, second, *swaps]), "a version was served after a newer one"
    assert builds[0] == first and builds[-1] == swaps[-1]
