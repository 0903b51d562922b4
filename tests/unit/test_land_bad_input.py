"""Landing the bad-input classes of the reliability issue, each built from a tiny fixture:
no traceback, every record on its physical line, count read = landed + quarantined."""
from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from c360.land import land_directory
from c360.land.manifest import read_manifest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "landing"
CLIENT_HEADER = b'"client_id";"birth_number";"district_id"\r\n'
TRANS_HEADER = (b'"trans_id";"account_id";"date";"type";"operation";"amount";"balance";'
                b'"k_symbol";"bank";"account"\r\n')


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES, tmp_path / "landing"))


def write(landing: Path, relative: str, content: bytes) -> Path:
    (landing / relative).parent.mkdir(parents=True, exist_ok=True)
    (landing / relative).write_bytes(content)
    return landing / relative


def raw_rows(home: Path, source: str, table: str, source_file: str | None = None) -> list[dict]:
    relation = duckdb.sql(
        f"select * from read_parquet('{home}/raw/{source}/{table}/batch=*/*.parquet')"
        " order by _source_file, _source_line")
    rows = [dict(zip(relation.columns, row)) for row in relation.fetchall()]
    return [r for r in rows if source_file is None or r["_source_file"] == source_file]


def report_for(report, source_file: str):
    return next(f for f in report.files if f.source_file == source_file)


def quarantined(home: Path, report, source_file: str) -> list[dict]:
    path = home / report_for(report, source_file).quarantine_file
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_balanced(home: Path, report) -> None:
    for entry in read_manifest(home / "raw", report.batch_id)["files"]:
        assert entry["rows_read"] == entry["rows_landed"] + entry["rows_quarantined"], entry


def trans_line(i: int) -> bytes:
    return f'{i};{i % 97};930101;"PRIJEM";"VKLAD";{i}.00;{i}.00;"";"";\r\n'.encode()


# --- delimited files ------------------------------------------------------------------------

def test_a_quoted_line_break_is_one_record_on_the_line_it_starts(landing, tmp_path):
    write(landing, "mainframe/client.asc",
          CLIENT_HEADER + b'1;"VK\r\nLAD";18\r\n2;"450204";1\r\n3;"a\nb\nc";2\r\n4;"x";3\r\n')
    report = land_directory(landing, tmp_path / "home")
    rows = raw_rows(tmp_path / "home", "mainframe", "client")
    assert [(r["client_id"], r["birth_number"], r["_source_line"]) for r in rows] == [
        ("1", "VK\r\nLAD", 2), ("2", "450204", 4), ("3", "a\nb\nc", 5), ("4", "x", 8)]
    assert not report.has_quarantine


def test_an_unclosed_quote_costs_its_line_only(landing, tmp_path):
    write(landing, "mainframe/trans.asc",
          TRANS_HEADER + trans_line(1) + b'2;2;930101;"PRIJEM";"VKLAD";1.00;1.00;"UROK;;\r\n'
          + b"".join(trans_line(i) for i in range(3, 40)))
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/trans.asc")
    assert (file.rows_read, file.rows_landed, file.rows_quarantined) == (39, 38, 1)
    [record] = quarantined(tmp_path / "home", report, "mainframe/trans.asc")
    assert record["line"] == 3 and "quote is opened but not closed" in record["reason"]
    assert record["record"].endswith('"UROK;;')
    rows = raw_rows(tmp_path / "home", "mainframe", "trans")
    assert all(int(r["trans_id"]) + 1 == r["_source_line"] for r in rows)


def test_200k_lines_with_three_bad_ones_land_the_rest_on_their_lines(landing, tmp_path):
    bad = {50_000: b'50000;1;930101;"PRIJEM"\r\n',                      # wrong column count
           120_000: b'120000;1;930101;"PRIJ\xffEM";"VKLAD";1;1;"";"";\r\n',  # bad bytes
           190_000: b'190000;1;930101;"PRIJEM;"VKLAD";1;1;"";"";\r\n'}    # unclosed quote
    body = b"".join(bad.get(i, trans_line(i)) for i in range(1, 200_001))
    write(landing, "mainframe/trans_199301.asc", TRANS_HEADER + body)
    write(landing, "mainframe/trans_199302.asc", TRANS_HEADER + trans_line(300_000) + trans_line(300_001))
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/trans_199301.asc")
    assert (file.rows_read, file.rows_landed, file.rows_quarantined) == (200_000, 199_997, 3)
    records = quarantined(tmp_path / "home", report, "mainframe/trans_199301.asc")
    assert [r["line"] for r in records] == [50_001, 120_001, 190_001]
    assert "too few columns" in records[0]["reason"] and "UTF-8" in records[1]["reason"]
    assert "\\xff" in records[1]["record"]
    [(landed, misplaced)] = duckdb.sql(
        f"select count(*), count(*) filter (where trans_id::bigint + 1 <> _source_line)"
        f" from read_parquet('{tmp_path}/home/raw/mainframe/trans/*/*.parquet')"
        " where _source_file = 'mainframe/trans_199301.asc'").fetchall()
    assert (landed, misplaced) == (199_997, 0)
    assert [(r["trans_id"], r["_source_line"]) for r in raw_rows(
        tmp_path / "home", "mainframe", "trans", "mainframe/trans_199302.asc")] == [("300000", 2), ("300001", 3)]


