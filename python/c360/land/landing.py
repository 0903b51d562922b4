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
from itertools import groupby
from pathlib import Path

import duckdb

from c360.land.lines import LineIndex, index_lines
from c360.land.manifest import (
    FileReport, committed_batches, landed_checksums, sha256_of, write_manifest,
)
from c360.land.quarantine import keep_whole_file, write_rejections
from c360.land.readers import (
    FileRejected, JsonFile, LandingInvariantError, ReadResult, read_delimited, read_json_files,
)
from c360.land.sources import SourceTable, match_source_table

INCOMING = "_incoming"
JSON_GROUP_BYTES = 64 << 20  # JSON files read in one DuckDB pass, at most this many bytes


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
            if f.note:
                lines.append(f"              ~ {f.note}")
        if self.has_quarantine:
            lines.append(f"quarantined records are in {self.home / 'quarantine'} (file, line, reason)")
        return "\n".join(lines)


def land_directory(landing: Path, home: Path) -> LandingReport:
    started = time.perf_counter()
    landing, home = Path(landing), Path(home)
    raw_root = home / "raw"
    _remove_uncommitted(home)
    already = landed_checksums(raw_root)
    batch = Batch(_new_batch_id(committed_batches(raw_root)), home,
                  datetime.now(timezone.utc).replace(tzinfo=None))

    skipped, new, seen_now = [], [], {}
    for path in _delivered_files(landing):
        delivered = Delivered(path, path.relative_to(landing).as_posix(), sha256_of(path))
        earlier = already.get(delivered.sha256) or seen_now.get(delivered.sha256)
        if earlier:
            skipped.append(_skipped(delivered, earlier))
        else:
            seen_now[delivered.sha256] = delivered.relative
            new.append(delivered)
    reports = skipped + _land_all(new, batch)

    if not new:
        shutil.rmtree(raw_root / INCOMING, ignore_errors=True)
        return LandingReport(landing, home, None, reports, time.perf_counter() - started)
    _move_into_place(batch.incoming, raw_root, batch.batch_id)
    landed_at = batch.ingested_at.isoformat() + "Z"
    write_manifest(raw_root, batch.batch_id, landed_at, [r for r in reports if r.status != "skipped"])
    return LandingReport(landing, home, batch.batch_id, reports, time.perf_counter() - started)


@dataclass(frozen=True)
class Delivered:
    path: Path
    relative: str   # path inside the landing folder
    sha256: str

    @property
    def spec(self) -> SourceTable | None:
        return match_source_table(self.relative)


@dataclass(frozen=True)
class Batch:
    batch_id: str
    home: Path
    ingested_at: datetime

    @property
    def incoming(self) -> Path:
        return self.home / "raw" / INCOMING / f"batch={self.batch_id}"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine" / f"batch={self.batch_id}"


def _land_all(new: list[Delivered], batch: Batch) -> list[FileReport]:
    reports = []
    for delivered in new:
        if delivered.spec is None:
            reports.append(_quarantine_file(delivered, batch, "file name not recognised:"
                                            " see the landing layout in README.md"))
        elif delivered.spec.delimited:
            reports.append(_land_delimited(delivered, batch))
    json_files = [d for d in new if d.spec is not None and not d.spec.delimited]
    for group in _json_groups(json_files):
        reports.extend(_land_json_group(group, batch))
    return sorted(reports, key=lambda r: r.source_file)


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


def _skipped(delivered: Delivered, earlier: str) -> FileReport:
    spec = delivered.spec
    return FileReport(delivered.relative, delivered.sha256, spec and spec.source, spec and spec.table,
                      "skipped", note=f"same content already taken ({earlier})")


def _land_delimited(delivered: Delivered, batch: Batch) -> FileReport:
    spec = delivered.spec
    try:
        lines = index_lines(delivered.path)
        with duckdb.connect() as con:
            result = read_delimited(con, delivered.path, spec, lines)
            target = batch.incoming / spec.source / spec.table / f"{delivered.path.name}.parquet"
            landed = _write_parquet(con, target, spec, batch, source_file=delivered.relative)
    except FileRejected as rejected:
        return _quarantine_file(delivered, batch, str(rejected))
    except duckdb.Error as error:  # a file DuckDB cannot read must not stop the other files
        return _quarantine_file(delivered, batch, f"unreadable: {error}")
    return _file_report(delivered, batch, lines, result, landed)


