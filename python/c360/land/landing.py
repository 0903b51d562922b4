"""`c360 land`: every new file in the landing folder becomes Parquet in the raw zone.

A batch is written under `<home>/raw/_incoming/batch=<id>/`, moved into place table by
table, and committed by writing its manifest last. Whatever a crash leaves behind without
a manifest is removed at the start of the next landing.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from c360.land.lines import index_lines
from c360.land.manifest import (
    FileReport, committed_batches, landed_checksums, sha256_of, write_manifest,
)
from c360.land.quarantine import keep_whole_file, write_rejections
from c360.land.readers import FileRejected, read_file
from c360.land.sources import SourceTable, match_source_table

INCOMING = "_incoming"


@dataclass
class LandingReport:
    landing: Path
    home: Path
    batch_id: str | None
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def has_quarantine(self) -> bool:
        return any(f.status == "quarantined" or f.rows_quarantined for f in self.files)

    def exit_code(self, accept_quarantine: bool) -> int:
        return 1 if self.has_quarantine and not accept_quarantine else 0

    def describe(self) -> str:
        new = [f for f in self.files if f.status != "skipped"]
        lines = [f"landed {self.landing} -> {self.home / 'raw'}"
                 f" (batch {self.batch_id or '-'}, {len(new)} new files,"
                 f" {len(self.files) - len(new)} already landed, {self.seconds:.1f}s)"]
        for f in new:
            lines.append(f"  {f.status:<11} {f.source_file}: read {f.rows_read:,},"
                         f" landed {f.rows_landed:,}, quarantined {f.rows_quarantined:,}")
            lines.extend(f"              ! {reason}" for reason in f.first_reasons)
        if self.has_quarantine:
            lines.append(f"quarantined records are in {self.home / 'quarantine'} (file, line, reason)")
        return "\n".join(lines)


def land_directory(landing: Path, home: Path) -> LandingReport:
    started = time.perf_counter()
    landing, home = Path(landing), Path(home)
    raw_root = home / "raw"
    _remove_uncommitted(home)
    already = landed_checksums(raw_root)
    batch_id = _new_batch_id(committed_batches(raw_root))
    ingested_at = datetime.now(timezone.utc).replace(tzinfo=None)
    incoming = raw_root / INCOMING / f"batch={batch_id}"
    quarantine = home / "quarantine" / f"batch={batch_id}"

    reports, seen_now = [], {}
    for path in _delivered_files(landing):
        relative = path.relative_to(landing).as_posix()
        checksum = sha256_of(path)
        earlier = already.get(checksum) or seen_now.get(checksum)
        if earlier:
            reports.append(_skipped(relative, checksum, earlier))
            continue
        seen_now[checksum] = relative
        reports.append(_land_one(path, relative, checksum, batch_id, ingested_at, incoming, quarantine, home))

    new = [r for r in reports if r.status != "skipped"]
    if not new:
        shutil.rmtree(raw_root / INCOMING, ignore_errors=True)
        return LandingReport(landing, home, None, reports, time.perf_counter() - started)
    _move_into_place(incoming, raw_root, batch_id)
    write_manifest(raw_root, batch_id, ingested_at.isoformat() + "Z", new)
    return LandingReport(landing, home, batch_id, reports, time.perf_counter() - started)


def _delivered_files(landing: Path) -> list[Path]:
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    return sorted(p for p in landing.rglob("*") if p.is_file() and not p.name.startswith("."))


def _new_batch_id(existing: list[str]) -> str:
    """UTC time to the microsecond: batch ids sort in landing order."""
    batch_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    while existing and batch_id <= existing[-1]:
        time.sleep(0.001)
        batch_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return batch_id


def _skipped(relative: str, checksum: str, earlier: str) -> FileReport:
    spec = match_source_table(relative)
    return FileReport(relative, checksum, spec and spec.source, spec and spec.table, "skipped",
                      note=f"same content already taken ({earlier})")


def _land_one(path: Path, relative: str, checksum: str, batch_id: str, ingested_at: datetime,
              incoming: Path, quarantine: Path, home: Path) -> FileReport:
    spec = match_source_table(relative)
    if spec is None:
        return _quarantine_file(path, relative, checksum, None, quarantine / "unrecognised", home,
                                "file name not recognised: see the landing layout in README.md")
    try:
        return _land_records(path, relative, checksum, spec, batch_id, ingested_at, incoming,
                             quarantine, home)
    except FileRejected as rejected:
        return _quarantine_file(path, relative, checksum, spec, quarantine / spec.source, home,
                                str(rejected))
    except duckdb.Error as error:  # a file DuckDB cannot read must not stop the other files
        return _quarantine_file(path, relative, checksum, spec, quarantine / spec.source, home,
                                f"unreadable: {error}")


def _land_records(path: Path, relative: str, checksum: str, spec: SourceTable, batch_id: str,
                  ingested_at: datetime, incoming: Path, quarantine: Path, home: Path) -> FileReport:
    lines = index_lines(path)
    with duckdb.connect() as con:
        result = read_file(con, path, spec, lines)
        landed = _write_parquet(con, incoming / spec.source / spec.table / f"{path.name}.parquet",
                                spec, batch_id, relative, ingested_at)
    status = "quarantined" if result.rejections and not landed else "landed"
    report = FileReport(relative, checksum, spec.source, spec.table, status,
                        rows_read=result.rows_read, rows_landed=landed,
                        rows_quarantined=len(result.rejections))
    if landed + len(result.rejections) != result.rows_read:
        raise RuntimeError(f"{relative}: read {result.rows_read} rows but landed {landed}"
                           f" and quarantined {len(result.rejections)}")
    if result.rejections:
        target = quarantine / spec.source / f"{path.name}.jsonl"
        write_rejections(target, relative, lines, result.rejections)
        report.quarantine_file = target.relative_to(home).as_posix()
        report.first_reasons = tuple(f"line {r.line}: {r.reason}" for r in result.rejections[:3])
    return report


def _write_parquet(con: duckdb.DuckDBPyConnection, target: Path, spec: SourceTable, batch_id: str,
                   relative: str, ingested_at: datetime) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(f'"{c}"' for c in spec.columns)
    con.execute(
        f"copy (select {columns}, ?::varchar as _batch_id, ?::varchar as _source_file,"
        f" _source_line::bigint as _source_line, ?::timestamp as _ingested_at"
        f" from good order by _source_line) to '{_sql_path(target)}' (format parquet, compression zstd)",
        [batch_id, relative, ingested_at],
    )
    return con.execute("select count(*) from good").fetchone()[0]


def _quarantine_file(path: Path, relative: str, checksum: str, spec: SourceTable | None,
                     folder: Path, home: Path, reason: str) -> FileReport:
    rows = int((~index_lines(path).blank).sum()) if path.stat().st_size else 0
    reason_file = keep_whole_file(path, folder, relative, reason, rows)
    return FileReport(relative, checksum, spec and spec.source, spec and spec.table, "quarantined",
                      rows_read=rows, rows_quarantined=rows,
                      quarantine_file=reason_file.relative_to(home).as_posix(),
                      first_reasons=(reason,))


def _move_into_place(incoming: Path, raw_root: Path, batch_id: str) -> None:
    if incoming.is_dir():
        for table_dir in sorted(incoming.glob("*/*")):
            target = raw_root / table_dir.parent.name / table_dir.name / f"batch={batch_id}"
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(table_dir, target)
    shutil.rmtree(raw_root / INCOMING, ignore_errors=True)


def _remove_uncommitted(home: Path) -> None:
    """Roll back what a crashed landing left: batch folders that no manifest commits."""
    raw_root = home / "raw"
    shutil.rmtree(raw_root / INCOMING, ignore_errors=True)
    committed = {f"batch={b}" for b in committed_batches(raw_root)}
    for batch_dir in list(raw_root.glob("*/*/batch=*")) + list((home / "quarantine").glob("batch=*")):
        if batch_dir.name not in committed:
            shutil.rmtree(batch_dir)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