def test_crlf_file_with_a_stray_lf_lands_it_and_says_which_line(landing, tmp_path):
    write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"706213";18\r\n2;"450204";1\n3;"440111";5\r\n')
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/client.asc")
    assert (file.rows_landed, file.rows_quarantined) == (3, 0)
    assert "mixed line endings" in file.note and "line 3" in file.note
    assert [r["_source_line"] for r in raw_rows(tmp_path / "home", "mainframe", "client")] == [2, 3, 4]


def test_a_lone_carriage_return_is_a_numbered_actionable_reason(landing, tmp_path):
    write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"706213";18\r\n2;450204\r1\r\n3;"440111";5\r\n')
    report = land_directory(landing, tmp_path / "home")
    [record] = quarantined(tmp_path / "home", report, "mainframe/client.asc")
    assert record["line"] == 3 and "carriage return (CR)" in record["reason"]
    assert "strict_mode" not in json.dumps(record)
    assert [r["client_id"] for r in raw_rows(tmp_path / "home", "mainframe", "client")] == ["1", "3"]


def test_a_byte_order_mark_is_accepted_before_the_header(landing, tmp_path):
    write(landing, "mainframe/client.asc", b"\xef\xbb\xbf" + CLIENT_HEADER + b'1;"706213";18\r\n')
    report = land_directory(landing, tmp_path / "home")
    assert not report.has_quarantine
    assert [(r["client_id"], r["_source_line"]) for r in raw_rows(tmp_path / "home", "mainframe", "client")] == [("1", 2)]


def test_a_gzip_file_named_asc_is_explained_and_counted_by_its_records(landing, tmp_path):
    write(landing, "mainframe/loan.asc", gzip.compress(
        b'"loan_id";"account_id";"date";"amount";"duration";"payments";"status"\r\n'
        b'1;2;930705;96396;12;8033.00;"B"\r\n2;3;930711;165960;36;4610.00;"A"\r\n'))
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/loan.asc")
    assert file.status == "quarantined" and "compressed (gzip)" in file.first_reasons[0]
    assert "\\x" not in file.first_reasons[0]
    assert (file.rows_read, file.rows_quarantined) == (2, 2)


def test_a_file_still_being_written_is_quarantined_and_the_others_land(landing, tmp_path, monkeypatch):
    from c360.land import landing as landing_module

    growing = write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"706213";18\r\n')
    scan = landing_module.scan_file

    def scan_then_append(path, **kwargs):
        result = scan(path, **kwargs)
        if path == growing:  # the sender appends after the checksum was taken
            with path.open("ab") as handle:
                handle.write(b'2;"450204";1\r\n')
            os.utime(path, ns=(result.mtime_ns + 10**9, result.mtime_ns + 10**9))
        return result

    monkeypatch.setattr(landing_module, "scan_file", scan_then_append)
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/client.asc")
    assert file.status == "quarantined" and "changed while it was being read" in file.first_reasons[0]
    assert raw_rows(tmp_path / "home", "mainframe", "client") == []
    assert report_for(report, "mainframe/account.asc").status == "landed"
    assert_balanced(tmp_path / "home", report)


def test_a_reader_failure_quarantines_the_file_not_the_run(landing, tmp_path, monkeypatch):
    from c360.land import delimited

    def broken(*args, **kwargs):
        raise RuntimeError("reader broke")

    monkeypatch.setattr(delimited, "land_slowly", broken)
    write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"706213";18\r\n\r\n2;"450204";1\r\n')
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/client.asc")
    assert file.status == "quarantined" and "reader broke" in file.first_reasons[0]
    assert report_for(report, "mainframe/account.asc").status == "landed"


def test_rejects_in_one_file_do_not_shift_the_lines_of_the_next(landing, tmp_path):
    write(landing, "mainframe/client.asc", CLIENT_HEADER + b'1;"a";1\r\n2;"b"\r\n3;"c";3\r\n')
    write(landing, "mainframe/client_2.asc", CLIENT_HEADER + b'7;"x";1\r\n8;"y";2\r\n')
    land_directory(landing, tmp_path / "home")
    rows = raw_rows(tmp_path / "home", "mainframe", "client")
    assert [(r["_source_file"], r["client_id"], r["_source_line"]) for r in rows] == [
        ("mainframe/client.asc", "1", 2), ("mainframe/client.asc", "3", 4),
        ("mainframe/client_2.asc", "7", 2), ("mainframe/client_2.asc", "8", 3)]


