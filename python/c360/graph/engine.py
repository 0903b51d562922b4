"""An embedded Gremlin graph loaded from exported files: gremlite (Gremlin on SQLite, driven
through gremlinpython's `traversal().with_remote(...)`, exactly as one drives Neptune).

`GraphStore.load(export_dir)` does what the Neptune bulk loader does with these files, with
`updateSingleCardinalityProperties` on: vertex files before edge files, an element whose
`~id` exists gets its properties replaced, an empty field sets nothing. It then applies an
increment's `removed/` lists (what the update job does after the loader). Files are parsed
with a strict RFC 4180 reader; a malformed record stops the load naming the file and line.

gremlite assigns its own integer ids, so the exported id is kept as the property `~id`
(indexed by SQLite); every traversal here starts from it.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.traversal import Direction, T
from gremlite import SQLiteConnection

from c360.graph.export import MANIFEST_NAME

ID = "~id"
SYSTEM = {"~id": "id", "~label": "label", "~from": "from", "~to": "to",
          ":ID": "id", ":LABEL": "label", ":START_ID": "from", ":END_ID": "to", ":TYPE": "label"}
PROPERTY_HEADER = re.compile(r"^(?P<name>[^:]+):(?P<type>[A-Za-z]+)(\((?P<cardinality>single|set)\))?$")


class GraphLoadError(ValueError):
    """A file cannot be loaded: malformed CSV, an unknown header, an edge whose end is missing."""


def _convert(type_name: str, text: str):
    """A CSV field as the Python value gremlite stores (dates stay ISO 8601 text: they sort)."""
    kind = type_name.lower()
    if kind in ("int", "long", "short", "byte"):
        return int(text)
    if kind in ("double", "float"):
        return float(text)
    if kind == "bool":
        if text not in ("true", "false"):
            raise ValueError(f"not a Bool: {text!r}")
        return text == "true"
    return text                                             # String, Date, DateTime


@dataclass
class Record:
    path: Path
    line: int
    id: str
    label: str
    ends: tuple[str, str] | None
    properties: dict


def read_records(path: Path) -> Iterator[Record]:
    """Every record of a vertex or edge file (either format), typed by its header."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            columns = next(reader)
        except StopIteration:
            raise GraphLoadError(f"{path}: empty file, no header") from None
        roles = []
        for column in columns:
            if column in SYSTEM:
                roles.append((SYSTEM[column], None))
                continue
            match = PROPERTY_HEADER.match(column)
            if not match:
                raise GraphLoadError(f"{path}, line 1: header column {column!r} is neither a system column"
                                     " nor name:Type")
            roles.append((match["name"], match["type"]))
        try:
            for row in reader:
                if len(row) != len(columns):
                    raise GraphLoadError(f"{path}, line {reader.line_num}: {len(row)} fields, the header has"
                                         f" {len(columns)}")
                system, properties = {}, {}
                for (name, type_name), text in zip(roles, row):
                    if type_name is None:
                        system[name] = text
                    elif text != "":                       # empty: the property is not set
                        try:
                            properties[name] = _convert(type_name, text)
                        except ValueError as error:
                            raise GraphLoadError(f"{path}, line {reader.line_num}: {name}: {error}") from None
                ends = (system["from"], system["to"]) if "from" in system else None
                yield Record(path, reader.line_num, system["id"], system.get("label", ""), ends, properties)
        except csv.Error as error:
            raise GraphLoadError(f"{path}, line {reader.line_num}: {error}") from None


@dataclass
class LoadReport:
    vertices_added: int = 0
    vertices_updated: int = 0
    edges_added: int = 0
    edges_updated: int = 0
    removed: dict = field(default_factory=dict)


