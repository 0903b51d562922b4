"""`c360 status`: what analysts query right now, and how the last run went."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb

from c360.publish import published_path, read_published, read_version_table


def last_run(home: Path) -> dict | None:
    records = sorted((Path(home) / "runs").glob("*.json"))
    return json.loads(records[-1].read_text()) if records else None


def describe_status(home: Path) -> tuple[str, int]:
    """The status text and an exit code (0 when a version is published, 1 when none is)."""
    home = Path(home)
    version = read_published(home)
    lines = []
    if version is None:
        lines.append(f"nothing published yet in {home} (run `c360 run --landing DIR --home {home}`)")
    else:
        lines.append(version.describe())
        try:
            inside = read_version_table(published_path(home))
            if inside and inside.get("build_id") != version.build_id:
                lines.append(f"  ! the database says build {inside.get('build_id')}, c360.json says"
                             f" {version.build_id}: the database is authoritative")
        except duckdb.Error as error:
            lines.append(f"  (could not open the database read-only to cross-check: {error})")
    run = last_run(home)
    if run and (version is None or run["run_id"] != version.build_id):
        where = f" at {run['stopped_at']}" if run.get("stopped_at") else ""
        lines.append(f"last run        {run['run_id']}: {run['outcome']}{where} ({run.get('seconds', 0):.1f} s)")
        for gate, summary in run.get("gates", {}).items():
            for failure in summary.get("failed", []):
                if "problem" in failure:
                    lines.append(f"  {gate} gate: {failure['problem']}")
                else:
                    condition = f" [{failure['condition']}]" if failure.get("condition") else ""
                    lines.append(f"  {gate} gate: {failure['suite']} {failure['expectation']}"
                                 f"({failure.get('column')}){condition}: {failure['observed']}")
        failed_builds = [s for s in run.get("stages", []) if not s["ok"] and s["name"].startswith("build")]
        for stage in failed_builds:
            lines.append(f"  {stage['name']}: {stage['detail'].splitlines()[0] if stage['detail'] else 'failed'}")
        if run.get("docs"):
            lines.append(f"  docs          {run['docs']}")
        lines.append(f"  record        {home / 'runs' / (run['run_id'] + '.json')}")
    return "\n".join(lines), 0 if version is not None else 1
