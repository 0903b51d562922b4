"""The real public data through every gate.

The real drop is landed without its CRM sample: that file is entirely malformed (Python dict
literals, not JSON), so it is quarantined whole and fails the raw gate's quarantine threshold,
which stops the run (second test). Everything else publishes, with the real issues reported as
warnings: the cut-off last line of trans.asc (quarantined, 0.002% of the file), visitor-map
links to clients the bank does not know, and visitors the identity rule cannot attribute.
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


def run(landing: Path, home: Path) -> tuple[int, str, dict]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = run_pipeline(landing=landing, home=home)
    record = json.loads(sorted((home / "runs").glob("*.json"))[-1].read_text())
    return code, output.getvalue(), record


def warned(record: dict, gate: str) -> dict[str, dict]:
    return {f"{w['suite']} {w['column']}": w for w in record["gates"][gate]["warnings"]}


def test_the_real_data_without_its_crm_sample_passes_every_gate_and_publishes(shared_data, tmp_path):
    landing = link_real_landing(shared_data, tmp_path / "landing", with_crm=False)
    code, output, record = run(landing, tmp_path / "home")
    assert code == 0, output
    assert read_published(tmp_path / "home").as_of_date == "2017-07-30"
    assert published_path(tmp_path / "home").is_file()
    # the real issues, reported and not blocking
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
