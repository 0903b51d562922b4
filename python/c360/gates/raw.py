"""The raw gate: every batch not gated yet, checked before anything is built from it.

Per batch it validates
  * `raw.batch`, one row per file of the batch's manifest, joined to what is really on disk
    (rows in the batch's Parquet files, records in its quarantine files): counts reconcile,
    and the quarantined share of every file stays under the threshold (default 1%);
  * `raw.<source>.<table>`, the rows the batch landed for that table: schema, keys present,
    code values known, dates parse.

Memory is bounded by one chunk of one batch: Parquet files are read with pyarrow in chunks of
about CHUNK_BYTES in memory (at most MAX_CHUNK_ROWS rows) and each chunk is validated on its
own; the suites of this layer only hold expectations that are true of the whole when true of
every chunk.

A batch that passes is recorded in `<home>/gates/raw/batch=<id>.json` and is never gated again.
A batch that fails is taken out of the raw zone (manifest first, so it is uncommitted at once)
into `<home>/rejected/batch=<id>/` with its verdict: what is built is always gated data. Its
files are not remembered as landed, so delivering them again gates them again.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from c360.gates.engine import Frame, GxSession
from c360.gates.report import GateResult
from c360.gates.suites import Suite, load_suites
from c360.land.manifest import MANIFEST_DIR, committed_batches, manifest_path, read_manifest

CHUNK_BYTES = int(os.environ.get("C360_GATE_CHUNK_BYTES", 128 << 20))
MAX_CHUNK_ROWS = 500_000
QUARANTINE_EXAMPLES = 5
LINEAGE = ("_batch_id", "_source_file", "_source_line", "_ingested_at")


def ledger_dir(home: Path) -> Path:
    return Path(home) / "gates" / "raw"


def ungated_batches(home: Path) -> list[str]:
    """Committed batches the raw gate has not passed yet (landed by this run or by `c360 land`)."""
    passed = {p.stem.removeprefix("batch=") for p in ledger_dir(home).glob("batch=*.json")}
    return [b for b in committed_batches(Path(home) / "raw") if b not in passed]


def run_raw_gate(home: Path, batch_ids: list[str], session: GxSession, *,
                 parameters: dict | None = None, suites_dir: Path | None = None) -> dict[str, GateResult]:
    """Gate each batch; returns one result per batch (an empty dict when there is nothing new)."""
    home = Path(home)
    suites = load_suites("raw", suites_dir)
    manifest_suite = next((s for s in suites if s.kind == "manifest"), None)
    table_suites = {s.frame["table"]: s for s in suites if s.kind == "raw_rows"}
    results = {}
    for batch_id in batch_ids:
        started = time.perf_counter()
        result = GateResult(gate="raw")
        manifest = read_manifest(home / "raw", batch_id)
        if manifest_suite is None:
            result.problems.append("no suite of kind 'manifest' under expectations/suites/raw")
        else:
            frame = manifest_frame(home, manifest)
            result.frames.append(f"manifest of batch={batch_id}")
            result.outcomes += session.validate(manifest_suite, [Frame(f"manifest batch={batch_id}", frame)],
                                                parameters, what=f"files of batch={batch_id} (manifest)")
            result.notes += quarantine_notes(home, manifest)
        for table_dir in sorted((home / "raw").glob(f"*/*/batch={batch_id}")):
            table = f"{table_dir.parent.parent.name}/{table_dir.parent.name}"
            suite = table_suites.get(table)
            if suite is None:
                result.problems.append(f"raw table {table} has no suite (expectations/suites/raw/...)")
                continue
            what = f"raw/{table} rows of batch={batch_id}"
            result.frames.append(what)
            result.outcomes += session.validate(suite, parquet_chunks(table_dir, what, suite.columns_read),
                                                parameters, what=what)
        result.seconds = time.perf_counter() - started
        results[batch_id] = result
    return results


def parquet_chunks(folder: Path, label: str, columns_read: set[str] | None = None) -> Iterator[Frame]:
    """The rows of every Parquet file in `folder`, in chunks of about CHUNK_BYTES in memory.

    Only `columns_read` (default: all) and the lineage (which names a failing row's file and
    line) are read from the files. Every other column is in the frame, with its type, but
    empty (nulls): schema expectations still see every column, and a GA session's hits, which
    no raw expectation reads, are not decoded into each chunk.

    The chunk size comes from the width of the first rows read (a GA session with its hits
    weighs a hundred transactions). Small files (one per delivered file: a GA day, a monthly
    transactions extract) are gathered into one chunk and large ones split, so the number of
    GX validations follows the volume, not the number of files. Nested columns (GA structs
    and lists) stay Arrow-backed in pandas instead of becoming Python objects.
    """
    files = [pq.ParquetFile(path) for path in sorted(folder.glob("*.parquet"))]
    files = [f for f in files if f.metadata.num_rows]
    if not files:
        return
    schema = pa.unify_schemas([f.schema_arrow for f in files], promote_options="permissive")

    wanted = None if columns_read is None else set(columns_read) | set(LINEAGE)

    def read(parquet: pq.ParquetFile) -> list[str]:
        return [name for name in parquet.schema_arrow.names if wanted is None or name in wanted]

    sample = next(files[0].iter_batches(batch_size=1_000, columns=read(files[0])))
    bytes_per_row = max(sample.nbytes / max(sample.num_rows, 1), 1.0)
    chunk_rows = max(1_000, min(MAX_CHUNK_ROWS, int(CHUNK_BYTES / bytes_per_row)))
    pending: list[pa.RecordBatch] = []
    start = 0

    def frame() -> Frame:
        table = pa.concat_tables([pa.Table.from_batches([b]) for b in pending], promote_options="default")
        table = _with_empty_columns(table, schema)
        data = table.to_pandas(types_mapper=_nested_as_arrow)
        data.index = pd.RangeIndex(start, start + len(data))
        return Frame(f"{label} rows {start + 1}-{start + len(data)}", data)

    for parquet in files:
        for batch in parquet.iter_batches(batch_size=chunk_rows, columns=read(parquet)):
            pending.append(batch)
            if sum(b.num_rows for b in pending) >= chunk_rows:
                chunk = frame()
                pending = []
                yield chunk
                start += len(chunk.data)
    if pending:
        yield frame()


def _with_empty_columns(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with every column of `schema` it lacks, as nulls of its type, in schema order."""
    columns = [table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
               for f in schema]
    return pa.table(columns, names=schema.names)


