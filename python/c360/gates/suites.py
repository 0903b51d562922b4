"""The gates' expectation suites: Great Expectations JSON files under `expectations/suites/`.

`expectations/` is a file-backed GX project (`great_expectations.yml`): GX itself stores a
suite named `raw.mainframe.client` as `suites/raw/mainframe/client.json`, so the files can be
edited by hand or through a GX `FileDataContext`. The pipeline only reads them.

Besides GX's own fields, each suite says in `meta.c360` which frame it validates:

    {"kind": "raw_rows", "table": "mainframe/client"}   rows of that raw table in each new batch
    {"kind": "manifest"}                                 one row per file of each new batch
    {"kind": "rows", "relation": "staging.stg_..."}      rows of a model the new batches added
    {"kind": "summary", "frame": "key_stats"}            a compact frame DuckDB computes (frames.py)
    {"kind": "table", "relation": "marts.customer_360"}  a whole (one row per client) table

and, optionally, `"parameters"`: defaults for the `{"$PARAMETER": name}` values of its
expectations (a run can override them, e.g. the quarantine threshold), and for staging and
marts suites `"parameter_queries"`: {name: SQL returning one value} computed on the build.

Severity is GX's own `severity` field on each expectation: `critical` (the default) stops
the run; `warning` and `info` are reported and the run goes on.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

LAYERS = ("raw", "staging", "marts")
KINDS = ("raw_rows", "manifest", "rows", "summary", "table")
BLOCKING_SEVERITY = "critical"


class SuiteError(ValueError):
    """A suite file is unreadable or does not say what it validates."""


def expectations_dir() -> Path:
    """The repository's GX project; `C360_EXPECTATIONS_DIR` points elsewhere (tests)."""
    override = os.environ.get("C360_EXPECTATIONS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "expectations"


@dataclass(frozen=True)
class Suite:
    name: str                 # GX suite name, e.g. "raw.mainframe.client"
    path: Path
    body: dict = field(repr=False)  # the JSON exactly as GX stores it

    @property
    def layer(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def frame(self) -> dict:
        return self.body["meta"]["c360"]

    @property
    def kind(self) -> str:
        return self.frame["kind"]

    @property
    def parameters(self) -> dict:
        return dict(self.frame.get("parameters", {}))

    @property
    def expectations(self) -> list[dict]:
        return self.body["expectations"]

    @property
    def columns_read(self) -> set[str]:
        """The columns the suite's column-level expectations read."""
        read = set()
        for expectation in self.expectations:
            kwargs = expectation.get("kwargs", {})
            read.update(kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs)
            read.update(kwargs.get("column_list", ()))
        return read


def suite_name_for(path: Path, suites_root: Path) -> str:
    return ".".join(path.relative_to(suites_root).with_suffix("").parts)


def read_suite(path: Path, suites_root: Path) -> Suite:
    try:
        body = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SuiteError(f"{path}: not valid JSON: {error}") from error
    name = body.get("name")
    expected = suite_name_for(path, suites_root)
    if name != expected:
        raise SuiteError(f"{path}: suite name {name!r} does not match its path (GX expects {expected!r})")
    frame = body.get("meta", {}).get("c360")
    if not isinstance(frame, dict) or frame.get("kind") not in KINDS:
        raise SuiteError(f"{path}: meta.c360.kind must be one of {KINDS}")
    if name.split(".", 1)[0] not in LAYERS:
        raise SuiteError(f"{path}: a suite name starts with its layer, one of {LAYERS}")
    for index, expectation in enumerate(body.get("expectations", [])):
        severity = expectation.get("severity", BLOCKING_SEVERITY)
        if severity not in ("critical", "warning", "info"):
            raise SuiteError(f"{path}: expectation {index} ({expectation.get('type')}): "
                             f"severity {severity!r} is not critical, warning or info")
    return Suite(name=name, path=path, body=body)


def load_suites(layer: str, directory: Path | None = None) -> list[Suite]:
    """Every suite of one layer, sorted by name."""
    root = (directory or expectations_dir()) / "suites"
    if not (root / layer).is_dir():
        raise SuiteError(f"no suites for layer {layer!r} under {root}")
    return [read_suite(path, root) for path in sorted((root / layer).rglob("*.json"))]
