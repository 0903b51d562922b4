"""dbt's own record of a build (`run_results.json`, `manifest.json`) as JUnit test cases.

Every data test and unit test becomes a case; a model, seed or snapshot only when it failed
(a broken build). A failing data test's case carries how many rows failed, dbt's message and
the first rows its compiled query returns, read from the build database (read-only).
"""
from __future__ import annotations

import json
from pathlib import Path

from c360.check.junit import Case

EXAMPLES = 5
_TESTS = ("test.", "unit_test.")
_FAILED = {"fail": "failed", "error": "error", "runtime error": "error"}


def dbt_cases(target_path: Path, database: Path) -> list[Case]:
    """The cases of the last dbt invocation whose artifacts are in `target_path`."""
    results_file = Path(target_path) / "run_results.json"
    if not results_file.is_file():
        return []
    results = json.loads(results_file.read_text())["results"]
    manifest_file = Path(target_path) / "manifest.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}
    nodes = manifest.get("nodes", {}) | manifest.get("unit_tests", {})
    cases = []
    for result in results:
        unique_id, status = result["unique_id"], str(result["status"])
        is_test = unique_id.startswith(_TESTS)
        if not is_test and status not in _FAILED:
            continue
        node = nodes.get(unique_id, {})
        case = Case(classname=_classname(unique_id, node), name=node.get("name") or unique_id,
                    seconds=float(result.get("execution_time") or 0.0),
                    file=node.get("original_file_path"))
        if status in _FAILED:
            case.status = _FAILED[status] if is_test else "error"
            case.message, case.details = _failure(result, node, database)
        elif status == "skipped":
            case.status, case.message = "skipped", "skipped: an upstream node failed"
        elif status == "warn":
            case.output = f"warning: {result.get('message')}"
        cases.append(case)
    return cases


def _classname(unique_id: str, node: dict) -> str:
    """The model a test is attached to (`dbt.customer_360`), else the node's own path."""
    attached = node.get("attached_node") or node.get("model")
    if attached:
        return "dbt." + attached.split(".")[-1]
    kind = unique_id.split(".", 1)[0]
    return f"dbt.{kind}"


def _failure(result: dict, node: dict, database: Path) -> tuple[str, str]:
    message = (result.get("message") or "").strip()
    failures = result.get("failures")
    observed = f"{failures} failing row{'' if failures == 1 else 's'}" if failures not in (None, 0) else None
    headline = "; ".join(part for part in (observed, message.splitlines()[0] if message else None) if part)
    lines = [f"dbt {node.get('resource_type', 'node')} {result['unique_id']}"]
    metadata = node.get("test_metadata") or {}
    if metadata:
        kwargs = {k: v for k, v in (metadata.get("kwargs") or {}).items() if k != "model"}
        lines.append(f"test         {metadata.get('name')}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})")
    if node.get("original_file_path"):
        lines.append(f"defined in   {node['original_file_path']}")
    if observed:
        lines.append(f"observed     {observed}")
    if message:
        lines.append(f"message      {message}")
    compiled = result.get("compiled_code")
    if compiled and result["unique_id"].startswith("test."):
        lines += _examples(compiled, database)
    return headline or "failed", "\n".join(lines)


def _examples(compiled: str, database: Path) -> list[str]:
    """The first rows the failing test's query returns (what it found wrong)."""
    import duckdb

    try:
        with duckdb.connect(str(database), read_only=True) as con:
            relation = con.sql(f"select * from ({compiled.strip().rstrip(';')}) limit {EXAMPLES}")
            columns, rows = relation.columns, relation.fetchall()
    except duckdb.Error as error:
        return [f"examples     (could not be read: {str(error).splitlines()[0]})"]
    shown = [", ".join(f"{c}={v!r}" for c, v in zip(columns, row)) for row in rows]
    return [f"{'examples' if i == 0 else '':<12} {row}" for i, row in enumerate(shown)]