def _nested_as_arrow(data_type: pa.DataType):
    nested = (pa.types.is_struct(data_type) or pa.types.is_list(data_type)
              or pa.types.is_large_list(data_type) or pa.types.is_map(data_type))
    return pd.ArrowDtype(data_type) if nested else None


def manifest_frame(home: Path, manifest: dict) -> pd.DataFrame:
    """One row per new file: what the manifest says next to what is on disk.

    Parquet rows are counted per `_source_file` by DuckDB over the batch's files only, and
    quarantine records by reading the batch's quarantine files.
    """
    batch_id = manifest["batch_id"]
    pattern = str(home / "raw" / "*" / "*" / f"batch={batch_id}" / "*.parquet")
    on_disk: dict[str, int] = {}
    with duckdb.connect() as con:
        if con.execute("select count(*) from glob(?)", [pattern]).fetchone()[0]:
            on_disk = dict(con.execute(
                "select _source_file, count(*) from read_parquet(?, union_by_name = true) group by all",
                [pattern]).fetchall())
    rows = []
    for entry in manifest["files"]:
        if entry["status"] == "skipped":
            continue
        rows_read = int(entry.get("rows_read") or 0)
        landed = int(entry.get("rows_landed") or 0)
        quarantined = int(entry.get("rows_quarantined") or 0)
        rows.append({
            "source_file": entry["source_file"],
            "source": entry.get("source"),
            "table": entry.get("table"),
            "status": entry["status"],
            "rows_read": rows_read,
            "rows_landed": landed,
            "rows_quarantined": quarantined,
            "parquet_rows": on_disk.get(entry["source_file"], 0),
            "quarantine_records": _quarantine_records(home, entry.get("quarantine_file")),
            "unaccounted_rows": rows_read - landed - quarantined,
            "quarantined_share": quarantined / rows_read if rows_read else
                                 float(entry["status"] == "quarantined"),
            "quarantine_file": entry.get("quarantine_file"),
        })
    frame = pd.DataFrame(rows, columns=[
        "source_file", "source", "table", "status", "rows_read", "rows_landed", "rows_quarantined",
        "parquet_rows", "quarantine_records", "unaccounted_rows", "quarantined_share", "quarantine_file"])
    frame["landed_minus_parquet"] = frame["rows_landed"] - frame["parquet_rows"]
    frame["quarantined_minus_records"] = frame["rows_quarantined"] - frame["quarantine_records"]
    return frame


