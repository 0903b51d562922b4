"""`c360 land`: every new file in the landing folder becomes Parquet in the raw zone.

All new files of one table are read in one DuckDB pass (`delimited.py`, `json_records.py`);
only a file that pass cannot vouch for is read record by record. A file that cannot be
landed at all is quarantined whole with its reason, and the other files still land.

A batch is written under `<home>/raw/_incoming/batch=<id>/`, moved into place table by
table, and committed by writing its manifest last. Whatever a crash leaves behind without
a manifest is removed at the start of the next landing.
"""
from __future__ import annotations

import gzip
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import groupby
from pathlib import Path

import duckdb

from c360.land import delimited, json_records
from c360.land.delimited import DelimitedFile, Lineage
from c360.land.dialects import Dialect, declared_dialects
from c360.land.files import Refused, delivered_files
from c360.land.json_records import JsonFile
from c360.land.manifest import (
    FileReport, committed_batches, landed_checksums, write_manifest,
)
from c360.land.quarantine import keep_whole_file, note_refused, write_rejections
from c360.land.records import FileOutcome, FileRejected
from c360.land.scan import FileChanged, FileScan, scan_file
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
            if f.note:
                lines.append(f"              ~ {f.note}")
        if self.has_quarantine:
            lines.append(f"quarantined records are in {self.home / 'quarantine'} (file, line, reason)")
        return "\n".join(lines)


@dataclass(frozen=True)
class Delivered:
    path: Path
    relative: str   # path inside the landing folder
    scan: FileScan

    @property
    def sha256(self) -> str:
        return self.scan.sha256

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

    @property
    def lineage(self) -> Lineage:
        return Lineage(self.batch_id, self.ingested_at)

    def table_folder(self, spec: SourceTable) -> Path:
        return self.incoming / spec.source / spec.table


def land_directory(landing: Path, home: Path) -> LandingReport:
    started = time.perf_counter()
    landing, home = Path(landing), Path(home)
    raw_root = home / "raw"
    dialects = declared_dialects(home)  # a bad declaration stops before anything is written
    _remove_uncommitted(home)
    already = landed_checksums(raw_root)
    batch = Batch(_new_batch_id(committed_batches(raw_root)), home,
                  datetime.now(timezone.utc).replace(tzinfo=None))

    files, refused = delivered_files(landing)
    skipped, new, unusable, seen_now = [], [], [], {}
    for entry in refused:
        if entry.fingerprint in already:
            skipped.append(FileReport(entry.relative, entry.fingerprint, None, None, "skipped",
                                      note=f"refused already ({already[entry.fingerprint]})"))
        else:
            unusable.append(_refused(entry, batch))
    for path, scan in zip(files, _in_parallel([lambda p=p: _scan_or_error(p) for p in files])):
        relative = path.relative_to(landing).as_posix()
        if isinstance(scan, Exception):
            unusable.append(_unreadable(path, relative, match_source_table(relative), batch, scan))
            continue
        delivered = Delivered(path, relative, scan)
        earlier = already.get(scan.sha256) or seen_now.get(scan.sha256)
        if earlier:
            skipped.append(_skipped(delivered, earlier))
        else:
            seen_now[scan.sha256] = relative
            new.append(delivered)
    reports = sorted(skipped + unusable + _land_all(new, batch, dialects), key=lambda r: r.source_file)

    if not new and not unusable:
        shutil.rmtree(raw_root / INCOMING, ignore_errors=True)
        return LandingReport(landing, home, None, reports, time.perf_counter() - started)
    _move_into_place(batch.incoming, raw_root, batch.batch_id)
    landed_at = batch.ingested_at.isoformat() + "Z"
    write_manifest(raw_root, batch.batch_id, landed_at, [r for r in reports if r.status != "skipped"])
    return LandingReport(landing, home, batch.batch_id, reports, time.perf_counter() - started)


def _scan_or_error(path: Path) -> FileScan | Exception:
    """Checksums are read on both cores (hashlib releases the GIL on large blocks)."""
    try:
        return scan_file(path)
    except (FileChanged, OSError) as error:
        return error


