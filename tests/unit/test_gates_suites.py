"""The suites under expectations/: a valid GX project, and consistent with what they validate."""
from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from c360.gates.suites import LAYERS, SuiteError, expectations_dir, load_suites, read_suite
from c360.land.sources import SOURCE_TABLES

LINEAGE = ["_batch_id", "_source_file", "_source_line", "_ingested_at"]

# Expectations that are true of a whole frame when true of each chunk: the only ones allowed
# in suites validated chunk by chunk (raw rows, staging rows).
CHUNK_SAFE = {
    "expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list",
    "expect_column_to_exist", "expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_strftime_format", "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_type_list", "expect_column_values_to_be_of_type",
    "expect_column_pair_values_to_be_equal", "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_value_lengths_to_be_between", "expect_multicolumn_sum_to_equal",
}


def all_suites():
    return [suite for layer in LAYERS for suite in load_suites(layer)]


def test_every_layer_has_suites_with_unique_names():
    names = [s.name for s in all_suites()]
    assert len(names) == len(set(names))
    assert {n.split(".")[0] for n in names} == set(LAYERS)


def test_suites_are_a_valid_file_backed_gx_project(tmp_path):
    import great_expectations as gx

    project = Path(shutil.copytree(expectations_dir(), tmp_path / "expectations"))
    context = gx.get_context(context_root_dir=project)
    for suite in all_suites():
        stored = context.suites.get(suite.name)
        assert [e.id for e in stored.expectations] == [e["id"] for e in suite.expectations], suite.name
        assert stored.meta["c360"] == suite.frame


def test_every_expectation_has_an_id_a_known_severity_and_a_meaning():
    for suite in all_suites():
        ids = [e["id"] for e in suite.expectations]
        assert len(ids) == len(set(ids)), suite.name
        for expectation in suite.expectations:
            assert expectation.get("severity", "critical") in ("critical", "warning", "info")
            assert expectation.get("meta", {}).get("description"), (suite.name, expectation["type"])


def test_chunked_suites_only_use_expectations_that_hold_per_chunk():
    for suite in all_suites():
        if suite.kind == "rows":
            used = {e["type"] for e in suite.expectations}
            assert used <= CHUNK_SAFE, (suite.name, used - CHUNK_SAFE)


def test_every_raw_suite_is_measured_by_sql_and_names_a_business_key_of_its_table():
    from c360.engines.duckdb import DuckDBEngine
    from c360.gates.raw import CONFLICTS, SCHEMA_TYPES, checks_of

    engine = DuckDBEngine.open()
    for suite in load_suites("raw"):
        if suite.kind != "raw_rows":
            continue
        checks = checks_of(suite, engine)          # raises on an expectation SQL cannot measure
        row_level = [e for e in suite.expectations if e["type"] not in SCHEMA_TYPES]
        assert [c.id for c in checks if c.expectation != CONFLICTS] == [e["id"] for e in row_level]
        schema = next(e for e in suite.expectations if e["type"] == "expect_table_columns_to_match_set")
        key = suite.frame.get("conflicts", {}).get("key", [])
        assert set(key) <= set(schema["kwargs"]["column_set"]), suite.name
        assert key or suite.frame["table"] == "web/visitor_map", f"{suite.name} names no business key"


def test_an_expectation_the_raw_gate_cannot_measure_is_refused(tmp_path):
    from c360.engines.duckdb import DuckDBEngine
    from c360.gates.raw import checks_of

    (trans,) = [s for s in load_suites("raw") if s.frame.get("table") == "mainframe/trans"]
    body = trans.body | {"expectations": trans.expectations + [
        {"id": "x", "type": "expect_column_mean_to_be_between", "kwargs": {"column": "amount", "min_value": 0}}]}
    with pytest.raises(SuiteError, match="expect_column_mean_to_be_between cannot be measured"):
        checks_of(type(trans)(name=trans.name, path=trans.path, body=body), DuckDBEngine.open())


