"""`c360 run` end to end on the tiny bank: a clean drop publishes; each corrupted batch is
stopped at its layer's gate, with the published database byte-for-byte unchanged."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path

import pytest

from c360.pipeline import run_pipeline
from c360.publish import published_path, read_published
from c360.publish.status import describe_status

pytestmark = pytest.mark.slow


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(home: Path, landing: Path) -> tuple[int, str, dict]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = run_pipeline(landing=landing, home=home)
    record = json.loads(sorted((home / "runs").glob("*.json"))[-1].read_text())
    return code, output.getvalue(), record


def deliver(landing: Path, relative: str, *lines: str) -> None:
    (landing / relative).write_bytes(("\r\n".join(lines) + "\r\n").encode())


def run_corrupted(published_tiny_bank, tmp_path, relative: str, *lines: str):
    home, landing = published_tiny_bank(tmp_path)
    before = sha256(published_path(home))
    deliver(landing, relative, *lines)
    code, output, record = run(home, landing)
    assert sha256(published_path(home)) == before, "the published database changed"
    assert read_published(home).build_id == json.loads((published_tiny_bank.home / "c360.json").read_text())["build_id"]
    assert "nothing was published" in output
    assert Path(record["docs"]).is_file(), "a failed gate writes Data Docs"
    text, _ = describe_status(home)
    assert f"last run        {record['run_id']}: failed at {record['stopped_at']}" in text
    return code, output, record


def failed(record: dict, gate: str) -> list[dict]:
    return record["gates"][gate]["failed"]


def test_a_clean_drop_passes_every_gate_and_publishes(published_tiny_bank):
    home = published_tiny_bank.home
    record = json.loads(sorted((home / "runs").glob("*.json"))[-1].read_text())
    assert record["outcome"] == "published" and all(s["ok"] for s in record["stages"])
    assert [s["name"] for s in record["stages"]] == [
        "land", "raw gate", "build staging", "staging gate", "build marts", "marts gate", "data docs", "publish"]
    assert {g: s["passed"] for g, s in record["gates"].items()} == {"raw": True, "staging": True, "marts": True}
    version = read_published(home)
    assert version.as_of_date == "1998-12-28" and len(version.batches) == 1
    assert Path(version.docs).is_file() and (home / "docs" / "index.html").is_file()
    assert not list((home / "builds").glob("*.duckdb")), "a published build leaves no build file"
    output = published_tiny_bank.output
    assert "gates (incl. GX start-up and Data Docs)" in output and "select * from marts.customer_360" in output
    # the tiny bank's visitor map holds an ambiguous visitor and a link to an unknown client:
    # reported as warnings, never blocking
    warned = {w["suite"] for s in record["gates"].values() for w in s["warnings"]}
    assert {"staging.relationships", "marts.identity_resolution"} <= warned


def test_an_unknown_code_value_is_stopped_at_the_raw_gate(published_tiny_bank, tmp_path):
    code, output, record = run_corrupted(
        published_tiny_bank, tmp_path, "mainframe/account_1999.asc",
        '"account_id";"district_id";"frequency";"date"', '11;2;"POPLATEK ROCNE";990104')
    assert (code, record["stopped_at"]) == (1, "raw gate")
    (failure,) = failed(record, "raw")
    assert (failure["suite"], failure["column"]) == ("raw.mainframe.account", "frequency")
    for part in ("FAIL [critical] suite raw.mainframe.account", "expect_column_values_to_be_in_set",
                 "column       frequency", "'POPLATEK ROCNE'", "_source_file='mainframe/account_1999.asc'",
                 "_source_line=2"):
        assert part in output, part
    assert "build staging" not in [s["name"] for s in record["stages"]]
    assert list((tmp_path / "home" / "rejected").glob("batch=*/raw/mainframe/account"))


def test_conflicting_duplicates_in_one_delivered_file_are_stopped_at_the_raw_gate(published_tiny_bank, tmp_path):
    header = '"trans_id";"account_id";"date";"type";"operation";"amount";"balance";"k_symbol";"bank";"account"'
    code, output, record = run_corrupted(
        published_tiny_bank, tmp_path, "mainframe/trans_199901.asc", header,
        '9001;1;990105;"PRIJEM";"VKLAD";100.00;5000.00;"";;', '9001;1;990105;"PRIJEM";"VKLAD";999.00;5000.00;"";;')
    assert (code, record["stopped_at"]) == (1, "raw gate")
    (failure,) = failed(record, "raw")
    assert (failure["suite"], failure["column"]) == ("raw.mainframe.trans", "trans_id")
    for part in ("conflicting duplicates in one file", "_source_file='mainframe/trans_199901.asc', lines=[2, 3]",
                 "trans_id='9001'", "amount: '100.00' (line 2) | '999.00' (line 3)"):
        assert part in output, part


def test_duplicate_keys_reaching_staging_are_stopped_at_the_staging_gate(published_tiny_bank, tmp_path):
    # "0007" passes the raw gate (digits) and is a different delivered key from "7", but both
    # become disposition 7 in staging
    code, output, record = run_corrupted(
        published_tiny_bank, tmp_path, "mainframe/disp_1999.asc",
        '"disp_id";"client_id";"account_id";"type"', '0007;7;7;"OWNER"')
    assert (code, record["stopped_at"]) == (1, "staging gate")
    keys = [f for f in failed(record, "staging") if f.get("suite") == "staging.keys"]
    assert [k["column"] for k in keys] == ["duplicated_keys"]
    assert "model='staging.stg_mainframe__dispositions'" in output and "disp_id=7, rows=2" in output


def test_a_disposition_pointing_to_a_missing_account_is_stopped_at_the_staging_gate(published_tiny_bank, tmp_path):
    code, output, record = run_corrupted(
        published_tiny_bank, tmp_path, "mainframe/disp_1999.asc",
        '"disp_id";"client_id";"account_id";"type"', '99;1;424242;"DISPONENT"')
    assert (code, record["stopped_at"]) == (1, "staging gate")
    links = [f for f in failed(record, "staging") if f.get("suite") == "staging.relationships"]
    assert [link["condition"] for link in links] == ["relationship == 'dispositions.account_id -> accounts'"]
    assert "disp_id=99, account_id=424242" in output
    # the run record (and `c360 status`) names the offending keys too, not only their count
    assert "e.g. disp_id=99, account_id=424242" in links[0]["observed"]


def test_an_engineered_mart_anomaly_is_stopped_at_the_marts_gate(published_tiny_bank, tmp_path):
    # 300 valid new clients that hold no account: every row is fine, the marts are not
    clients = [f'{i};"{30 + i % 50:02d}{1 + i % 12 + 50 * (i % 2):02d}15";{1 + i % 3}' for i in range(1001, 1301)]
    code, output, record = run_corrupted(published_tiny_bank, tmp_path, "mainframe/client_1999.asc",
                                         '"client_id";"birth_number";"district_id"', *clients)
    assert (code, record["stopped_at"]) == (1, "marts gate")
    assert record["gates"]["raw"]["passed"] and record["gates"]["staging"]["passed"]
    assert [(f["suite"], f["column"]) for f in failed(record, "marts")] == [("marts.distributions", "share_with_account")]
    assert "observed     0.0384615 (the one row checked)" in output