def _land_all(new: list[Delivered], batch: Batch, dialects: dict[tuple[str, str], Dialect]
              ) -> list[FileReport]:
    reports = [_quarantine_file(d, batch, FileRejected("file name not recognised: see the landing"
                                                       " layout in README.md"))
               for d in new if d.spec is None]
    known = sorted((d for d in new if d.spec is not None), key=lambda d: (d.spec.source, d.spec.table, d.relative))
    for _, same_table in groupby(known, key=lambda d: (d.spec.source, d.spec.table)):
        group = list(same_table)
        spec = group[0].spec
        if spec.delimited:
            reports += _land_delimited(spec, group, batch)
        else:
            reports += _land_json(spec, group, batch, dialects.get((spec.source, spec.table)))
    return reports


# --- delimited tables -----------------------------------------------------------------------

def _land_delimited(spec: SourceTable, group: list[Delivered], batch: Batch) -> list[FileReport]:
    reports, fast, slow = [], {True: [], False: []}, []
    for delivered in group:
        file = DelimitedFile(delivered.path, delivered.relative, delivered.scan)
        try:
            header = delimited.has_header(spec, file)
        except FileRejected as rejected:
            reports.append(_quarantine_file(delivered, batch, rejected))
            continue
        (fast[header] if delimited.fast_path_fits(file) else slow).append((file, header))
    outcomes: dict[str, FileOutcome] = {}
    tasks = [(header, k, group) for header, files in fast.items()
             for k, group in enumerate(_groups([f for f, _ in files]))]
    results = _in_parallel([lambda h=h, k=k, g=g: _fast_delimited(spec, g, h, batch, part=k * 2 + int(h))
                            for h, k, g in tasks])
    for (header, _, _), (done, left) in zip(tasks, results):
        outcomes |= done
        slow += [(f, header) for f in left]
    by_name = {d.relative: d for d in group}
    for file, header in sorted(slow, key=lambda pair: pair[0].relative):
        target = batch.table_folder(spec) / f"{file.path.name}.parquet"
        outcome = _isolated(lambda: delimited.land_slowly(spec, file, header, target, batch.lineage),
                            by_name[file.relative], target)
        if isinstance(outcome, FileRejected):
            reports.append(_quarantine_file(by_name[file.relative], batch, outcome))
        else:
            outcomes[file.relative] = outcome
    reports += [_file_report(by_name[name], batch, outcome) for name, outcome in outcomes.items()]
    return reports


def _fast_delimited(spec: SourceTable, files: list[DelimitedFile], header: bool, batch: Batch,
                    part: int | str) -> tuple[dict[str, FileOutcome], list[DelimitedFile]]:
    """One pass over `files`; if DuckDB refuses the pass as a whole, each file alone; a
    file DuckDB still refuses goes to the per-record reader."""
    target = batch.table_folder(spec) / f"part-{part}.parquet"
    try:
        with _connection() as con:
            outcomes, slow = delimited.land_fast(con, spec, files, header, target, batch.lineage)
    except duckdb.Error:
        target.unlink(missing_ok=True)
        if len(files) == 1:
            return {}, files
        outcomes, slow = {}, []
        for i, file in enumerate(files):
            done, left = _fast_delimited(spec, [file], header, batch, part=f"{part}-{i}")
            outcomes |= done
            slow += left
        return outcomes, slow
    changed = [f for f in files if f.relative in outcomes and not f.scan.unchanged(f.path)]
    if changed:  # written to while it was read: its rows are not a consistent copy
        with duckdb.connect() as con:
            delimited.drop_files(con, target, [f.relative for f in changed])
        outcomes = {name: o for name, o in outcomes.items() if name not in {f.relative for f in changed}}
        slow += changed  # the per-record reader sees the change and quarantines the file
    return outcomes, slow


# --- JSON tables ----------------------------------------------------------------------------

