"""The raw gate on tiny drops written inline: each kind of bad batch is stopped, with its reason."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from c360.gates import GxSession, record_passed, reject_batch, run_raw_gate, ungated_batches
from c360.land import land_directory
from c360.land.manifest import committed_batches, manifest_path

CLIENTS = '"client_id";"birth_number";"district_id"\r\n1;"706213";18\r\n2;"450204";1\r\n3;" ";5\r\n'
ACCOUNTS = ('"account_id";"district_id";"frequency";"date"\r\n'
            '576;55;"POPLATEK MESICNE";930101\r\n3818;74;"POPLATEK TYDNE";930102\r\n')
DISTRICTS = ("A1;A2;A3;A4;A5;A6;A7;A8;A9;A10;A11;A12;A13;A14;A15;A16\r\n"
             '69;"Tachov";"west Bohemia";51313;31;11;1;0;1;47.7;8930;?;0.81;111;?;1129\r\n')
VISITORS = "0235442792380726554,1\n9999,3\n"


def drop(landing: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        (landing / relative).write_bytes(text.encode())
    return landing


def clean_files() -> dict[str, str]:
    return {"mainframe/client.asc": CLIENTS, "mainframe/account.asc": ACCOUNTS,
            "reference/district.asc": DISTRICTS, "web/visitor_map.csv": VISITORS}


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> GxSession:
    return GxSession(tmp_path_factory.mktemp("docs") / "run", "test")


def gate(tmp_path: Path, session: GxSession, files: dict[str, str], **parameters):
    home = tmp_path / "home"
    report = land_directory(drop(tmp_path / "landing", files), home)
    results = run_raw_gate(home, [report.batch_id], session, parameters=parameters or None)
    return home, report.batch_id, results[report.batch_id]


def only_failure(result):
    assert not result.passed
    (failure,) = result.failures
    return failure


def test_a_clean_batch_passes_and_is_not_gated_twice(tmp_path, session):
    home, batch_id, result = gate(tmp_path, session, clean_files())
    assert result.passed, result.describe()
    assert not result.warnings and len(result.frames) == 5   # manifest + 4 tables
    record_passed(home, batch_id, result)
    assert ungated_batches(home) == []


def test_an_unknown_code_value_fails_naming_the_row(tmp_path, session):
    files = clean_files() | {"mainframe/account.asc": ACCOUNTS + '9;1;"POPLATEK ROCNE";930105\r\n'}
    _, _, result = gate(tmp_path, session, files)
    failure = only_failure(result)
    assert (failure.suite, failure.expectation, failure.column) == (
        "raw.mainframe.account", "expect_column_values_to_be_in_set", "frequency")
    assert failure.examples[0] | {"_ingested_at": None, "_batch_id": None} == {
        "frequency": "POPLATEK ROCNE", "account_id": "9", "district_id": "1", "date": "930105",
        "_batch_id": None, "_source_file": "mainframe/account.asc", "_source_line": 4, "_ingested_at": None}


def test_a_date_that_does_not_parse_fails(tmp_path, session):
    files = clean_files() | {"mainframe/account.asc": ACCOUNTS + '9;1;"POPLATEK MESICNE";930231\r\n'}
    failure = only_failure(gate(tmp_path, session, files)[2])
    assert (failure.column, failure.expectation) == ("date", "expect_column_values_to_match_regex")


def test_a_missing_required_key_fails(tmp_path, session):
    files = clean_files() | {"mainframe/client.asc": CLIENTS + ';"706213";18\r\n'}
    failure = only_failure(gate(tmp_path, session, files)[2])
    assert (failure.suite, failure.column) == ("raw.mainframe.client", "client_id")


def clients_with_one_bad_line(good_rows: int) -> str:
    rows = "".join(f'{i};"706213";18\r\n' for i in range(1, good_rows + 1))
    return '"client_id";"birth_number";"district_id"\r\n' + rows + '999;"706213"\r\n'


def test_a_quarantined_share_under_the_threshold_warns_and_names_the_records(tmp_path, session):
    files = clean_files() | {"mainframe/client.asc": clients_with_one_bad_line(199)}   # 0.5 %
    _, _, result = gate(tmp_path, session, files)
    assert result.passed, result.describe()
    (warning,) = result.warnings
    assert warning.column == "quarantined_share" and warning.examples[0]["source_file"] == "mainframe/client.asc"
    assert any("mainframe/client.asc: 1 of 200 records quarantined" in n and "line 201" in n for n in result.notes)


def test_a_quarantined_share_over_the_threshold_fails_unless_the_threshold_is_raised(tmp_path, session):
    files = clean_files() | {"mainframe/client.asc": clients_with_one_bad_line(49)}    # 2 %
    failure = only_failure(gate(tmp_path / "default", session, files)[2])
    assert failure.column == "quarantined_share" and failure.kwargs["max_value"] == 0.01
    assert gate(tmp_path / "raised", session, files, max_quarantine_share=0.05)[2].passed


def test_an_entirely_malformed_crm_file_fails(tmp_path, session):
    crm = "{'client_id': 5000, 'birth_date': '1999-11-11'}\n{'client_id': 5001, 'birth_date': '1975-10-24'}\n"
    failure = only_failure(gate(tmp_path, session, clean_files() | {"crm/crm0020240523.json": crm})[2])
    assert failure.column == "quarantined_share"
    assert failure.examples[0]["source_file"] == "crm/crm0020240523.json"


def test_counts_that_do_not_reconcile_with_the_manifest_fail(tmp_path, session):
    home = tmp_path / "home"
    report = land_directory(drop(tmp_path / "landing", clean_files()), home)
    path = manifest_path(home / "raw", report.batch_id)
    manifest = json.loads(path.read_text())
    next(f for f in manifest["files"] if f["source_file"] == "mainframe/client.asc")["rows_landed"] += 1
    path.write_text(json.dumps(manifest))
    result = run_raw_gate(home, [report.batch_id], session)[report.batch_id]
    assert {f.column for f in result.failures} == {"unaccounted_rows", "landed_minus_parquet"}


def test_a_rejected_batch_leaves_the_raw_zone_and_lands_again_when_delivered_again(tmp_path, session):
    files = clean_files() | {"mainframe/account.asc": ACCOUNTS + '9;1;"POPLATEK ROCNE";930105\r\n'}
    home, batch_id, result = gate(tmp_path, session, files)
    where = reject_batch(home, batch_id, result)
    assert committed_batches(home / "raw") == [] and not list((home / "raw").glob(f"*/*/batch={batch_id}"))
    assert (where / "manifest.json").is_file() and (where / "raw" / "mainframe" / "account").is_dir()
    assert json.loads((where / "verdict.json").read_text())["verdict"] == "rejected"
    again = land_directory(tmp_path / "landing", home)
    assert again.batch_id and {f.status for f in again.files} == {"landed"}


TRANS_HEADER = '"trans_id";"account_id";"date";"type";"operation";"amount";"balance";"k_symbol";"bank";"account"\r\n'


def trans_line(trans_id: int, amount: str = "100.00", kind: str = "PRIJEM") -> str:
    return f'{trans_id};576;930105;"{kind}";"VKLAD";{amount};{amount};"";;\r\n'


class CountingSession(GxSession):
    """A GxSession that remembers how many rows each frame it validated had."""

    def __init__(self, *args):
        super().__init__(*args)
        self.frame_rows: list[int] = []

    def validate(self, suite, frames, parameters=None, *, what=""):
        frames = list(frames)
        self.frame_rows += [len(f.data) for f in frames]
        return super().validate(suite, frames, parameters, what=what)


def test_a_raw_gate_failure_on_a_large_batch_still_shows_examples_and_no_row_reaches_pandas(tmp_path):
    lines = [trans_line(i) for i in range(1, 200_001)]
    for line_number in (5_000, 120_000, 199_999):          # physical lines (the header is line 1)
        lines[line_number - 2] = trans_line(line_number - 1, kind="PRIJEM?")
    session = CountingSession(tmp_path / "docs", "large")
    home, _, result = gate(tmp_path, session, clean_files() | {"mainframe/trans.asc": TRANS_HEADER + "".join(lines)})
    failure = only_failure(result)
    assert (failure.suite, failure.expectation, failure.column) == (
        "raw.mainframe.trans", "expect_column_values_to_be_in_set", "type")
    assert failure.unexpected_count == 3 and failure.element_count == 200_000
    assert "3 of 200,000 rows unexpected" in failure.observed and "'PRIJEM?' x3" in failure.observed
    assert "in mainframe/trans.asc" in failure.observed
    assert [(e["_source_file"], e["_source_line"], e["type"]) for e in failure.examples] == [
        ("mainframe/trans.asc", n, "PRIJEM?") for n in (5_000, 120_000, 199_999)]
    text = result.describe()
    assert "_source_file='mainframe/trans.asc', _source_line=5000, type='PRIJEM?'" in text
    # GX validated measurements (one row per check of the batch's suites), manifests and empty
    # schema frames, never a frame of the 200,000 rows
    assert max(session.frame_rows) < 100


def test_the_measuring_sql_is_derived_from_the_suite_expectations():
    from c360.engines.duckdb import DuckDBEngine
    from c360.gates.raw import checks_of, measure_sql
    from c360.gates.suites import load_suites

    (trans,) = [s for s in load_suites("raw") if s.frame.get("table") == "mainframe/trans"]
    engine = DuckDBEngine.open()
    checks = checks_of(trans, engine)
    measured = [e for e in trans.expectations if e["type"] != "expect_table_columns_to_match_set"]
    assert [c.id for c in checks][:len(measured)] == [e["id"] for e in measured]
    assert checks[-1].expectation == "conflicting duplicates in one file" and checks[-1].column == "trans_id"
    sql = measure_sql(engine, "t", checks, ['trim(cast("trans_id" as varchar))'])
    assert "regexp_matches(cast(\"trans_id\" as varchar), '^ *[0-9]+ *$')" in sql
    assert "not in ('PRIJEM', 'VYDAJ', 'VYBER')" in sql and sql.endswith("group by _source_file")


def test_conflicting_duplicates_in_one_file_fail_naming_table_key_file_and_lines(tmp_path, session):
    trans = TRANS_HEADER + trans_line(1001) + trans_line(1002) + trans_line(1001, amount="999.00")
    failure = only_failure(gate(tmp_path, session, clean_files() | {"mainframe/trans.asc": trans})[2])
    assert (failure.suite, failure.expectation, failure.column) == (
        "raw.mainframe.trans", "conflicting duplicates in one file", "trans_id")
    assert failure.observed.startswith("1 keys delivered more than once with different content")
    (example,) = failure.examples
    assert example == {"_source_file": "mainframe/trans.asc", "lines": [2, 4], "trans_id": "1001",
                       "differs": "amount: '100.00' (line 2) | '999.00' (line 4); "
                                  "balance: '100.00' (line 2) | '999.00' (line 4)"}


def test_identical_repeats_and_re_deliveries_are_not_conflicts(tmp_path, session):
    trans = TRANS_HEADER + trans_line(1001) + trans_line(1001)           # the same record twice
    corrected = TRANS_HEADER + trans_line(1001, amount="999.00")         # a later file corrects it
    files = clean_files() | {"mainframe/trans.asc": trans, "mainframe/trans_redelivery.asc": corrected}
    home, _, result = gate(tmp_path, session, files)
    assert result.passed, result.describe()
    # the same key again, changed, in a later batch: a re-delivery
    drop(tmp_path / "landing", {"mainframe/trans_later.asc": TRANS_HEADER + trans_line(1001, amount="5.00")})
    later = land_directory(tmp_path / "landing", home)
    assert run_raw_gate(home, [later.batch_id], session)[later.batch_id].passed
