"""Run a suite on pandas frames with Great Expectations and turn its results into outcomes.

GX's SQLAlchemy route on DuckDB is broken upstream, so every suite is validated through
GX's pandas engine (or its Spark engine, c360.engines.spark), on frames whose size the
caller bounds: what the engine measured over a raw batch, a compact summary it computed,
the rows one batch added to a staging model (read in chunks), or a one-row-per-client mart.

One `GxSession` per gate run: an ephemeral GX context (suites and validation definitions
in memory) whose validation results store and Data Docs site are files under the run's
docs folder, `<home>/docs/<run id>/`, never the repository. Progress bars and GX's usage
statistics are off.
"""
from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from c360.docs.offline import make_offline
from c360.gates.report import Outcome
from c360.gates.suites import BLOCKING_SEVERITY, Suite

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

EXAMPLES = 5            # offending rows kept per expectation
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


@dataclass
class Frame:
    """One pandas frame to validate; `label` says what it holds (shown in Data Docs)."""
    label: str
    data: pd.DataFrame


@dataclass
class _Merged:
    """One expectation's results summed over the chunks of a frame."""
    config: dict
    success: bool = True
    element_count: int = 0
    unexpected_count: int = 0
    observed: object = None
    details: object = None
    errors: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)      # value -> count among the partial lists
    examples: list[dict] = field(default_factory=list)
    is_map: bool = False
    chunks: int = 0
    observed_failure: bool = False


def _gx():
    import great_expectations as gx  # imported lazily: it takes seconds

    return gx