def _land_json(spec: SourceTable, group: list[Delivered], batch: Batch, dialect: Dialect | None
               ) -> list[FileReport]:
    reports, fast, slow, parts_of = [], [], [], {}
    for delivered in group:
        file = JsonFile(delivered.path, delivered.relative, delivered.scan)
        try:
            json_records.check_readable(file)
        except FileRejected as rejected:
            reports.append(_quarantine_file(delivered, batch, rejected))
            continue
        (fast if dialect is None and json_records.fast_path_fits(file) else slow).append(file)
    outcomes: dict[str, FileOutcome] = {}
    suspects: dict[str, list[tuple[int, bytes]]] = {}
    groups = _groups(fast)
    fast_results = _in_parallel([lambda k=k, g=g: _fast_json(spec, g, batch, k) for k, g in enumerate(groups)])
    for (results, part), group_files in zip(fast_results, groups):
        for file in group_files:
            result = results.get(file.relative)
            if result is None:
                slow.append(file)
            elif not file.scan.unchanged(file.path):
                with duckdb.connect() as con:
                    delimited.drop_files(con, part, [file.relative])
                slow.append(file)  # the per-record reader sees the change and quarantines it
            else:
                outcomes[file.relative] = FileOutcome(result.landed, result.landed)
                if result.suspects:
                    suspects[file.relative] = result.suspects
                    slow.append(file)
                parts_of[file.relative] = part
    by_name = {d.relative: d for d in group}
    for file in sorted(slow, key=lambda f: f.relative):
        target = batch.table_folder(spec) / f"{file.path.name}.parquet"

        def read_slowly(file=file, target=target):
            with duckdb.connect() as con:
                return json_records.land_slowly(con, spec, file, target, batch.lineage, dialect,
                                                suspects.get(file.relative))
        outcome = _isolated(read_slowly, by_name[file.relative], target)
        if isinstance(outcome, FileRejected):
            if file.relative in outcomes:  # its fast rows must not land without the rest
                with duckdb.connect() as con:
                    delimited.drop_files(con, parts_of[file.relative], [file.relative])
                outcomes.pop(file.relative)
            reports.append(_quarantine_file(by_name[file.relative], batch, outcome))
        elif file.relative in outcomes:
            outcomes[file.relative].add(outcome)
        else:
            outcomes[file.relative] = outcome
    reports += [_file_report(by_name[name], batch, outcome) for name, outcome in outcomes.items()]
    return reports


def _fast_json(spec: SourceTable, files: list[JsonFile], batch: Batch, k: int | str
               ) -> tuple[dict[str, json_records.FastResult], Path]:
    """The one-pass reader over a group of files; if DuckDB refuses the pass as a whole,
    each file alone, so one unreadable file costs only itself (it is read slowly)."""
    target = batch.table_folder(spec) / f"part-{k}.parquet"
    try:
        with _connection() as con:
            return json_records.land_fast(con, spec, files, target, batch.lineage), target
    except duckdb.Error:
        target.unlink(missing_ok=True)
    if len(files) == 1:
        return {}, target
    results = {}
    for i, file in enumerate(files):  # parts of their own: a later drop touches one file only
        one, part = _fast_json(spec, [file], batch, f"{k}-{i}")
        if one:
            results |= one
            _merge_part(part, target)
    return results, target


def _merge_part(part: Path, target: Path) -> None:
    """Appends `part` to `target` (a per-file retry collected back into the group's part)."""
    if not part.exists():
        return
    if not target.exists():
        part.replace(target)
        return
    merged = target.with_name(target.name + ".merged")
    with duckdb.connect() as con:
        con.execute(f"copy (select * from read_parquet(['{delimited.sql_path(target)}', '{delimited.sql_path(part)}']))"
                    f" to '{delimited.sql_path(merged)}' (format parquet, compression zstd)")
    merged.replace(target)
    part.unlink()


GROUP_BYTES = 32 << 20      # files read in one DuckDB pass: about this many bytes
WORKERS = os.cpu_count() or 2


def _groups(files: list) -> list[list]:
    """Files of one table in groups of about GROUP_BYTES: the groups are read side by side,
    one DuckDB thread each (numbering rows keeps one pass on one thread), and the memory of
    a pass stays bounded by its group."""
    groups, group, size = [], [], 0
    for file in files:
        if group and size + file.scan.size > GROUP_BYTES:
            groups.append(group)
            group, size = [], 0
        group.append(file)
        size += file.scan.size
    return groups + ([group] if group else [])


def _in_parallel(tasks: list) -> list:
    if len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(lambda task: task(), tasks))


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set threads = 1")  # the passes themselves run side by side
    return con


# --- shared ---------------------------------------------------------------------------------