# --- refused entries ------------------------------------------------------------------------

def test_symlinks_and_pipes_are_refused_without_being_read(landing, tmp_path):
    outside = tmp_path / "elsewhere.asc"
    outside.write_bytes(CLIENT_HEADER + b'9;"520101";7\r\n')
    (landing / "mainframe" / "client_x.asc").symlink_to("/etc/passwd")
    (landing / "mainframe" / "client_y.asc").symlink_to(outside)
    os.mkfifo(landing / "mainframe" / "client_z.asc")
    home = tmp_path / "home"
    report = land_directory(landing, home)
    for name in ("client_x.asc", "client_y.asc", "client_z.asc"):
        file = report_for(report, f"mainframe/{name}")
        assert file.status == "quarantined" and "regular files inside the landing folder" in file.first_reasons[0]
    assert "symbolic link" in report_for(report, "mainframe/client_x.asc").first_reasons[0]
    assert "named pipe" in report_for(report, "mainframe/client_z.asc").first_reasons[0]
    assert not [p for p in (home / "quarantine").rglob("*") if p.name in ("client_x.asc", "client_y.asc")]
    assert "root:" not in "".join(p.read_text() for p in (home / "quarantine").rglob("*.jsonl"))
    assert "9" not in [r["client_id"] for r in raw_rows(home, "mainframe", "client")]
    again = land_directory(landing, home)
    assert again.batch_id is None


# --- JSON -----------------------------------------------------------------------------------

def ga_session(visit_id: int, **fields) -> dict:
    return {"visitId": visit_id, "date": "19950102", "fullVisitorId": str(visit_id), "hits": [],
            "totals": {"pageviews": 1}} | fields


def test_nested_ga_fields_of_the_wrong_type_are_quarantined_not_nulled(landing, tmp_path):
    sessions = [ga_session(1), ga_session(2, totals={"pageviews": "many"}),
                ga_session(3, hits=[{"hitNumber": 1}, {"hitNumber": "x"}]),
                ga_session(4, visitNumber=1.5), ga_session(5)]
    write(landing, "ga/ga_sessions_19950102.json",
          b"".join(json.dumps(s).encode() + b"\n" for s in sessions) + b'{"visitId": 6, "date": \n')
    report = land_directory(landing, tmp_path / "home")
    records = quarantined(tmp_path / "home", report, "ga/ga_sessions_19950102.json")
    assert [r["line"] for r in records] == [2, 3, 4, 6]
    assert 'field "totals.pageviews"' in records[0]["reason"] and '"many"' in records[0]["reason"]
    assert 'field "hits[1].hitNumber"' in records[1]["reason"]
    assert 'field "visitNumber"' in records[2]["reason"] and "1.5" in records[2]["reason"]
    assert "not valid JSON" in records[3]["reason"]
    landed = raw_rows(tmp_path / "home", "ga", "session", "ga/ga_sessions_19950102.json")
    assert [(r["visitId"], r["_source_line"]) for r in landed] == [(1, 1), (5, 5)]


def test_crm_array_with_utf8_and_escapes_lands_per_record(landing, tmp_path):
    write(landing, "crm/crm_20240601.json",
          '[{"client_id": 1, "occupation": "řezník"},\n {"client_id": 2, "occupation": "\\"senior\\""},\n'
          ' {"client_id": 3, "occupation": "bad \udcff byte"}, {"client_id": 4}]\n'.encode("utf-8", "surrogateescape"))
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "crm/crm_20240601.json")
    assert (file.rows_read, file.rows_landed, file.rows_quarantined) == (4, 3, 1)
    rows = raw_rows(tmp_path / "home", "crm", "client", "crm/crm_20240601.json")
    assert [(r["client_id"], r["occupation"]) for r in rows] == [("1", "řezník"), ("2", '"senior"'), ("4", None)]
    [record] = quarantined(tmp_path / "home", report, "crm/crm_20240601.json")
    assert record["line"] == 3 and "UTF-8" in record["reason"]


def test_a_byte_order_mark_does_not_cost_the_first_crm_record(landing, tmp_path):
    write(landing, "crm/crm_20240602.json", b'\xef\xbb\xbf{"client_id": 1}\n{"client_id": 2}\n')
    report = land_directory(landing, tmp_path / "home")
    assert report_for(report, "crm/crm_20240602.json").rows_landed == 2


def test_blank_and_whitespace_lines_do_not_shift_json_lines(landing, tmp_path):
    write(landing, "crm/crm_20240603.json", b'{"client_id": 1}\n\n   \n{"client_id": 2}\r\n')
    land_directory(landing, tmp_path / "home")
    rows = raw_rows(tmp_path / "home", "crm", "client", "crm/crm_20240603.json")
    assert [(r["client_id"], r["_source_line"]) for r in rows] == [("1", 1), ("2", 4)]