class GxSession:
    """An ephemeral GX context writing results and Data Docs under `docs_dir`."""

    def __init__(self, docs_dir: Path, run_name: str):
        gx = _gx()
        from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

        self.docs_dir = Path(docs_dir).resolve()
        self.run_name = run_name
        in_memory = {"class_name": "InMemoryStoreBackend"}
        config = DataContextConfig(
            stores={
                "expectations_store": {"class_name": "ExpectationsStore", "store_backend": in_memory},
                "validation_results_store": {
                    "class_name": "ValidationResultsStore",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                      "base_directory": str(self.docs_dir / "results"),
                                      "suppress_store_backend_id": True},
                },
                "checkpoint_store": {"class_name": "CheckpointStore", "store_backend": in_memory},
                "validation_definition_store": {"class_name": "ValidationDefinitionStore",
                                                "store_backend": in_memory},
            },
            expectations_store_name="expectations_store",
            validation_results_store_name="validation_results_store",
            checkpoint_store_name="checkpoint_store",
            data_docs_sites={"c360": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(self.docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }},
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        self.context = gx.get_context(project_config=config)
        self.datasource = self.context.data_sources.add_pandas("c360")
        self._suites: dict[str, object] = {}
        self._assets = 0
        self.validated = 0

    def _gx_suite(self, suite: Suite):
        """The suite in GX's context, added once per run (again if its content changed)."""
        content = json.dumps(suite.body, sort_keys=True, default=str)
        known = self._suites.get(suite.name)
        if known is None or known[0] != content:
            from great_expectations.core.expectation_suite import ExpectationSuite

            if known is not None:
                self.context.suites.delete(suite.name)
            body = {k: v for k, v in suite.body.items() if k in ("name", "expectations", "meta", "notes")}
            self._suites[suite.name] = (content, self.context.suites.add(ExpectationSuite(**body)))
        return self._suites[suite.name][1]

    def validate(self, suite: Suite, frames: Iterable[Frame], parameters: dict | None = None,
                 *, what: str = "") -> list[Outcome]:
        """Validate every frame (chunk) with the suite; one merged outcome per expectation.

        Column-map expectations add up over chunks (counts, examples). Aggregate ones
        (table columns, row counts, means) are judged per chunk: suites over chunked frames
        use only those that hold per chunk (see tests/unit/test_gates_suites.py).
        """
        gx = _gx()
        from great_expectations.core.run_identifier import RunIdentifier

        gx_suite = self._gx_suite(suite)
        params = suite.parameters | (parameters or {})
        order = [e.id for e in gx_suite.expectations]
        merged: dict[str, _Merged] = {}
        for frame in frames:
            self._assets += 1
            # GX names result files and Data Docs pages after the asset: keep it URL-safe.
            slug = re.sub(r"[^A-Za-z0-9._=-]+", "-", frame.label).strip("-")[:100]
            asset = self.datasource.add_dataframe_asset(f"{self._assets:03d}-{slug}")
            batch = asset.add_batch_definition_whole_dataframe("frame")
            definition = self.context.validation_definitions.add(gx.ValidationDefinition(
                name=f"{suite.name}#{self._assets}", data=batch, suite=gx_suite))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = definition.run(
                    batch_parameters={"dataframe": frame.data},
                    expectation_parameters=params,
                    result_format=RESULT_FORMAT,
                    run_id=RunIdentifier(run_name=self.run_name,
                                         run_time=datetime.now(timezone.utc)),
                )
            self.validated += 1
            self._forget_batches()
            for item in result.results:
                config = item.expectation_config
                key = config.id
                entry = merged.setdefault(key, _Merged(config=_config_dict(config)))
                _merge(entry, item, frame.data)
        outcomes = [_outcome(suite, entry, what) for entry in merged.values()]
        outcomes.sort(key=lambda o: order.index(o.expectation_id) if o.expectation_id in order else 0)
        return outcomes

    def _forget_batches(self) -> None:
        """GX's execution engine keeps every batch it loaded (the whole frame) for the life of
        the datasource, and every metric it resolved on them (row masks included): drop them
        after each validation, or memory would grow with every chunk instead of staying
        bounded by one (tests/unit/test_gates_engine.py checks this)."""
        engine = self.datasource.get_execution_engine()
        engine.batch_manager.reset_batch_cache()
        engine.batch_manager.batch_data_cache.clear()
        metric_cache = getattr(engine, "_metric_cache", None)   # resolved metrics, per batch
        if isinstance(metric_cache, dict):
            metric_cache.clear()

    def build_docs(self) -> Path | None:
        if not self.validated:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.context.build_data_docs(site_names=["c360"])
        make_offline(self.docs_dir)   # GX's pages load CDN assets: point them at vendored copies
        return self.docs_dir / "index.html"


def _config_dict(config) -> dict:
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return {"id": config.id, "type": config.type, "kwargs": kwargs,
            "severity": getattr(config.severity, "value", config.severity) or BLOCKING_SEVERITY,
            "meta": dict(config.meta or {}), "notes": getattr(config, "notes", None)}


def _exception_messages(info) -> list[str]:
    if not isinstance(info, dict):
        return []
    if info.get("raised_exception"):
        return [str(info.get("exception_message"))]
    found = []
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            found.append(str(value.get("exception_message")))
    return sorted(set(found))


def _merge(entry: _Merged, item, data: pd.DataFrame) -> None:
    entry.chunks += 1
    entry.success = entry.success and bool(item.success)
    entry.errors.extend(m for m in _exception_messages(item.exception_info) if m not in entry.errors)
    result = item.result or {}
    if "unexpected_count" in result and "observed_value" not in result:
        entry.is_map = True
        entry.element_count += int(result.get("element_count") or 0)
        entry.unexpected_count += int(result.get("unexpected_count") or 0)
        for pair in result.get("partial_unexpected_counts") or []:
            value = _plain(pair.get("value"))
            entry.values[repr(value)] = entry.values.get(repr(value), 0) + int(pair.get("count", 0))
        for index in result.get("partial_unexpected_index_list") or []:
            if len(entry.examples) >= EXAMPLES:
                break
            if isinstance(index, dict):          # when index columns were named
                entry.examples.append({k: _plain(v) for k, v in index.items()})
            elif index in data.index:
                entry.examples.append(_row(data.loc[index], first=_columns_of(entry.config)))
    elif entry.chunks == 1 or (not item.success and not entry.observed_failure):
        # an aggregate: show the first chunk's observation, or the first failing one
        entry.observed = _plain(result.get("observed_value"))
        entry.details = _plain(result.get("details"))
        entry.observed_failure = not item.success


