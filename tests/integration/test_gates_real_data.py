"""The real public data through every gate, at several points in time.

The real drop is landed once, without its CRM sample (that file is entirely malformed: Python
dict literals, not JSON; it is quarantined whole and fails the raw gate's quarantine
threshold, which stops the run: last test). The first run lands, gates and publishes it as of
2017-07-31 (the end of the web history); the next ones rebuild the same landed data as of
1994-03-31 (the last day of the real transaction extract, when most clients' accounts are not
open yet), 1995-12-31 and 1998-12-31 (the end of the bank history), one dbt build each. Every
build is correct, so every gate must pass at every as_of_date, distributions included, and
the real issues are reported as warnings: the cut-off last line of trans.asc (quarantined,
0.002% of the file), visitor-map links to clients the bank does not know, and visitors the
identity rule cannot attribute.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from c360.pipeline import run_pipeline
from c360.publish import published_path, read_published
from tests.conftest import link_real_landing

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

AS_OF_DATES = ("2017-07-31", "1994-03-31", "1995-12-31", "1998-12-31")


def run(landing: Path, home: Path, **options) -> tuple[int, str, dict]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = run_pipeline(landing=landing, home=home, **options)
    record = json.loads(sorted((home / "runs").glob("*.json"))[-1].read_text())
    return code, output.getvalue(), record


def warned(record: dict, gate: str) -> dict[str, dict]:
    return {f"{w['suite']} {w['column']}": w for w in record["gates"][gate]["warnings"]}


@pytest.fixture(scope="module")
def runs(shared_data, tmp_path_factory) -> dict[str, tuple[int, str, dict, str | None]]:
    """as_of -> (exit code, output, run record, published as_of_date) of one run each."""
    root = tmp_path_factory.mktemp("real_points_in_time")
    landing = link_real_landing(shared_data, root / "landing", with_crm=False)
    done = {}
    for index, as_of in enumerate(AS_OF_DATES):
        code, output, record = run(landing, root / "home", as_of=as_of, full_refresh=index > 0)
        published = read_published(root / "home")
        done[as_of] = (code, output, record, published.as_of_date if published else None)
    return done


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_the_real_data_passes_every_gate_at_every_point_in_time(runs, as_of):
    code, output, record, published_as_of = runs[as_of]
    assert code == 0, output
    assert published_as_of == as_of, "the run did not publish its as_of_date"
    assert {g: s["passed"] for g, s in record["gates"].items()} == {"raw": True, "staging": True, "marts": True}
    distributions = [w for w in record["gates"]["marts"]["warnings"] if w["suite"] == "marts.distributions"]
    assert distributions == [], "a correct point-in-time build raised distribution warnings"


def test_the_real_issues_are_reported_and_do_not_block(runs):
    code, output, record, _ = runs[AS_OF_DATES[0]]
    assert "raw.batch quarantined_share" in warned(record, "raw")
    assert "mainframe/trans.asc: 1 of 49,103 records quarantined (0.002%)" in output and "line 49104" in output
    links = warned(record, "staging")["staging.relationships orphan_rows"]
    assert links["condition"] == "relationship == 'visitor_links.client_id -> clients'"
    assert links["observed"].startswith("140 ")
    identity = warned(record, "marts")["marts.identity_resolution resolution_status"]
    assert identity["observed"].startswith("58 of 58 rows")
    assert not record["gates"]["raw"]["failed"] and not record["gates"]["staging"]["failed"]


def test_the_entirely_malformed_crm_sample_stops_the_run_at_the_raw_gate(shared_data, tmp_path):
    landing = link_real_landing(shared_data, tmp_path / "landing", with_crm=True)
    code, output, record = run(landing, tmp_path / "home")
    assert (code, record["stopped_at"]) == (1, "raw gate")
    (failure,) = record["gates"]["raw"]["failed"]
    assert (failure["suite"], failure["column"]) == ("raw.batch", "quarantined_share")
    assert "source_file='crm/crm0020240523-064013.json'" in output and "quarantined_share=1.0" in output
    assert not published_path(tmp_path / "home").exists()
    assert list((tmp_path / "home" / "rejected").glob("batch=*/manifest.json"))
