"""Running a suite through GX's pandas engine: severity, chunks, parameters, reports, Data Docs."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest

from c360.gates.engine import Frame, GxSession
from c360.gates.report import GateResult
from c360.gates.suites import Suite


def make_suite(*expectations: dict, name: str = "raw.test.table", meta: dict | None = None) -> Suite:
    body = {"name": name, "expectations": list(expectations),
            "meta": {"c360": meta or {"kind": "raw_rows", "table": "test/table"}}}
    return Suite(name=name, path=Path("/dev/null"), body=body)


def expect(type_: str, severity: str = "critical", **kwargs) -> dict:
    return {"type": type_, "kwargs": kwargs, "severity": severity}


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> GxSession:
    return GxSession(tmp_path_factory.mktemp("docs") / "run", "test-run")


def codes_frame(*codes: str, start: int = 0) -> pd.DataFrame:
    frame = pd.DataFrame({"code": list(codes),
                          "_source_file": "mainframe/x.asc",
                          "_source_line": range(start + 2, start + 2 + len(codes))})
    frame.index = pd.RangeIndex(start, start + len(codes))
    return frame


def test_a_failed_critical_expectation_blocks_and_a_failed_warning_does_not(session):
    suite = make_suite(expect("expect_column_values_to_be_in_set", column="code", value_set=["A"]),
                       expect("expect_column_values_to_not_be_null", severity="warning", column="code"))
    outcomes = session.validate(suite, [Frame("f", codes_frame("A", None, "Z"))])
    in_set, not_null = outcomes
    assert in_set.blocking and not in_set.warning
    assert not_null.warning and not not_null.blocking
    assert GateResult("raw", outcomes=[not_null]).passed
    assert not GateResult("raw", outcomes=outcomes).passed


def test_chunks_add_up_and_examples_are_whole_rows_with_lineage(session):
    suite = make_suite(expect("expect_column_values_to_be_in_set", column="code", value_set=["A"]))
    chunks = [Frame("rows 1-3", codes_frame("A", "B", "A")), Frame("rows 4-6", codes_frame("C", "A", "A", start=3))]
    (outcome,) = session.validate(suite, chunks)
    assert (outcome.unexpected_count, outcome.element_count) == (2, 6)
    assert outcome.examples == [
        {"code": "B", "_source_file": "mainframe/x.asc", "_source_line": 3},
        {"code": "C", "_source_file": "mainframe/x.asc", "_source_line": 5},
    ]


def test_parameters_fill_in_suite_parameters_and_a_run_can_override_the_default(session):
    suite = make_suite(expect("expect_column_values_to_be_between", column="share", min_value=0,
                              max_value={"$PARAMETER": "max_share"}),
                       meta={"kind": "manifest", "parameters": {"max_share": 0.01}})
    frame = Frame("f", pd.DataFrame({"share": [0.0, 0.05]}))
    (strict,) = session.validate(suite, [frame])
    (lenient,) = session.validate(suite, [frame], {"max_share": 0.1})
    assert not strict.success and strict.kwargs["max_value"] == 0.01
    assert lenient.success


def test_a_missing_column_fails_with_the_reason(session):
    suite = make_suite(expect("expect_column_values_to_not_be_null", column="nope"))
    (outcome,) = session.validate(suite, [Frame("f", codes_frame("A"))])
    assert outcome.blocking and 'The column "nope"' in outcome.observed


def test_a_failure_report_names_suite_expectation_column_observed_value_and_examples(session):
    suite = make_suite({**expect("expect_column_values_to_be_in_set", column="code", value_set=["A"]),
                        "meta": {"description": "Codes are known."}})
    outcomes = session.validate(suite, [Frame("f", codes_frame("A", "ZZ"))], what="raw/test/table rows")
    text = GateResult("raw", outcomes=outcomes, frames=["raw/test/table rows"]).describe()
    assert "raw gate FAILED" in text
    for part in ("suite raw.test.table", "expect_column_values_to_be_in_set", "column       code",
                 "1 of 2 rows unexpected", "'ZZ'", "_source_line=3", "Codes are known."):
        assert part in text, part


def test_aggregate_expectations_report_the_observed_value(session):
    suite = make_suite(expect("expect_table_columns_to_match_set", column_set=["code", "other"], exact_match=True))
    (outcome,) = session.validate(suite, [Frame("f", codes_frame("A"))])
    assert outcome.blocking
    assert "_source_line" in outcome.observed and "missing" in outcome.observed


def test_data_docs_and_results_are_written_under_the_docs_folder_only(tmp_path):
    session = GxSession(tmp_path / "docs" / "run-1", "run-1")
    suite = make_suite(expect("expect_column_values_to_not_be_null", column="code"))
    session.validate(suite, [Frame("f", codes_frame("A"))])
    index = session.build_docs()
    assert index == tmp_path / "docs" / "run-1" / "index.html" and index.is_file()
    assert list((tmp_path / "docs" / "run-1" / "results").rglob("*.json"))
    pages = list((tmp_path / "docs" / "run-1" / "validations").rglob("*.html"))
    assert pages and all(re.fullmatch(r"[A-Za-z0-9._=/-]+", str(p.relative_to(tmp_path))) for p in pages)
    links = re.findall(r"'_table_row_link_path': '([^']+)'", index.read_text())
    assert links and all((index.parent / unquote(link)).is_file() for link in links)


def test_gx_forgets_each_chunk_after_validating_it(session):
    """GX's execution engine caches every batch and every metric it resolved: kept, memory
    would grow with the number of chunks instead of staying bounded by one."""
    suite = make_suite(expect("expect_column_values_to_be_in_set", column="code", value_set=["A"]))
    session.validate(suite, [Frame(f"chunk {i}", codes_frame("A", "A", start=2 * i)) for i in range(5)])
    engine = session.datasource.get_execution_engine()
    assert not engine.batch_manager.batch_data_cache and not engine.batch_manager.batch_cache
    assert not engine._metric_cache