def _columns_of(config: dict) -> list[str]:
    kwargs = config["kwargs"]
    return [c for c in (kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"),
                        *kwargs.get("column_list", [])) if c]


def _row(series: pd.Series, first: list[str] = ()) -> dict:
    """A whole offending row, the checked column(s) first (lineage columns included)."""
    order = [c for c in first if c in series.index] + [c for c in series.index if c not in first]
    return {str(k): _plain(series[k]) for k in order}


def _plain(value):
    """JSON-friendly, short values for reports."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _plain(value.tolist())
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.6g}")
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _observed_text(entry: _Merged) -> str:
    if entry.errors:
        return "error: " + "; ".join(entry.errors)
    if entry.is_map and entry.element_count == 1 and entry.unexpected_count == 1 and len(entry.values) == 1:
        text = f"{next(iter(entry.values))} (the one row checked)"
        nested = entry.examples[0].get("examples") if entry.examples else None
        if nested:      # a summary row: name the offending keys, not only their count
            text += "; e.g. " + "; ".join(", ".join(f"{k}={v!r}" for k, v in e.items()) for e in nested[:3])
        return text
    if entry.is_map:
        share = entry.unexpected_count / entry.element_count if entry.element_count else 0.0
        text = f"{entry.unexpected_count:,} of {entry.element_count:,} rows unexpected ({share:.4%})"
        if entry.values:
            common = sorted(entry.values.items(), key=lambda kv: -kv[1])[:5]
            shown = sum(entry.values.values())
            text += (f"; values " if shown >= entry.unexpected_count else
                     f"; among the first {shown}: ") + ", ".join(f"{v} x{n}" for v, n in common)
        return text
    text = repr(entry.observed)
    if entry.details:
        text += f"; details {entry.details!r}"
    return text


def _condition_text(condition) -> str | None:
    """A GX row condition, as a person reads it: `relationship == 'a -> b'`."""
    if condition is None or isinstance(condition, str):
        return condition
    if hasattr(condition, "model_dump"):
        condition = condition.model_dump(mode="json")
    if not isinstance(condition, dict):
        return str(condition)
    if condition.get("type") == "comparison":
        column = condition.get("column", {})
        column = column.get("name") if isinstance(column, dict) else column
        return f"{column} {condition.get('operator')} {condition.get('parameter')!r}"
    if condition.get("type") in ("and", "or"):
        return f" {condition['type']} ".join(_condition_text(c) for c in condition.get("conditions", []))
    return condition.get("pass_through_filter") or str(condition)


def _outcome(suite: Suite, entry: _Merged, what: str) -> Outcome:
    config = entry.config
    kwargs = config["kwargs"]
    column = kwargs.get("column") or (
        f"{kwargs['column_A']}, {kwargs['column_B']}" if "column_A" in kwargs else None
    ) or (", ".join(kwargs["column_list"]) if "column_list" in kwargs else None)
    condition = _condition_text(kwargs.get("row_condition"))
    return Outcome(
        suite=suite.name,
        expectation=config["type"],
        expectation_id=config["id"],
        kwargs={k: _plain(v) for k, v in kwargs.items() if k not in ("row_condition", "condition_parser")},
        column=column,
        condition=condition,
        severity=config["severity"],
        success=entry.success and not entry.errors,
        observed=_observed_text(entry),
        unexpected_count=entry.unexpected_count if entry.is_map else None,
        element_count=entry.element_count if entry.is_map else None,
        examples=entry.examples,
        frame=what,
        description=config["meta"].get("description") or config.get("notes"),
    )
