"""What a gate found, in a form a person reads and `c360 status` stores."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from c360.gates.suites import BLOCKING_SEVERITY


@dataclass
class Outcome:
    """One expectation of one suite, judged on every frame (chunk) the suite was run on."""
    suite: str
    expectation: str                 # GX expectation type
    expectation_id: str | None
    kwargs: dict
    column: str | None
    condition: str | None            # the row_condition, when the expectation has one
    severity: str                    # critical (blocks) | warning | info
    success: bool
    observed: str                    # human text: counts, observed value, errors
    unexpected_count: int | None = None
    element_count: int | None = None
    examples: list[dict] = field(default_factory=list)
    frame: str = ""                  # what was validated
    description: str | None = None

    @property
    def blocking(self) -> bool:
        return not self.success and self.severity == BLOCKING_SEVERITY

    @property
    def warning(self) -> bool:
        return not self.success and self.severity != BLOCKING_SEVERITY

    def describe(self) -> str:
        label = "FAIL" if self.blocking else "WARN"
        shown = {k: v for k, v in self.kwargs.items() if k not in ("column", "column_A", "column_B")}
        lines = [
            f"  {label} [{self.severity}] suite {self.suite}",
            f"       expectation  {self.expectation}({_short(shown)})",
        ]
        if self.description:
            lines.append(f"       meaning      {self.description}")
        if self.column:
            where = f"   where {self.condition}" if self.condition else ""
            lines.append(f"       column       {self.column}{where}")
        if self.frame:
            lines.append(f"       validated    {self.frame}")
        lines.append(f"       observed     {self.observed}")
        for index, example in enumerate(self.examples):
            lines.append(f"       {'examples' if index == 0 else '':<12} {_example(example)}")
        return "\n".join(lines)


@dataclass
class GateResult:
    gate: str                                     # raw | staging | marts
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # frames that could not be built: block
    notes: list[str] = field(default_factory=list)      # extra information (quarantined records)
    frames: list[str] = field(default_factory=list)     # what was validated
    seconds: float = 0.0
    docs: Path | None = None

    @property
    def passed(self) -> bool:
        return not self.problems and not any(o.blocking for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.blocking]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.warning]

    def headline(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        parts = [f"{len(self.outcomes)} expectations on {len(self.frames)} frames"]
        if self.failures or self.problems:
            parts.append(f"{len(self.failures) + len(self.problems)} failed")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warnings")
        return f"{self.gate} gate {verdict} ({', '.join(parts)}) in {self.seconds:.1f} s"

    def describe(self) -> str:
        lines = [self.headline()]
        for problem in self.problems:
            lines.append(f"  FAIL {problem}")
        lines.extend(o.describe() for o in self.failures)
        lines.extend(o.describe() for o in self.warnings)
        lines.extend(f"  note {n}" for n in self.notes)
        if self.docs:
            lines.append(f"  Data Docs: {self.docs}")
        return "\n".join(lines)

    def summary(self) -> dict:
        """Compact, JSON-ready: what `c360 status` shows and the run record keeps."""
        return {
            "gate": self.gate,
            "passed": self.passed,
            "expectations": len(self.outcomes),
            "frames": len(self.frames),
            "failed": [_brief(o) for o in self.failures] + [{"problem": p} for p in self.problems],
            "warnings": [_brief(o) for o in self.warnings],
            "seconds": round(self.seconds, 2),
            "docs": str(self.docs) if self.docs else None,
        }

    def to_json(self) -> str:
        body = asdict(self)
        body["docs"] = str(self.docs) if self.docs else None
        body["passed"] = self.passed
        return json.dumps(body, indent=2, default=str)


def _brief(outcome: Outcome) -> dict:
    return {"suite": outcome.suite, "expectation": outcome.expectation, "column": outcome.column,
            "condition": outcome.condition, "severity": outcome.severity,
            "observed": outcome.observed}


def _short(value, limit: int = 160, item_limit: int = 60) -> str:
    if isinstance(value, dict):
        text = ", ".join(f"{k}={_short(v, item_limit)}" for k, v in value.items())
    elif isinstance(value, list) and len(value) > 6:
        text = "[" + ", ".join(repr(v) for v in value[:6]) + f", ... {len(value)} values]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# where a row came from: shown first, so that shortening a long row never cuts it off
WHERE = ("_source_file", "source_file", "_source_line", "lines", "batch_id")


def _where_first(row: dict) -> dict:
    return {k: row[k] for k in WHERE if k in row} | {k: v for k, v in row.items() if k not in WHERE}


def _example(row: dict) -> str:
    nested = row.get("examples")
    if isinstance(nested, list) and nested:
        head = {k: v for k, v in row.items() if k != "examples"}
        return _short(head, 200) + "\n" + "\n".join(
            f"{'':<20}{_short(_where_first(e), 300, 120)}" for e in nested[:5])
    return _short(_where_first(row), 300, 120)


def combine(gate: str, results: list[GateResult]) -> GateResult:
    """One result for a gate run in parts (the raw gate runs per batch)."""
    combined = GateResult(gate=gate)
    for result in results:
        combined.outcomes += result.outcomes
        combined.problems += result.problems
        combined.notes += result.notes
        combined.frames += result.frames
        combined.seconds += result.seconds
        combined.docs = result.docs or combined.docs
    return combined