def _json_groups(files: list[Delivered]) -> list[list[Delivered]]:
    """Files of one table, in groups small enough to hold in memory at once."""
    groups: list[list[Delivered]] = []
    for _, same_table in groupby(sorted(files, key=lambda d: (d.spec.source, d.spec.table, d.relative)),
                                 key=lambda d: (d.spec.source, d.spec.table)):
        group, size = [], 0
        for delivered in same_table:
            if group and size + delivered.path.stat().st_size > JSON_GROUP_BYTES:
                groups.append(group)
                group, size = [], 0
            group.append(delivered)
            size += delivered.path.stat().st_size
        groups.append(group)
    return groups


def _land_json_group(group: list[Delivered], batch: Batch) -> list[FileReport]:
    spec = group[0].spec
    lines = {d.relative: index_lines(d.path) for d in group}
    try:
        with duckdb.connect() as con:
            results, unreadable = read_json_files(con, spec, [JsonFile(r, l) for r, l in lines.items()])
            part = f"part-{group[0].path.stem}.parquet"
            landed = _write_parquet(con, batch.incoming / spec.source / spec.table / part, spec, batch)
    except duckdb.Error as error:
        if len(group) > 1:  # find the file at fault: land each one on its own
            return [report for d in group for report in _land_json_group([d], batch)]
        return [_quarantine_file(group[0], batch, f"unreadable: {error}")]
    reports = [_quarantine_file(d, batch, unreadable[d.relative]) for d in group if d.relative in unreadable]
    reports += [_file_report(d, batch, lines[d.relative], results[d.relative], landed.get(d.relative, 0))
                for d in group if d.relative in results]
    return reports


def _file_report(delivered: Delivered, batch: Batch, lines: LineIndex, result: ReadResult,
                 landed: int) -> FileReport:
    spec = delivered.spec
    if landed + len(result.rejections) != result.rows_read:
        raise LandingInvariantError(f"{delivered.relative}: read {result.rows_read} rows but landed"
                                    f" {landed} and quarantined {len(result.rejections)}")
    status = "quarantined" if result.rejections and not landed else "landed"
    report = FileReport(delivered.relative, delivered.sha256, spec.source, spec.table, status,
                        rows_read=result.rows_read, rows_landed=landed,
                        rows_quarantined=len(result.rejections))
    if result.unmapped_fields:
        report.note = "fields not in the landing contract, not landed: " + ", ".join(result.unmapped_fields)
    if result.rejections:
        target = batch.quarantine / spec.source / f"{delivered.path.name}.jsonl"
        write_rejections(target, delivered.relative, lines, result.rejections)
        report.quarantine_file = target.relative_to(batch.home).as_posix()
        report.first_reasons = tuple(f"line {r.line}: {r.reason}" for r in result.rejections[:3])
    return report


def _write_parquet(con: duckdb.DuckDBPyConnection, target: Path, spec: SourceTable, batch: Batch,
                   source_file: str | None = None):
    """Writes `good` with lineage; returns rows landed (an int, or per file for a group)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(f'"{c}"' for c in spec.columns)
    file_column = "?::varchar" if source_file is not None else "_source_file"
    parameters = [batch.batch_id] + ([source_file] if source_file is not None else []) + [batch.ingested_at]
    con.execute(
        f"copy (select {columns}, ?::varchar as _batch_id, {file_column} as _source_file,"
        f" _source_line::bigint as _source_line, ?::timestamp as _ingested_at"
        f" from good order by _source_file, _source_line)"
        f" to '{_sql_path(target)}' (format parquet, compression zstd)",
        parameters,
    )
    if source_file is not None:
        return con.execute("select count(*) from good").fetchone()[0]
    return dict(con.execute("select _source_file, count(*) from good group by all").fetchall())


def _quarantine_file(delivered: Delivered, batch: Batch, reason: str) -> FileReport:
    spec = delivered.spec
    rows = int((~index_lines(delivered.path).blank).sum())
    folder = batch.quarantine / (spec.source if spec else "unrecognised")
    reason_file = keep_whole_file(delivered.path, folder, delivered.relative, reason, rows)
    return FileReport(delivered.relative, delivered.sha256, spec and spec.source, spec and spec.table,
                      "quarantined", rows_read=rows, rows_quarantined=rows,
                      quarantine_file=reason_file.relative_to(batch.home).as_posix(),
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
