"""`c360 graph export`: the published database as Amazon Neptune bulk-load CSV files.

    <out>/vertices/<label>-00001.csv ...   load these first (one loader request)
    <out>/edges/<label>-00001.csv ...      then these (a second request that depends on the first)
    <out>/removed/{vertices,edges,properties}.csv   incremental only, when something went away
    <out>/manifest.json                    what was exported: version, as_of_date, files, counts

DuckDB computes every element (`model.py`) and encodes every record (`formats.py`) from the
published database, attached read-only: a running build never blocks an export, and an export
never changes what it reads.

Incremental: `<home>/graph/state/<consumer>/` remembers every element of the previous export
(id, label and its encoded properties). `--incremental` writes only the elements that are new
or whose properties changed since then, the way a live graph is kept current; what the bulk
loader cannot express — an element that went away, a property that became empty — is listed
under `removed/` for the update job to drop. Every export, full or incremental, records the
new state, after its files are complete.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from c360.graph.formats import FORMATS, NEPTUNE_FORMAT, fields_sql, header, line_sql, set_properties_sql
from c360.graph.model import EDGES, ELEMENT_SETS, VERTICES
from c360.graph.parts import RecordTooLargeError, write_parts
from c360.publish import published_path

MANIFEST_NAME = "manifest.json"
EXPORT_FOLDERS = ("vertices", "edges", "removed")
DEFAULT_MAX_FILE_MB = 256.0
MIB = 1024 * 1024
BATCH_ROWS = 100_000


class GraphExportError(RuntimeError):
    """The export cannot be made (nothing published, an unusable output folder, a broken graph)."""


@dataclass
class ExportReport:
    out: str
    format: str
    incremental: bool
    build_id: str
    as_of_date: str
    exported_at: str
    max_file_bytes: int
    files: list[dict] = field(default_factory=list)          # path, label, kind, records, bytes
    counts: dict = field(default_factory=dict)               # "vertex client" -> records written
    removed: dict = field(default_factory=dict)              # vertices / edges / properties -> count
    total: dict = field(default_factory=dict)                # elements in the graph at as_of_date

    def describe(self) -> str:
        kind = "incremental" if self.incremental else "full"
        lines = [f"graph export ({kind}, {self.format}) of build {self.build_id}, as of {self.as_of_date}"
                 f" -> {self.out}"]
        for key, written in self.counts.items():
            lines.append(f"  {key:<28} {written:>9,} of {self.total[key]:>9,}")
        if self.incremental:
            lines.append("  removed                      " + ", ".join(f"{v:,} {k}" for k, v in self.removed.items()))
        lines.append(f"  {len(self.files)} files, largest {max((f['bytes'] for f in self.files), default=0):,}"
                     f" bytes (limit {self.max_file_bytes:,})")
        return "\n".join(lines)


def state_dir(home: Path, consumer: str) -> Path:
    return Path(home) / "graph" / "state" / consumer


def export_graph(home: Path, out: Path, *, fmt: str = "gremlin", incremental: bool = False,
                 max_file_mb: float | None = None, consumer: str = "export") -> ExportReport:
    """Export the published graph to `out`; with `incremental`, only what changed since the
    previous export recorded for `consumer` (all of it when there is none)."""
    if fmt not in FORMATS:
        raise GraphExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    max_bytes = int((DEFAULT_MAX_FILE_MB if max_file_mb is None else max_file_mb) * MIB)
    database = published_path(Path(home))
    if not database.is_file():
        raise GraphExportError(f"nothing is published at {database}: run `c360 run` first")
    out = Path(out)
    _prepare_out(out)
    state = state_dir(home, consumer)
    with duckdb.connect() as con:
        con.execute(f"attach '{_sql_path(database)}' as c360 (read_only)")
        build_id, as_of = con.execute("select build_id, cast(as_of_date as varchar) from c360.c360_meta.version").fetchone()
        _compute_elements(con)
        _select(con, state if incremental else None)
        report = ExportReport(out=str(out), format=fmt, incremental=incremental, build_id=build_id,
                              as_of_date=as_of, exported_at=_now(), max_file_bytes=max_bytes)
        try:
            _write_elements(con, out, fmt, max_bytes, report)
            if incremental:
                _write_removed(con, out, report)
        except RecordTooLargeError as error:
            _remove_partial(out)
            raise GraphExportError(str(error)) from None
        except BaseException:
            _remove_partial(out)
            raise
        (out / MANIFEST_NAME).write_text(json.dumps(asdict(report) | {"neptune_format": NEPTUNE_FORMAT[fmt]}, indent=2))
        _save_state(con, state, report)
    return report


def _remove_partial(out: Path) -> None:
    """A failed export leaves no parts behind (a loader would read them) and keeps the state."""
    for name in EXPORT_FOLDERS:
        shutil.rmtree(out / name, ignore_errors=True)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _prepare_out(out: Path) -> None:
    """An empty (or new) folder, or an earlier graph export, which is replaced: a loader reads
    every file of a folder, so stale parts must not stay beside new ones."""
    if out.exists() and any(out.iterdir()):
        if not (out / MANIFEST_NAME).is_file():
            raise GraphExportError(f"{out} is not empty and holds no earlier graph export"
                                   f" (no {MANIFEST_NAME}): choose an empty or new folder")
        for name in EXPORT_FOLDERS:
            shutil.rmtree(out / name, ignore_errors=True)
        (out / MANIFEST_NAME).unlink()
    out.mkdir(parents=True, exist_ok=True)


def _compute_elements(con: duckdb.DuckDBPyConnection) -> None:
    """One temp table per element set, then `graph_elements`: every element with its encoded
    properties. Vertices first: edges are computed against the vertices that exist."""
    for element_set in VERTICES + EDGES:
        con.execute(f"create temp table {element_set.table} as {element_set.sql}")
    unions = []
    for element_set in ELEMENT_SETS:
        ends = "from_id, to_id" if element_set.kind == "edge" else "null as from_id, null as to_id"
        unions.append(f"select '{element_set.kind}' as kind, '{element_set.label}' as label, id, {ends},"
                      f" {fields_sql(element_set)} as fields, {set_properties_sql(element_set)} as set_properties"
                      f" from {element_set.table}")
    con.execute("create temp table graph_elements as " + " union all ".join(unions))
    _check_graph(con)


def _check_graph(con: duckdb.DuckDBPyConnection) -> None:
    """A loader rejects duplicate ids and edges to nowhere; so does the export, before writing."""
    duplicates = con.execute("""select kind, id, count(*) from graph_elements group by kind, id
                                having count(*) > 1 order by 3 desc, 2 limit 5""").fetchall()
    if duplicates:
        raise GraphExportError(f"element ids are not unique: {duplicates}")
    dangling = con.execute("""
        select e.label, e.id from graph_elements e
        where e.kind = 'edge' and (
            not exists (select 1 from graph_elements v where v.kind = 'vertex' and v.id = e.from_id)
            or not exists (select 1 from graph_elements v where v.kind = 'vertex' and v.id = e.to_id))
        order by 1, 2 limit 5""").fetchall()
    if dangling:
        raise GraphExportError(f"edges whose ends are not exported vertices: {dangling}")


def _select(con: duckdb.DuckDBPyConnection, state: Path | None) -> None:
    """`graph_selected`: what this export writes — everything, or (incremental) what is new or
    changed against the state; `graph_removed`: what the state has and the graph no longer."""
    previous = state / "elements.parquet" if state is not None else None
    if previous is None or not previous.is_file():
        con.execute("create temp table graph_previous as select * from graph_elements where false")
    else:
        con.execute(f"create temp table graph_previous as select * from read_parquet('{_sql_path(previous)}')")
    con.execute("""
        create temp table graph_selected as
        select e.*,
               list_filter(coalesce(p.set_properties, []), name -> not list_contains(e.set_properties, name))
                   as cleared_properties
        from graph_elements e
        left join graph_previous p on p.kind = e.kind and p.id = e.id
        where p.id is null or p.fields is distinct from e.fields or p.label is distinct from e.label""")
    con.execute("""
        create temp table graph_removed as
        select p.kind, p.id from graph_previous p
        anti join graph_elements e on e.kind = p.kind and e.id = p.id""")


def _write_elements(con: duckdb.DuckDBPyConnection, out: Path, fmt: str, max_bytes: int,
                    report: ExportReport) -> None:
    totals = dict(con.execute("select kind || ' ' || label, count(*) from graph_elements group by 1").fetchall())
    for element_set in ELEMENT_SETS:
        key = f"{element_set.kind} {element_set.label}"
        cursor = con.execute(f"""
            select {line_sql(element_set)} as line from graph_selected
            where kind = ? and label = ? order by id""", [element_set.kind, element_set.label])
        batches = (batch.column(0) for batch in cursor.to_arrow_reader(BATCH_ROWS))
        folder = out / ("vertices" if element_set.kind == "vertex" else "edges")
        parts = write_parts(folder, element_set.label, header(element_set, fmt), batches, max_bytes)
        report.files += [{"path": str(p.path.relative_to(out)), "kind": element_set.kind,
                          "label": element_set.label, "records": p.records, "bytes": p.bytes} for p in parts]
        report.counts[key] = sum(p.records for p in parts)
        report.total[key] = totals.get(key, 0)


def _write_removed(con: duckdb.DuckDBPyConnection, out: Path, report: ExportReport) -> None:
    """What the bulk loader cannot do: drop elements and cleared properties (the update job
    applies these after loading the increment)."""
    queries = {
        "vertices": "select id as \"~id\" from graph_removed where kind = 'vertex' order by 1",
        "edges": "select id as \"~id\" from graph_removed where kind = 'edge' order by 1",
        "properties": """select kind, id as "~id", unnest(cleared_properties) as property
                         from graph_selected where len(cleared_properties) > 0 order by 1, 2, 3""",
    }
    for name, query in queries.items():
        count = con.execute(f"select count(*) from ({query})").fetchone()[0]
        report.removed[name] = count
        if count:
            (out / "removed").mkdir(exist_ok=True)
            con.execute(f"copy ({query}) to '{_sql_path(out / 'removed' / f'{name}.csv')}' (header)")


def _save_state(con: duckdb.DuckDBPyConnection, state: Path, report: ExportReport) -> None:
    """The whole graph as exported, swapped in only now that every file is written."""
    state.mkdir(parents=True, exist_ok=True)
    staged = state / "elements.parquet.tmp"
    con.execute(f"copy (select kind, label, id, from_id, to_id, fields, set_properties from graph_elements)"
                f" to '{_sql_path(staged)}' (format parquet)")
    os.replace(staged, state / "elements.parquet")
    (state / "state.json").write_text(json.dumps(
        {"build_id": report.build_id, "as_of_date": report.as_of_date, "exported_at": report.exported_at,
         "out": report.out, "incremental": report.incremental}, indent=2))


def read_state(home: Path, consumer: str) -> dict | None:
    path = state_dir(home, consumer) / "state.json"
    return json.loads(path.read_text()) if path.is_file() else None
