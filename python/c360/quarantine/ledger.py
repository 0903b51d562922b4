"""What the quarantine holds, and what has been released from it.

The quarantine itself is written by `c360 land` and never rewritten here: per batch, one
JSON-lines file per delivered file with quarantined records (`{source_file, line, reason,
record}`; a file kept aside whole has `line: null`, `rows` and `copy`), named by the batch's
manifest. Releases are recorded beside it, one folder per release:

    <home>/quarantine/releases/<release id>/release.json   what was released, how, into which batch
    <home>/quarantine/releases/<release id>/landing/...    the exact file that was landed

A record's state is derived, never stored twice: it is *released* when a landed release names
it and that release's batch is committed in the raw zone. If the raw gate later rejects the
release batch (it moves to `<home>/rejected/`), its records are quarantined again, and say so.
Counts therefore always add up, per delivered file: read = landed + quarantined + released.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from c360.land.manifest import committed_batches, read_manifest

RELEASES = "releases"


class QuarantineError(RuntimeError):
    """A quarantine command cannot do what was asked (unknown item, repair that does not fit)."""


@dataclass
class Record:
    line: int | None            # physical line in the delivered file; None: the whole file
    reason: str
    text: str | None            # the delivered text (None for a whole file: see `copy`)
    released: "Released | None" = None
    note: str = ""              # e.g. a release the raw gate rejected


@dataclass(frozen=True)
class Released:
    release_id: str
    batch_id: str
    as_file: str                # path of the landed release file, as `_source_file` says
    as_line: int | None         # its `_source_line`


@dataclass
class Item:
    """One delivered file with records in quarantine."""
    batch_id: str
    source_file: str            # path inside the landing folder it was delivered to
    source: str | None
    table: str | None
    rows_read: int
    rows_landed: int
    quarantine_file: Path       # the JSON lines landing wrote
    records: list[Record] = field(default_factory=list)
    copy: Path | None = None    # a file kept aside whole: the copy of its bytes

    @property
    def item_id(self) -> str:
        return f"{self.batch_id}/{self.source_file}"

    @property
    def whole_file(self) -> bool:
        return self.copy is not None

    @property
    def rows_released(self) -> int:
        return self._rows([r for r in self.records if r.released])

    @property
    def rows_quarantined(self) -> int:
        return self._rows([r for r in self.records if not r.released])

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_landed + self.rows_quarantined + self.rows_released

    def _rows(self, records: list[Record]) -> int:
        if self.whole_file:  # a whole file is one entry standing for all its rows
            return self.rows_read if records else 0
        return len(records)


def quarantined_items(home: Path) -> list[Item]:
    """Every delivered file of a committed batch with records in quarantine, oldest first."""
    home = Path(home)
    released = released_records(home)
    items = []
    for batch_id in committed_batches(home / "raw"):
        for entry in read_manifest(home / "raw", batch_id)["files"]:
            if not entry.get("rows_quarantined") or not entry.get("quarantine_file"):
                continue
            items.append(_item(home, batch_id, entry, released))
    return items


def find_item(home: Path, wanted: str) -> Item:
    """An item by its id (`<batch id>/<source file>`) or, when unambiguous, its source file."""
    items = quarantined_items(home)
    matches = [i for i in items if wanted in (i.item_id, i.source_file)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = "\n  ".join(i.item_id for i in items) or "(the quarantine is empty)"
        raise QuarantineError(f"no quarantined file {wanted!r} in {home}; quarantined files:\n  {known}")
    raise QuarantineError(f"{wanted!r} was delivered in several batches; name one:\n  "
                          + "\n  ".join(i.item_id for i in matches))


def releases_dir(home: Path) -> Path:
    return Path(home) / "quarantine" / RELEASES


def read_releases(home: Path) -> list[dict]:
    folder = releases_dir(home)
    if not folder.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*/release.json"))]


def write_release(home: Path, release: dict) -> Path:
    target = releases_dir(home) / release["release_id"] / "release.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(release, indent=2) + "\n")
    os.replace(temporary, target)
    return target


def released_records(home: Path) -> dict[tuple[str, str, int | None], tuple[Released | None, str]]:
    """(batch, source file, line) -> (where it was released to, or None when that release did
    not hold, and a note)."""
    home = Path(home)
    committed = set(committed_batches(home / "raw"))
    taken = None
    states = {}
    for release in read_releases(home):
        if release.get("state") == "pending":  # a landing a crash interrupted: did it commit?
            taken = taken if taken is not None else files_taken(home)
            release = release | {"batch_id": taken.get(release["sha256"]), "state": "landed"}
            if release["batch_id"] is None:
                continue
        if release.get("state") != "landed":
            continue
        origin = release["origin"]
        batch = release["batch_id"]
        for record in release["records"]:
            key = (origin["batch_id"], origin["source_file"], record["line"])
            if batch in committed:
                states[key] = (Released(release["release_id"], batch, release["release_file"],
                                        record["release_line"]), "")
            elif key not in states or states[key][0] is None:
                where = home / "rejected" / f"batch={batch}"
                why = (f"released by {release['release_id']} into batch {batch}, which the raw gate"
                       f" rejected ({where / 'verdict.json'})") if where.is_dir() else (
                       f"released by {release['release_id']} into batch {batch}, which is no longer"
                       " in the raw zone")
                states[key] = (None, why)
    return states


def files_taken(home: Path) -> dict[str, str]:
    """sha256 -> the committed batch that took a file of that content."""
    taken = {}
    for batch_id in committed_batches(Path(home) / "raw"):
        for entry in read_manifest(Path(home) / "raw", batch_id)["files"]:
            taken.setdefault(entry["sha256"], batch_id)
    return taken


def _item(home: Path, batch_id: str, entry: dict, released: dict) -> Item:
    quarantine_file = home / entry["quarantine_file"]
    item = Item(batch_id, entry["source_file"], entry.get("source"), entry.get("table"),
                int(entry.get("rows_read") or 0), int(entry.get("rows_landed") or 0), quarantine_file)
    with quarantine_file.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            kept = json.loads(line)
            record = Record(kept.get("line"), kept["reason"], kept.get("record"))
            if kept.get("line") is None and kept.get("copy"):
                item.copy = quarantine_file.parent / kept["copy"]
            record.released, record.note = released.get((batch_id, item.source_file, record.line), (None, ""))
            item.records.append(record)
    return item
