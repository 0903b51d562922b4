"""`c360 quarantine list | show | release`: the quarantine is not a dead end.

Every test lands a tiny drop with bad records (`c360 land`, no build), works with its
quarantine through the CLI, and checks the raw zone, the manifests and the release records;
the last one takes a released record through `c360 run`'s gates into the published marts.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import duckdb
import pytest

from c360.cli import main
from c360.land.manifest import committed_batches, read_manifest

CLIENTS_HEADER = '"client_id";"birth_number";"district_id"'


def cli(*args: str) -> tuple[int, str]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(list(args))
    return code, output.getvalue()


def deliver(landing: Path, relative: str, text: str) -> None:
    (landing / relative).parent.mkdir(parents=True, exist_ok=True)
    (landing / relative).write_bytes(text.encode())


@pytest.fixture
def landed(tmp_path: Path) -> Path:
    """A tiny drop with three kinds of bad input, landed: two bad client lines, a CRM line
    written as a Python dict literal, and a file whose name is not recognised."""
    landing = tmp_path / "landing"
    deliver(landing, "mainframe/client_2.asc", "\r\n".join([
        CLIENTS_HEADER, '13;"451212";1', '14;"451213"', '15;"451214";2;9']) + "\r\n")
    deliver(landing, "crm/crm_19981221.json",
            "{'client_id': 4, 'occupation': 'baker', 'updated_at': '1998-04-01T00:00:00'}\n"
            '{"client_id": 5, "occupation": "smith", "updated_at": "1998-04-01T00:00:00"}\n')
    deliver(landing, "mainframe/klient.asc", CLIENTS_HEADER + "\r\n" + '16;"451216";1' + "\r\n")
    home = tmp_path / "home"
    code, output = cli("land", "--landing", str(landing), "--home", str(home))
    assert code == 1, output  # something was quarantined
    return home


def parquet_rows(home: Path, batch_id: str, table: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(
            f"select * exclude (_ingested_at) from read_parquet('{home}/raw/{table}/batch={batch_id}/*.parquet', hive_partitioning=false)"
            " order by _source_line").fetchall()


def item_id(home: Path, source_file: str) -> str:
    (batch_id,) = committed_batches(home / "raw")
    return f"{batch_id}/{source_file}"


def test_list_shows_every_quarantined_file_with_its_counts_and_reasons(landed):
    code, output = cli("quarantine", "list", "--home", str(landed))
    assert code == 0, output
    assert "3 delivered file(s), 5 record(s) quarantined, 0 released" in output
    rows = {line.split()[-1]: line.split()[:4] for line in output.splitlines() if "/" in line.split()[-1]}
    assert rows[item_id(landed, "mainframe/client_2.asc")] == ["3", "1", "2", "0"]
    assert rows[item_id(landed, "crm/crm_19981221.json")] == ["2", "1", "1", "0"]
    assert rows[item_id(landed, "mainframe/klient.asc")] == ["2", "0", "2", "0"]
    assert "1 x too few columns" in output and "1 x too many columns" in output
    assert "1 x not valid JSON: single-quoted keys, like a Python dict literal" in output
    assert "kept aside whole: file name not recognised" in output
    assert "every file: read = landed + quarantined + released" in output and "NOT" not in output


def test_show_names_each_record_with_its_line_reason_and_text(landed):
    code, output = cli("quarantine", "show", "mainframe/client_2.asc", "--home", str(landed))
    assert code == 0, output
    assert "read 3 = landed 1 + quarantined 2 + released 0" in output
    assert "line 3      quarantined: too few columns" in output and '| 14;"451213"' in output
    assert "line 4      quarantined: too many columns" in output
    code, output = cli("quarantine", "show", "mainframe/client_2.asc", "--home", str(landed), "--records")
    assert output.splitlines() == ['14;"451213"', '15;"451214";2;9']


def test_an_unknown_file_is_refused_naming_the_files_there_are(landed):
    code, output = cli("quarantine", "show", "mainframe/nothing.asc", "--home", str(landed))
    assert code == 2
    assert "no quarantined file 'mainframe/nothing.asc'" in output and "mainframe/client_2.asc" in output


def test_corrected_records_land_in_a_new_batch_with_lineage_and_stay_in_the_quarantine_released(landed, tmp_path):
    (entry,) = [f for f in read_manifest(landed / "raw", committed_batches(landed / "raw")[0])["files"]
                if f["source_file"] == "mainframe/client_2.asc"]
    quarantine_file = landed / entry["quarantine_file"]
    kept_before = quarantine_file.read_bytes()
    fixed = tmp_path / "fixed.txt"
    fixed.write_text('14;"451213";3\n15;"451214";2\n')
    code, output = cli("quarantine", "release", "mainframe/client_2.asc", "--home", str(landed),
                       "--corrected", str(fixed))
    assert code == 0, output
    assert "2 records landed in batch" in output and "next `c360 run`" in output

    original, release_batch = committed_batches(landed / "raw")
    (entry,) = read_manifest(landed / "raw", release_batch)["files"]
    release_file = entry["source_file"]
    assert release_file.startswith("mainframe/client_2.release-") and release_file.endswith(".asc")
    assert (entry["rows_read"], entry["rows_landed"], entry["rows_quarantined"]) == (2, 2, 0)
    assert parquet_rows(landed, release_batch, "mainframe/client") == [
        ("14", "451213", "3", release_batch, release_file, 2),
        ("15", "451214", "2", release_batch, release_file, 3)]
    (release,) = [json.loads(p.read_text()) for p in (landed / "quarantine" / "releases").glob("*/release.json")]
    assert release["state"] == "landed" and release["batch_id"] == release_batch
    assert release["origin"] == {"batch_id": original, "source_file": "mainframe/client_2.asc",
                                 "quarantine_file": str(quarantine_file.relative_to(landed))}
    assert [(r["line"], r["release_line"]) for r in release["records"]] == [(3, 2), (4, 3)]
    assert release["repair"]["kind"] == "corrected"
    assert quarantine_file.read_bytes() == kept_before, "the quarantine itself is never rewritten"

    _, shown = cli("quarantine", "show", "mainframe/client_2.asc", "--home", str(landed))
    assert "read 3 = landed 1 + quarantined 0 + released 2" in shown
    assert f"line 3      released by {release['release_id']} into batch {release_batch} as {release_file} line 2" in shown
    _, listed = cli("quarantine", "list", "--home", str(landed))
    assert "2 released" in listed and "every file: read = landed + quarantined + released" in listed
    code, again = cli("quarantine", "release", "mainframe/client_2.asc", "--home", str(landed), "--as-is")
    assert code == 2 and "released already" in again


def test_a_declared_repair_turns_a_python_dict_literal_into_json(landed):
    code, output = cli("quarantine", "release", "crm/crm_19981221.json", "--home", str(landed),
                       "--replace", "'", '"')
    assert code == 0, output
    release_batch = committed_batches(landed / "raw")[-1]
    (row,) = parquet_rows(landed, release_batch, "crm/client")
    assert (row[0], row[4], row[8]) == ("4", "baker", "1998-04-01T00:00:00")
    (release,) = [json.loads(p.read_text()) for p in (landed / "quarantine" / "releases").glob("*/release.json")]
    assert release["repair"] == {"kind": "replace", "replace": [["'", '"']]}
    assert [(r["line"], r["release_line"]) for r in release["records"]] == [(1, 1)]


def test_records_landing_still_refuses_stay_quarantined_and_nothing_lands(landed):
    before = committed_batches(landed / "raw")
    code, output = cli("quarantine", "release", "mainframe/client_2.asc", "--home", str(landed), "--as-is")
    assert code == 1, output
    assert "still refused, line 3 stays quarantined: too few columns" in output
    assert "still refused, line 4 stays quarantined: too many columns" in output
    assert "nothing was released" in output
    assert committed_batches(landed / "raw") == before


def test_only_the_records_that_now_pass_are_released(landed, tmp_path):
    fixed = tmp_path / "fixed.txt"
    fixed.write_text('14;"451213";3\n15;"451214";2;9\n')   # the second one is still wrong
    code, output = cli("quarantine", "release", "mainframe/client_2.asc", "--home", str(landed),
                       "--corrected", str(fixed))
    assert code == 0, output
    assert "1 record landed" in output and "still refused, line 4 stays quarantined: too many columns" in output
    _, shown = cli("quarantine", "show", "mainframe/client_2.asc", "--home", str(landed))
    assert "read 3 = landed 1 + quarantined 1 + released 1" in shown
    fixed.write_text('15;"451214";2\n16;"451215";2\n')
    code, output = cli("quarantine", "release", "mainframe/client_2.asc", "--home", str(landed),
                       "--line", "4", "--corrected", str(fixed))
    assert code == 2 and "2 line(s), but 1 record(s) are selected" in output, "one record cannot become two"
    code, output = cli("quarantine", "release", "mainframe/client_2.asc", "--home", str(landed),
                       "--line", "4", "--replace", ";9", "")
    assert code == 0, output
    _, shown = cli("quarantine", "show", "mainframe/client_2.asc", "--home", str(landed))
    assert "read 3 = landed 1 + quarantined 0 + released 2" in shown


def test_a_file_kept_aside_whole_is_released_under_the_name_it_should_have_had(landed):
    code, output = cli("quarantine", "release", "mainframe/klient.asc", "--home", str(landed), "--as-is")
    assert code == 2 and "give the name it should have been delivered under with --as" in output
    code, output = cli("quarantine", "release", "mainframe/klient.asc", "--home", str(landed), "--as-is",
                       "--as", "mainframe/client_3.asc")
    assert code == 0, output
    release_batch = committed_batches(landed / "raw")[-1]
    (row,) = parquet_rows(landed, release_batch, "mainframe/client")
    assert row[:3] == ("16", "451216", "1") and row[4].startswith("mainframe/client_3.release-")
    _, shown = cli("quarantine", "show", "mainframe/klient.asc", "--home", str(landed))
    assert "read 2 = landed 0 + quarantined 0 + released 2" in shown


def test_a_release_the_raw_gate_rejects_puts_its_records_back_in_quarantine(landed):
    from c360.gates import reject_batch
    from c360.gates.report import GateResult

    assert cli("quarantine", "release", "crm/crm_19981221.json", "--home", str(landed),
               "--replace", "'", '"')[0] == 0
    reject_batch(landed, committed_batches(landed / "raw")[-1], GateResult(gate="raw"))
    _, shown = cli("quarantine", "show", "crm/crm_19981221.json", "--home", str(landed))
    assert "read 2 = landed 1 + quarantined 1 + released 0" in shown
    assert "which the raw gate rejected" in shown
    _, listed = cli("quarantine", "list", "--home", str(landed))
    assert "which the raw gate rejected" in listed and "rejected" in listed


def test_a_release_interrupted_after_its_landing_committed_counts_as_released(landed, monkeypatch):
    import importlib

    from c360.quarantine import settle_pending

    release_module = importlib.import_module("c360.quarantine.release")

    writes = []
    real_write = release_module.write_release

    def crash_on_second_write(home, body):
        writes.append(body["state"])
        if len(writes) == 2:
            raise KeyboardInterrupt("killed after the landing committed")
        return real_write(home, body)

    monkeypatch.setattr(release_module, "write_release", crash_on_second_write)
    code, _ = cli("quarantine", "release", "crm/crm_19981221.json", "--home", str(landed), "--replace", "'", '"')
    assert code == 130
    monkeypatch.undo()
    (release,) = [json.loads(p.read_text()) for p in (landed / "quarantine" / "releases").glob("*/release.json")]
    assert release["state"] == "pending"
    _, shown = cli("quarantine", "show", "crm/crm_19981221.json", "--home", str(landed))
    assert "released 1" in shown, "readers derive the state from the committed batch"
    settle_pending(landed)
    (release,) = [json.loads(p.read_text()) for p in (landed / "quarantine" / "releases").glob("*/release.json")]
    assert release["state"] == "landed" and release["batch_id"] == committed_batches(landed / "raw")[-1]


def test_release_refuses_while_another_command_writes_the_home(landed):
    from c360.home_lock import hold_home

    before = committed_batches(landed / "raw")
    with hold_home(landed, "c360 run"):
        code, output = cli("quarantine", "release", "crm/crm_19981221.json", "--home", str(landed),
                           "--replace", "'", '"')
    assert code == 3 and "is being written by c360 run (pid" in output
    assert committed_batches(landed / "raw") == before


@pytest.mark.slow
def test_a_released_record_goes_through_the_gates_into_the_published_marts(published_tiny_bank, tmp_path):
    from c360.pipeline import run_pipeline

    home, landing = published_tiny_bank(tmp_path)
    deliver(landing, "crm/crm_19981221.json",
            "{'client_id': 4, 'occupation': 'baker', 'updated_at': '1998-04-01T00:00:00'}\n"
            '{"client_id": 5, "occupation": "smith", "updated_at": "1998-04-01T00:00:00"}\n')
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert run_pipeline(landing=landing, home=home, accept_quarantine=True) == 0, output.getvalue()
    code, released = cli("quarantine", "release", "crm/crm_19981221.json", "--home", str(home),
                         "--replace", "'", '"')
    assert code == 0, released
    release_batch = committed_batches(home / "raw")[-1]
    with contextlib.redirect_stdout(output):
        assert run_pipeline(landing=landing, home=home) == 0, output.getvalue()
    with duckdb.connect(str(home / "c360.duckdb"), read_only=True) as con:
        assert con.execute("select client_id, batch_id from staging.stg_crm__clients where client_id in (4, 5)"
                           " order by all").fetchall() == [(4, release_batch), (5, committed_batches(home / "raw")[-2])]
        assert con.execute("select occupation from marts.customer_demographic where client_id = 4").fetchone() == (
            "baker",)
        batches = con.execute("select batches from c360_meta.version").fetchone()[0]
    assert release_batch in batches