def test_every_landed_table_has_a_raw_suite_whose_schema_is_the_landing_contract():
    suites = {s.frame.get("table"): s for s in load_suites("raw") if s.kind == "raw_rows"}
    for spec in SOURCE_TABLES:
        suite = suites[f"{spec.source}/{spec.table}"]
        schema = next(e for e in suite.expectations if e["type"] == "expect_table_columns_to_match_set")
        assert sorted(schema["kwargs"]["column_set"]) == sorted([*spec.columns, *LINEAGE]), suite.name
        required = {e["kwargs"]["column"] for e in suite.expectations
                    if e["type"] == "expect_column_values_to_not_be_null"}
        assert set(spec.required) <= required, suite.name


def test_the_quarantine_threshold_is_a_parameter_defaulting_to_one_percent():
    batch = next(s for s in load_suites("raw") if s.kind == "manifest")
    assert batch.parameters == {"max_quarantine_share": 0.01}
    threshold = [e for e in batch.expectations if e["kwargs"].get("max_value") == {"$PARAMETER": "max_quarantine_share"}]
    assert len(threshold) == 1 and threshold[0].get("severity", "critical") == "critical"


def test_a_suite_whose_name_does_not_match_its_path_is_refused(tmp_path):
    root = tmp_path / "suites"
    (root / "raw").mkdir(parents=True)
    path = root / "raw" / "thing.json"
    path.write_text(json.dumps({"name": "raw.other", "expectations": [], "meta": {"c360": {"kind": "manifest"}}}))
    with pytest.raises(SuiteError, match="does not match its path"):
        read_suite(path, root)


def test_an_unknown_severity_is_refused(tmp_path):
    root = tmp_path / "suites"
    (root / "raw").mkdir(parents=True)
    path = root / "raw" / "thing.json"
    path.write_text(json.dumps({"name": "raw.thing", "meta": {"c360": {"kind": "manifest"}},
                                "expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "a"},
                                                  "severity": "warn"}]}))
    with pytest.raises(SuiteError, match="severity 'warn'"):
        read_suite(path, root)


def regex_of(suite_name: str, column: str) -> re.Pattern:
    suite = next(s for layer in LAYERS for s in load_suites(layer) if s.name == suite_name)
    (expectation,) = [e for e in suite.expectations
                      if e["type"] == "expect_column_values_to_match_regex" and e["kwargs"]["column"] == column]
    return re.compile(expectation["kwargs"]["regex"])


def parses(text: str, fmt: str = "%y%m%d") -> bool:
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


ALL_YYMMDD = [f"{yy:02d}{mm:02d}{dd:02d}" for yy in range(100) for mm in range(100) for dd in range(33)]


@pytest.mark.parametrize("suite, column", [("raw.mainframe.trans", "date"), ("raw.mainframe.account", "date"),
                                           ("raw.mainframe.loan", "date")])
def test_the_mainframe_date_regex_accepts_exactly_what_strptime_accepts(suite, column):
    pattern = regex_of(suite, column)
    assert [t for t in ALL_YYMMDD if bool(pattern.search(t)) != parses(t)] == []
    assert not pattern.search("9301011") and not pattern.search(" 930101") and not pattern.search("93-01-01")


def test_the_card_issue_date_regex_accepts_exactly_what_strptime_accepts():
    pattern = regex_of("raw.mainframe.card", "issued")
    samples = [f"{d} {t}" for d in ALL_YYMMDD[::37] for t in ("00:00:00", "23:59:59", "24:00:00", "12:60:00")]
    assert [s for s in samples if bool(pattern.search(s)) != parses(s, "%y%m%d %H:%M:%S")] == []


def test_the_birth_number_regex_accepts_a_calendar_date_with_the_month_plus_50_for_women():
    pattern = regex_of("raw.mainframe.client", "birth_number")

    def valid(text: str) -> bool:
        month = int(text[2:4])
        return (month <= 12 or 51 <= month <= 62) and parses(text[:2] + f"{month % 50:02d}" + text[4:])
    assert [t for t in ALL_YYMMDD if bool(pattern.search(t)) != valid(t)] == []
    assert pattern.search(" ") and pattern.search("706213") and not pattern.search("706131")
