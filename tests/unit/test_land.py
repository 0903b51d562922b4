"""Landing: every reader on tiny readable fixtures, and every kind of bad input."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from c360.land import land_directory
from c360.land.manifest import committed_batches, read_manifest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "landing"
CLIENT_HEADER = b'"client_id";"birth_number";"district_id"\r\n'


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES, tmp_path / "landing"))


def raw_rows(home: Path, source: str, table: str) -> list[dict]:
    relation = duckdb.sql(
        f"select * from read_parquet('{home}/raw/{source}/{table}/batch=*/*.parquet')"
        " order by _source_file, _source_line"
    )
    return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


def report_for(report, source_file: str):
    return next(f for f in report.files if f.source_file == source_file)


def quarantined(home: Path, report, source_file: str) -> list[dict]:
    path = home / report_for(report, source_file).quarantine_file
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(landing: Path, relative: str, content: bytes) -> None:
    (landing / relative).parent.mkdir(parents=True, exist_ok=True)
    (landing / relative).write_bytes(content)


def test_clean_fixtures_land_with_lineage_and_nothing_quarantined(landing, tmp_path):
    report = land_directory(landing, tmp_path / "home")
    assert not report.has_quarantine and report.exit_code(accept_quarantine=False) == 0
    clients = raw_rows(tmp_path / "home", "mainframe", "client")
    assert [(c["client_id"], c["birth_number"], c["_source_line"]) for c in clients] == [
        ("1", "706213", 2), ("2", "450204", 3), ("3", " ", 4)]
    assert {c["_batch_id"] for c in clients} == {report.batch_id}
    assert clients[0]["_source_file"] == "mainframe/client.asc"
    district = raw_rows(tmp_path / "home", "reference", "district")[0]
    assert (district["A1"], district["A12"], district["A15"]) == ("69", "?", "?")


def test_visitor_map_without_header_starts_at_line_one(landing, tmp_path):
    land_directory(landing, tmp_path / "home")
    links = raw_rows(tmp_path / "home", "web", "visitor_map")
    assert [(r["fullVisitorId"], r["client_id"], r["_source_line"]) for r in links][0] == (
        "0235442792380726554", "1", 1)
    assert len(links) == 3


def test_visitor_map_with_header_skips_it(landing, tmp_path):
    write(landing, "web/visitor_map.csv", b"fullVisitorId,client_id\n42,7\n")
    land_directory(landing, tmp_path / "home")
    assert [(r["fullVisitorId"], r["_source_line"]) for r in raw_rows(tmp_path / "home", "web", "visitor_map")] == [("42", 2)]


def test_crm_json_array_lands_by_record_position_as_text(landing, tmp_path):
    land_directory(landing, tmp_path / "home")
    crm = raw_rows(tmp_path / "home", "crm", "client")
    assert [(r["client_id"], r["occupation"], r["_source_line"]) for r in crm] == [
        ("1", "editor", 1), ("2", "butcher", 2)]
    assert crm[1]["updated_at"] is None


def test_ga_sessions_keep_their_nested_structure_typed(landing, tmp_path):
    land_directory(landing, tmp_path / "home")
    sessions = raw_rows(tmp_path / "home", "ga", "session")
    first = sessions[0]
    assert first["totals"]["hits"] == 2 and len(first["hits"]) == 2
    assert first["hits"][1]["product"][0]["productPrice"] == 16990000
    assert first["hits"][1]["page"]["pagePath"] == "/loans"
    assert first["customDimensions"] == [{"index": 4, "value": "EMEA"}]
    assert sessions[1]["totals"]["bounces"] == 1


def test_partial_last_line_is_quarantined_and_the_rest_lands(landing, tmp_path):
    write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"706213";18\r\n2;"4502')
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/client.asc")
    assert (file.rows_read, file.rows_landed, file.rows_quarantined) == (2, 1, 1)
    [record] = quarantined(tmp_path / "home", report, "mainframe/client.asc")
    assert record["line"] == 3 and record["record"] == '2;"4502'
    assert "ends in the middle of this record" in record["reason"]
    assert report.exit_code(accept_quarantine=False) == 1
    assert report.exit_code(accept_quarantine=True) == 0


def test_last_line_without_line_ending_is_quarantined_even_when_it_parses(landing, tmp_path):
    write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"706213";18\r\n2;"450204";1')
    report = land_directory(landing, tmp_path / "home")
    assert report_for(report, "mainframe/client.asc").rows_quarantined == 1
    assert [r["client_id"] for r in raw_rows(tmp_path / "home", "mainframe", "client")] == ["1"]


def test_wrong_column_count_names_the_line_and_the_count(landing, tmp_path):
    write(landing, "mainframe/client.asc",
          CLIENT_HEADER + b'1;"706213";18\r\n2;"450204"\r\n3;"440111";5;9\r\n4;"520101";7\r\n')
    report = land_directory(landing, tmp_path / "home")
    records = quarantined(tmp_path / "home", report, "mainframe/client.asc")
    assert [(r["line"], r["reason"].split(" (")[0]) for r in records] == [
        (3, "too few columns"), (4, "too many columns")]
    assert [(r["client_id"], r["_source_line"]) for r in raw_rows(tmp_path / "home", "mainframe", "client")] == [
        ("1", 2), ("4", 5)]


def test_undecodable_bytes_are_quarantined_with_an_escaped_copy(landing, tmp_path):
    write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"70\xff213";18\r\n2;"450204";1\r\n')
    report = land_directory(landing, tmp_path / "home")
    [record] = quarantined(tmp_path / "home", report, "mainframe/client.asc")
    assert record["line"] == 2 and "not valid UTF-8" in record["reason"]
    assert record["record"] == '1;"70\\xff213";18'


def test_blank_lines_are_not_records_and_do_not_shift_line_numbers(landing, tmp_path):
    write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"706213";18\r\n\r\n2;"450204";1\r\n')
    report = land_directory(landing, tmp_path / "home")
    assert report_for(report, "mainframe/client.asc").rows_read == 2
    assert [r["_source_line"] for r in raw_rows(tmp_path / "home", "mainframe", "client")] == [2, 4]


def test_malformed_json_lines_are_quarantined_with_reasons(landing, tmp_path):
    write(landing, "crm/crm_20240523.json",
          b'{"client_id": 7, "occupation": "editor"}\n'
          b"{'client_id': 8, 'occupation': 'butcher'}\n"
          b'[1, 2]\n'
          b'{"client_id": 9, "occupation": \n')
    report = land_directory(landing, tmp_path / "home")
    records = quarantined(tmp_path / "home", report, "crm/crm_20240523.json")
    assert [(r["line"], r["reason"]) for r in records] == [
        (2, "not valid JSON: single-quoted keys, like a Python dict literal"),
        (3, "a JSON array, expected an object (one record)"),
        (4, "not valid JSON")]
    landed = [r for r in raw_rows(tmp_path / "home", "crm", "client") if r["_source_file"] == "crm/crm_20240523.json"]
    assert [(r["client_id"], r["_source_line"]) for r in landed] == [("7", 1)]


def test_ga_field_of_the_wrong_type_is_quarantined_not_nulled(landing, tmp_path):
    write(landing, "ga/ga_sessions_19950102.json",
          b'{"visitId": 1, "date": "19950102", "fullVisitorId": "1", "hits": []}\n'
          b'{"visitId": "soon", "date": "19950102", "fullVisitorId": "2", "hits": []}\n')
    report = land_directory(landing, tmp_path / "home")
    [record] = quarantined(tmp_path / "home", report, "ga/ga_sessions_19950102.json")
    assert record["line"] == 2 and 'field "visitId" does not have the expected type' in record["reason"]


def test_empty_file_is_quarantined_whole(landing, tmp_path):
    write(landing, "mainframe/loan.asc", b"")
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/loan.asc")
    assert file.status == "quarantined" and file.first_reasons == ("the file is empty: no header and no records",)
    assert (tmp_path / "home" / file.quarantine_file).parent.joinpath("loan.asc").exists()


def test_wrong_header_quarantines_the_file(landing, tmp_path):
    write(landing, "mainframe/account.asc", b'"id";"district";"freq";"date"\r\n1;2;"X";930101\r\n')
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/account.asc")
    # A whole-file reject counts records, not physical lines: the first line is a header.
    assert file.status == "quarantined" and (file.rows_read, file.rows_quarantined) == (1, 1)
    assert "not the expected header" in file.first_reasons[0]


def test_unknown_file_name_is_quarantined_and_others_still_land(landing, tmp_path):
    write(landing, "mainframe/customers.txt", b"a;b\r\n1;2\r\n")
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/customers.txt")
    assert file.status == "quarantined" and "not recognised" in file.first_reasons[0]
    assert len(raw_rows(tmp_path / "home", "mainframe", "client")) == 3


def test_every_file_balances_read_landed_quarantined(landing, tmp_path):
    write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"706213";18\r\n2;"45"\r\n3;"4')
    report = land_directory(landing, tmp_path / "home")
    manifest = read_manifest(tmp_path / "home" / "raw", report.batch_id)
    for entry in manifest["files"]:
        assert entry["rows_read"] == entry["rows_landed"] + entry["rows_quarantined"], entry
    assert len(manifest["files"]) == len(list(p for p in landing.rglob("*") if p.is_file()))


def test_relanding_the_same_files_changes_nothing(landing, tmp_path):
    home = tmp_path / "home"
    first = land_directory(landing, home)
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    second = land_directory(landing, home)
    assert second.batch_id is None and {f.status for f in second.files} == {"skipped"}
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before
    assert committed_batches(home / "raw") == [first.batch_id]


def test_a_new_file_lands_as_a_new_batch(landing, tmp_path):
    home = tmp_path / "home"
    first = land_directory(landing, home)
    write(landing, "mainframe/client_19950102.asc", CLIENT_HEADER + b'9;"520101";7\r\n')
    second = land_directory(landing, home)
    assert [f.source_file for f in second.files if f.status == "landed"] == ["mainframe/client_19950102.asc"]
    assert committed_batches(home / "raw") == [first.batch_id, second.batch_id]
    assert len(raw_rows(home, "mainframe", "client")) == 4


def test_crash_remnants_without_manifest_are_removed(landing, tmp_path):
    home = tmp_path / "home"
    land_directory(landing, home)
    orphan = home / "raw" / "mainframe" / "client" / "batch=20990101T000000000000Z"
    orphan.mkdir(parents=True)
    (orphan / "half.parquet").write_bytes(b"PAR1")
    (home / "raw" / "_incoming" / "batch=x").mkdir(parents=True)
    land_directory(landing, home)
    assert not orphan.exists() and not (home / "raw" / "_incoming").exists()
    assert len(raw_rows(home, "mainframe", "client")) == 3


def test_undecodable_json_line_is_quarantined_and_neighbours_land(landing, tmp_path):
    write(landing, "crm/crm_20240524.json", b'{"client_id": 7}\n{"client_id": "\xff"}\n{"client_id": 9}\n')
    report = land_directory(landing, tmp_path / "home")
    [record] = quarantined(tmp_path / "home", report, "crm/crm_20240524.json")
    assert record["line"] == 2 and record["reason"] == "bytes that are not valid UTF-8 text"
    assert report_for(report, "crm/crm_20240524.json").rows_landed == 2


def test_broken_json_array_quarantines_the_file_and_other_json_still_lands(landing, tmp_path):
    write(landing, "crm/crm_20240525.json", b'[{"client_id": 7}, {"client_id": 8}\n')
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "crm/crm_20240525.json")
    assert file.status == "quarantined" and "not a valid JSON array" in file.first_reasons[0]
    assert report_for(report, "crm/crm_array.json").rows_landed == 2


def test_json_fields_outside_the_contract_are_named_in_the_report(landing, tmp_path):
    write(landing, "crm/crm_20240526.json", b'{"client_id": 7, "loyalty_points": 12, "email": "a@b"}\n')
    report = land_directory(landing, tmp_path / "home")
    assert report_for(report, "crm/crm_20240526.json").note == (
        "fields not in the landing contract, not landed: email, loyalty_points")
    assert report_for(report, "crm/crm_array.json").note == ""