# --- declared dialects ----------------------------------------------------------------------

def declare(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "sources.toml").write_text(text)


def test_declared_dict_literal_dialect_lands_and_is_recorded(landing, tmp_path):
    home = tmp_path / "home"
    declare(home, '[crm.client]\ndialect = "python_dict_literals"\nupdated_at = "export_time_in_file_name"\n')
    write(landing, "crm/crm0020240523-064013.json",
          b"{'client_id': 5000, 'occupation': 'editor', 'age': 24, 'flag': True, 'x': None}\n"
          b"{'client_id': __import__('os').system('echo hi'), 'occupation': 'x'}\n"
          b"{'client_id': 5002, 'occupation': 'butcher', 'updated_at': '2024-01-01T00:00:00'}\n")
    report = land_directory(landing, home)
    file = report_for(report, "crm/crm0020240523-064013.json")
    assert (file.rows_read, file.rows_landed, file.rows_quarantined) == (3, 2, 1)
    assert file.dialect == "python_dict_literals" and "sources.toml" in file.note
    entry = next(e for e in read_manifest(home / "raw", report.batch_id)["files"]
                 if e["source_file"] == "crm/crm0020240523-064013.json")
    assert entry["dialect"] == "python_dict_literals"
    [record] = quarantined(home, report, "crm/crm0020240523-064013.json")
    assert record["line"] == 2 and "not a Python dict literal" in record["reason"]
    rows = raw_rows(home, "crm", "client", "crm/crm0020240523-064013.json")
    assert [(r["client_id"], r["age"], r["updated_at"]) for r in rows] == [
        ("5000", "24", "2024-05-23T06:40:13"), ("5002", None, "2024-01-01T00:00:00")]
    assert "fields not in the landing contract, not landed: flag, x" in file.note


def test_without_a_declaration_dict_literals_stay_quarantined(landing, tmp_path):
    write(landing, "crm/crm0020240523-064013.json", b"{'client_id': 5000}\n")
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "crm/crm0020240523-064013.json")
    assert file.rows_quarantined == 1 and file.dialect is None
    assert "Python dict literal" in file.first_reasons[0]


def test_an_unknown_dialect_is_refused_before_anything_lands(landing, tmp_path):
    from c360.land.dialects import DialectDeclarationError

    declare(tmp_path / "home", '[crm.client]\ndialect = "yaml"\n')
    with pytest.raises(DialectDeclarationError, match="dialect 'yaml' is not one of python_dict_literals"):
        land_directory(landing, tmp_path / "home")
    assert not (tmp_path / "home" / "raw").exists()


def test_a_header_without_records_or_line_ending_is_an_empty_table(landing, tmp_path):
    write(landing, "mainframe/client.asc", CLIENT_HEADER.rstrip(b"\r\n"))
    report = land_directory(landing, tmp_path / "home")
    file = report_for(report, "mainframe/client.asc")
    assert (file.status, file.rows_read, file.rows_landed, file.rows_quarantined) == ("landed", 0, 0, 0)


def test_c360_land_explains_a_bad_declaration_with_exit_code_2(landing, tmp_path, capsys):
    from c360.cli import main

    declare(tmp_path / "home", "[crm.client\n")
    assert main(["land", "--landing", str(landing), "--home", str(tmp_path / "home")]) == 2
    assert "sources.toml: not valid TOML" in capsys.readouterr().err


def test_well_formed_records_need_no_second_look(landing, tmp_path):
    """The one-pass reader vouches for ordinary records itself (timestamps with fractions
    of a second in text), so only odd records cost a per-record check (real GA: see
    tests/integration/test_land_real_data.py)."""
    from datetime import datetime

    from c360.land import json_records
    from c360.land.delimited import Lineage
    from c360.land.scan import scan_file
    from c360.land.sources import match_source_table

    crm = write(landing, "crm/crm_20240604.json",
                b'{"client_id":1,"birth_date":"1966-12-20","age":31,"home_ownership":"U","occupation":"x",'
                b'"marital_status":"M","head_of_household_flag":"Y","client_created_date":"1997-07-07T13:26:45.2",'
                b'"updated_at":"1998-04-15T22:42:45.582599"}\n')
    for path, relative in ((crm, "crm/crm_20240604.json"),):
        file = json_records.JsonFile(path, relative, scan_file(path))
        with duckdb.connect() as con:
            [result] = json_records.land_fast(con, match_source_table(relative), [file], tmp_path / "x.parquet",
                                              Lineage("b", datetime(2024, 1, 1))).values()
        assert result.suspects == [] and result.landed == result.records > 0