class GraphStore:
    """A gremlite graph in one SQLite file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.remote = SQLiteConnection(str(self.path))
        self.g = traversal().with_remote(self.remote)
        self._vertex_ids: dict[str, int] = {}
        self._edge_ids: dict[str, int] = {}
        self._fresh = False          # loading into an empty graph: nothing to look up in SQLite

    def close(self) -> None:
        self.remote.close()

    def __enter__(self) -> "GraphStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- lookups by exported id ----------------------------------------------------------

    def vertex(self, element_id: str) -> int | None:
        if element_id not in self._vertex_ids:
            found = [] if self._fresh else self.g.V().has(ID, element_id).id_().to_list()
            if not found:
                return None
            self._vertex_ids[element_id] = found[0]
        return self._vertex_ids[element_id]

    def edge(self, element_id: str) -> int | None:
        if element_id not in self._edge_ids:
            found = [] if self._fresh else self.g.E().has(ID, element_id).id_().to_list()
            if not found:
                return None
            self._edge_ids[element_id] = found[0]
        return self._edge_ids[element_id]

    # --- loading -----------------------------------------------------------------------

    def load(self, export_dir: Path) -> LoadReport:
        """Load an export (full or incremental): vertices, then edges, then its removals."""
        export_dir = Path(export_dir)
        if not (export_dir / MANIFEST_NAME).is_file():
            raise GraphLoadError(f"{export_dir}: no {MANIFEST_NAME}, not a graph export")
        report = LoadReport()
        self._fresh = self.g.V().limit(1).count().next() == 0
        for path in sorted((export_dir / "vertices").glob("*.csv")):
            for record in read_records(path):
                self._load_vertex(record, report)
        for path in sorted((export_dir / "edges").glob("*.csv")):
            for record in read_records(path):
                self._load_edge(record, report)
        self._fresh = False
        self._apply_removed(export_dir / "removed", report)
        self.remote.commit()
        return report

    def _load_vertex(self, record: Record, report: LoadReport) -> None:
        existing = self.vertex(record.id)
        if existing is None:
            step = self.g.add_v(record.label).property(ID, record.id)
            for name, value in record.properties.items():
                step = step.property(name, value)
            self._vertex_ids[record.id] = step.id_().next()
            report.vertices_added += 1
        else:
            self._set_properties(self.g.V(existing), record.properties)
            report.vertices_updated += 1

    def _load_edge(self, record: Record, report: LoadReport) -> None:
        existing = self.edge(record.id)
        if existing is not None:
            self._set_properties(self.g.E(existing), record.properties)
            report.edges_updated += 1
            return
        ends = [self.vertex(end) for end in record.ends]
        if None in ends:
            missing = record.ends[ends.index(None)]
            raise GraphLoadError(f"{record.path}, line {record.line}: edge {record.id!r} ends at vertex"
                                 f" {missing!r}, which is not loaded")
        step = self.g.V(ends[1]).as_("to").V(ends[0]).add_e(record.label).to("to").property(ID, record.id)
        for name, value in record.properties.items():
            step = step.property(name, value)
        self._edge_ids[record.id] = step.id_().next()
        report.edges_added += 1

    @staticmethod
    def _set_properties(step, properties: dict) -> None:
        if properties:
            for name, value in properties.items():
                step = step.property(name, value)
            step.iterate()

    def _apply_removed(self, folder: Path, report: LoadReport) -> None:
        for name, find in (("edges", self.edge), ("vertices", self.vertex)):
            path = folder / f"{name}.csv"
            rows = list(csv.DictReader(path.open(newline="", encoding="utf-8"), strict=True)) if path.is_file() else []
            for row in rows:
                element = find(row[ID])
                if element is not None:
                    (self.g.E(element) if name == "edges" else self.g.V(element)).drop().iterate()
                    (self._edge_ids if name == "edges" else self._vertex_ids).pop(row[ID], None)
            report.removed[name] = len(rows)
        self._edge_ids.clear()       # a dropped vertex took its edges with it
        path = folder / "properties.csv"
        rows = list(csv.DictReader(path.open(newline="", encoding="utf-8"), strict=True)) if path.is_file() else []
        for row in rows:
            element = self.vertex(row[ID]) if row["kind"] == "vertex" else self.edge(row[ID])
            if element is not None:
                start = self.g.V(element) if row["kind"] == "vertex" else self.g.E(element)
                start.properties(row["property"]).drop().iterate()
        report.removed["properties"] = len(rows)

    # --- reading the whole graph (tests compare graphs with this) ------------------------

    def snapshot(self) -> tuple[dict, dict]:
        """({~id: (label, properties)}, {~id: (label, from ~id, to ~id, properties)})."""
        vertices, by_internal = {}, {}
        for element in self.g.V().element_map().to_list():
            properties = {k: v for k, v in element.items() if isinstance(k, str) and k != ID}
            vertices[element[ID]] = (element[T.label], properties)
            by_internal[element[T.id]] = element[ID]
        edges = {}
        for element in self.g.E().element_map().to_list():
            properties = {k: v for k, v in element.items() if isinstance(k, str) and k != ID}
            edges[element[ID]] = (element[T.label], by_internal[element[Direction.OUT][T.id]],
                                  by_internal[element[Direction.IN][T.id]], properties)
        return vertices, edges


def manifest(export_dir: Path) -> dict:
    return json.loads((Path(export_dir) / MANIFEST_NAME).read_text())

