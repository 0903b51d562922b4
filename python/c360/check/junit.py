"""JUnit XML: the test report GitHub Actions, GitLab and Jenkins show natively.

One `<testsuite>` per part of the check (the dbt tests; each layer's GX suites), one
`<testcase>` per dbt test or GX expectation. A failure's `message` is what was observed; its
text adds the expectation, where it was checked and the first offending rows.
"""
from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

STATUSES = ("passed", "failed", "error", "skipped")


@dataclass
class Case:
    classname: str              # what is tested: a model, a GX suite
    name: str                   # the test: a dbt test's name, an expectation on a frame
    status: str = "passed"      # passed | failed | error | skipped
    message: str = ""           # one line: the observed value, the error
    details: str = ""           # the failure's text: expectation, examples
    output: str = ""            # shown beside a passing case (a warning)
    seconds: float = 0.0
    file: str | None = None     # where the test is defined, relative to the repository

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(case.status == status for case in self.cases)


def write_junit(suites: list[Suite], path: Path, *, name: str = "c360 check") -> Path:
    """Write the report to `path` (folders created); returns the path."""
    stamp = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
    root = ET.Element("testsuites", name=name, **_totals(suites))
    for suite in suites:
        element = ET.SubElement(root, "testsuite", name=suite.name, timestamp=stamp,
                                hostname=socket.gethostname(), **_totals([suite]))
        for case in suite.cases:
            attributes = {"classname": case.classname, "name": case.name, "time": f"{case.seconds:.3f}"}
            if case.file:
                attributes["file"] = case.file
            testcase = ET.SubElement(element, "testcase", **attributes)
            if case.status in ("failed", "error"):
                tag = "failure" if case.status == "failed" else "error"
                ET.SubElement(testcase, tag, message=_clean(case.message), type=tag).text = _clean(case.details)
            elif case.status == "skipped":
                ET.SubElement(testcase, "skipped", message=_clean(case.message))
            if case.output:
                ET.SubElement(testcase, "system-out").text = _clean(case.output)
    ET.indent(root)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _totals(suites: list[Suite]) -> dict[str, str]:
    cases = [case for suite in suites for case in suite.cases]
    return {"tests": str(len(cases)),
            "failures": str(sum(c.status == "failed" for c in cases)),
            "errors": str(sum(c.status == "error" for c in cases)),
            "skipped": str(sum(c.status == "skipped" for c in cases)),
            "time": f"{sum(c.seconds for c in cases):.3f}"}


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters (a delivered line may): escape them."""
    return "".join(ch if ch in "\t\n\r" or ord(ch) >= 32 else f"\\x{ord(ch):02x}" for ch in text or "")
