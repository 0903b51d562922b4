"""The dashboard in a real browser: `c360 serve` on 127.0.0.1 and Debian's headless Chromium
(`chromium --headless --dump-dom`, nothing downloaded). The DOM after the page's scripts ran
holds the client's figures and the charts plotly.js drew, from the server's own copy of it."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def live_server(published_real_home: Path, tmp_path_factory):
    """`c360 serve` as a user starts it, in its own process."""
    if CHROMIUM is None:
        pytest.skip("Chromium not found (Debian package `chromium`; .ci/run installs it): no browser test")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "python"), os.environ.get("PYTHONPATH")]))}
    env.pop("C360_API_TOKEN", None)
    server = subprocess.Popen([sys.executable, "-m", "c360.cli", "serve", "--home", str(published_real_home),
                               "--port", str(port)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        assert server.poll() is None and time.time() < deadline, log.read_text()
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=30)


def rendered(url: str, tmp_path: Path) -> str:
    """The DOM after load, with time for plotly to draw."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "<html" in result.stdout, result.stderr[-2000:]
    return result.stdout


def section(dom: str, element_id: str) -> str:
    """The markup from the element with this id to the next chart or table."""
    start = dom.index(f'id="{element_id}"')
    following = [dom.find(marker, start + 1) for marker in ('class="chart"', "<table", "<h2")]
    following = [f for f in following if f > 0]
    return dom[start:min(following) if following else len(dom)]


def test_the_customer_page_shows_the_clients_figures_and_draws_its_charts(live_server, published_real_home, tmp_path):
    with duckdb.connect(str(published_real_home / "c360.duckdb"), read_only=True) as con:
        client_id, n_transactions, tier, score, months, n_products = con.execute("""
            select c.client_id, c.n_transactions, l.loyalty_tier, e.engagement_score,
                   count(distinct date_trunc('month', t.transaction_date)), l.n_products_held
            from marts.customer_360 c join marts.customer_loyalty l using (client_id)
            join marts.customer_engagement e using (client_id)
            join intermediate.int_transactions_joined_to_owners t using (client_id)
            where c.web_sessions > 0 and c.n_cards > 0
            group by all order by c.n_transactions desc, c.client_id limit 1""").fetchone()
    dom = rendered(f"{live_server}/customer/{client_id}", tmp_path)
    assert re.search(rf'id="client-id">{client_id}<', dom)
    assert re.search(rf'id="n-transactions">{n_transactions:,}<', dom)
    assert re.search(rf'id="loyalty-tier">{tier}<', dom)
    assert re.search(rf'id="engagement-score">{score}<', dom)
    assert re.search(rf'id="n-products">{n_products}<', dom)
    assert dom.count('<tr class="account">') >= 1 and dom.count('<tr class="card-row">') >= 1
    monthly, sessions = section(dom, "chart-monthly"), section(dom, "chart-sessions")
    for chart in (monthly, sessions):
        assert 'class="main-svg"' in chart, "plotly did not draw the chart"
    bars = re.search(r'<g class="trace bars".*?</g></g>', monthly, re.S)
    assert bars and bars.group(0).count('class="point"') == months, "one bar per month with a transaction"
    assert sessions.count('class="point"') >= 1, "one marker per web session"


def test_the_overview_draws_its_charts_and_lists_the_gates(live_server, published_real_home, tmp_path):
    dom = rendered(f"{live_server}/", tmp_path)
    version = json.loads((published_real_home / "c360.json").read_text())
    assert version["build_id"] in dom
    assert re.search(r'id="kpi-clients">5,369<', dom)
    for chart in ("chart-segments", "chart-engagement", "chart-attribution"):
        assert 'class="main-svg"' in section(dom, chart), chart
    gates = section(dom, "gates")
    assert all(gate in gates for gate in ("raw", "staging", "marts")) and "passed" in gates
    assert "ambiguous" in section(dom, "identity-losses")