def _isolated(read, delivered: Delivered, target: Path) -> FileOutcome | FileRejected:
    """Runs one file's per-record reader. Whatever goes wrong costs this file only: it is
    quarantined whole with the reason, and every other file of the delivery still lands."""
    try:
        outcome = read()
    except FileRejected as rejected:
        target.unlink(missing_ok=True)
        return rejected
    except Exception as error:  # noqa: BLE001 - the boundary that keeps one file from stopping all
        target.unlink(missing_ok=True)
        return FileRejected(f"could not be read: {type(error).__name__}: {error}")
    if not delivered.scan.unchanged(delivered.path):
        target.unlink(missing_ok=True)
        now = delivered.path.stat().st_size
        return FileRejected(str(FileChanged(delivered.path, delivered.scan.size, now)), outcome.rows_read)
    if outcome.rows_landed + len(outcome.rejections) != outcome.rows_read:  # never mislabel silently
        target.unlink(missing_ok=True)
        return FileRejected(f"could not be read consistently: read {outcome.rows_read} records,"
                            f" landed {outcome.rows_landed}, rejected {len(outcome.rejections)}")
    return outcome


def _file_report(delivered: Delivered, batch: Batch, outcome: FileOutcome) -> FileReport:
    spec = delivered.spec
    status = "quarantined" if outcome.rejections and not outcome.rows_landed else "landed"
    report = FileReport(delivered.relative, delivered.sha256, spec.source, spec.table, status,
                        rows_read=outcome.rows_read, rows_landed=outcome.rows_landed,
                        rows_quarantined=len(outcome.rejections), note="; ".join(outcome.notes),
                        dialect=outcome.dialect)
    if outcome.rejections:
        rejections = sorted(outcome.rejections, key=lambda r: r.line)
        target = batch.quarantine / spec.source / f"{delivered.path.name}.jsonl"
        write_rejections(target, delivered.relative, rejections)
        report.quarantine_file = target.relative_to(batch.home).as_posix()
        report.first_reasons = tuple(f"line {r.line}: {r.reason}" for r in rejections[:3])
    return report


def _quarantine_file(delivered: Delivered, batch: Batch, rejected: FileRejected) -> FileReport:
    spec = delivered.spec
    rows = rejected.records if rejected.records is not None else _count_records(delivered)
    folder = batch.quarantine / (spec.source if spec else "unrecognised")
    reason = str(rejected)
    reason_file = keep_whole_file(delivered.path, folder, delivered.relative, reason, rows)
    return FileReport(delivered.relative, delivered.sha256, spec and spec.source, spec and spec.table,
                      "quarantined", rows_read=rows, rows_quarantined=rows,
                      quarantine_file=reason_file.relative_to(batch.home).as_posix(),
                      first_reasons=(reason,))


def _count_records(delivered: Delivered) -> int:
    """Records in a file quarantined whole: its lines, less a header; for a gzip file,
    the lines inside it."""
    lines = delivered.scan.lines
    if delivered.scan.gzip:
        try:
            with gzip.open(delivered.path, "rb") as inner:
                lines = sum(block.count(b"\n") for block in iter(lambda: inner.read(8 << 20), b""))
        except (OSError, EOFError):
            return 0
    spec = delivered.spec
    header = spec is not None and spec.delimited and spec.header == "required"
    return max(lines - int(header), 0)


def _refused(entry: Refused, batch: Batch) -> FileReport:
    reason_file = note_refused(batch.quarantine / "refused", entry.relative, entry.reason)
    return FileReport(entry.relative, entry.fingerprint, None, None, "quarantined",
                      quarantine_file=reason_file.relative_to(batch.home).as_posix(),
                      first_reasons=(entry.reason,))


def _unreadable(path: Path, relative: str, spec: SourceTable | None, batch: Batch,
                error: Exception) -> FileReport:
    """A file that could not even be checksummed (changing, unreadable): nothing is copied."""
    reason = str(error) if isinstance(error, FileChanged) else f"could not be read: {error}"
    entry = Refused(path, relative, reason)
    reason_file = note_refused(batch.quarantine / (spec.source if spec else "unrecognised"), relative, reason)
    return FileReport(relative, entry.fingerprint + "-unstable", spec and spec.source, spec and spec.table,
                      "quarantined", quarantine_file=reason_file.relative_to(batch.home).as_posix(),
                      first_reasons=(reason,))


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