def _quarantine_records(home: Path, relative: str | None) -> int:
    """Records kept aside in a quarantine file (a whole-file entry says how many rows it had)."""
    if not relative or not (home / relative).is_file():
        return 0
    count = 0
    with (home / relative).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                count += int(record["rows"]) if record.get("line") is None and "rows" in record else 1
    return count


def quarantine_notes(home: Path, manifest: dict) -> list[str]:
    """Names the quarantined records: file, share, where they are, the first few lines."""
    notes = []
    for entry in manifest["files"]:
        quarantined, read = entry.get("rows_quarantined") or 0, entry.get("rows_read") or 0
        if not quarantined or not entry.get("quarantine_file"):
            continue
        share = quarantined / read if read else 1.0
        note = (f"{entry['source_file']}: {quarantined:,} of {read:,} records quarantined ({share:.3%})"
                f" -> {home / entry['quarantine_file']}")
        with (home / entry["quarantine_file"]).open(encoding="utf-8") as handle:
            for _, line in zip(range(QUARANTINE_EXAMPLES), handle):
                record = json.loads(line)
                where = f"line {record['line']}" if record.get("line") is not None else "whole file"
                note += f"\n         {where}: {record['reason']}"
        notes.append(note)
    return notes


def record_passed(home: Path, batch_id: str, result: GateResult) -> None:
    _write_json(ledger_dir(home) / f"batch={batch_id}.json",
                {"batch_id": batch_id, "verdict": "passed"} | result.summary())


def reject_batch(home: Path, batch_id: str, result: GateResult) -> Path:
    """Move a failed batch out of the raw zone; returns where it went.

    The manifest goes first: from then on the batch is not committed, so no build reads it
    and landing would clean up any part a crash left behind.
    """
    home = Path(home)
    target = home / "rejected" / f"batch={batch_id}"
    target.mkdir(parents=True, exist_ok=True)
    os.replace(manifest_path(home / "raw", batch_id), target / "manifest.json")
    for table_dir in sorted((home / "raw").glob(f"*/*/batch={batch_id}")):
        if table_dir.parent.parent.name == MANIFEST_DIR:
            continue
        destination = target / "raw" / table_dir.parent.parent.name / table_dir.parent.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(destination, ignore_errors=True)
        os.replace(table_dir, destination)
    quarantine = home / "quarantine" / f"batch={batch_id}"
    if quarantine.is_dir():
        shutil.rmtree(target / "quarantine", ignore_errors=True)
        os.replace(quarantine, target / "quarantine")
    _write_json(target / "verdict.json", {"batch_id": batch_id, "verdict": "rejected"} | result.summary())
    return target


def _write_json(path: Path, body: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body, indent=2, default=str) + "\n")
    os.replace(temporary, path)


__all__ = ["run_raw_gate", "ungated_batches", "record_passed", "reject_batch", "manifest_frame",
           "parquet_chunks", "Suite"]
