"""`c360 quarantine release`: repaired records land in a new batch, through the same gates.

A release takes the quarantined records of one delivered file (all of them, or `lines`),
applies a repair, and writes them as a new file in a landing folder of its own
(`<home>/quarantine/releases/<release id>/landing/<source>/<name>.release-<release id><ext>`,
which still matches the source's file-name pattern). `c360.land.land_directory` lands that
folder exactly as it lands a delivery: same readers, same quarantine rules, same manifest. The
next `c360 run` passes the batch through the raw, staging and marts gates like any other.

The repairs, declared and recorded in the release:
  * `corrected`: a file holding the repaired records, one per selected record and in their
    order (a quarantined whole file: the corrected file, whole);
  * `replace`: literal text substitutions applied to each selected record (or the whole file);
  * `as_is`: no change, e.g. after an upgrade of c360 whose reader now takes the record.

First the release file is landed into a scratch home: records landing would quarantine again
are reported with their reason and stay quarantined (a whole file must land completely).
Only the records that pass are landed into the home, under its lock. The release is written
`pending` before that landing and `landed` after it; a pending release a crash left behind
is settled by the next quarantine command from the raw zone's manifests (c360.quarantine
.ledger derives every record's state from them).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from c360.home_lock import hold_home
from c360.land import land_directory, match_source_table
from c360.land.manifest import committed_batches, read_manifest
from c360.quarantine.ledger import (
    Item, QuarantineError, Record, files_taken, find_item, read_releases, releases_dir,
    write_release,
)


@dataclass(frozen=True)
class Repair:
    kind: str                                   # corrected | replace | as_is
    corrected: Path | None = None
    replace: tuple[tuple[str, str], ...] = ()

    def describe(self) -> dict:
        if self.kind == "corrected":
            return {"kind": "corrected", "file": str(self.corrected.resolve()),
                    "sha256": hashlib.sha256(self.corrected.read_bytes()).hexdigest()}
        if self.kind == "replace":
            return {"kind": "replace", "replace": [list(pair) for pair in self.replace]}
        return {"kind": "as_is"}

    def apply(self, texts: list[str], *, whole_file: bool) -> list[str]:
        if self.kind == "corrected":
            return _corrected_texts(self.corrected, len(texts), whole_file)
        repaired = []
        for text in texts:
            for old, new in self.replace:
                text = text.replace(old, new)
            repaired.append(text)
        return repaired


@dataclass
class ReleaseOutcome:
    home: Path
    release_id: str
    item: Item
    batch_id: str | None
    released: list[tuple[Record, int]]          # (original record, line in the release file)
    refused: list[tuple[Record, str]]           # (original record, why landing refuses it still)
    release_file: str | None

    def describe(self) -> str:
        lines = [f"release {self.release_id} of {self.item.item_id}:"]
        if self.batch_id:
            lines.append(f"  {self._count(len(self.released))} landed in batch {self.batch_id} as"
                         f" {self.release_file}")
            lines.append(f"  lineage (release file line -> delivered file line):"
                         f" {releases_dir(self.home) / self.release_id / 'release.json'}")
            lines.append("  the next `c360 run` passes the batch through the raw, staging and marts"
                         " gates and publishes it")
        for record, why in self.refused:
            where = f"line {record.line}" if record.line is not None else "the file"
            lines.append(f"  still refused, {where} stays quarantined: {why}")
        if not self.batch_id:
            lines.append("  nothing was released")
        return "\n".join(lines)

    def _count(self, n: int) -> str:
        if self.item.whole_file:
            return f"the whole file ({self.item.rows_read:,} rows as delivered)"
        return f"{n:,} record" + ("s" if n != 1 else "")


def release(home: Path, wanted: str, repair: Repair, *, lines: list[int] | None = None,
            deliver_as: str | None = None) -> ReleaseOutcome:
    """Release the quarantined records of one delivered file after `repair`; see the module."""
    home = Path(home).resolve()
    with hold_home(home, "c360 quarantine release"):
        settle_pending(home)
        item = find_item(home, wanted)
        records = _selected(item, lines)
        release_id = _new_release_id(home)
        relative = _release_name(item, release_id, deliver_as)
        texts = repair.apply(_texts(item, records), whole_file=item.whole_file)
        landing = releases_dir(home) / release_id / "landing"
        passed, refused = _trial(item, records, texts, relative)
        if not passed:
            return ReleaseOutcome(home, release_id, item, None, [], refused, None)
        _write_release_file(landing / relative, item, [t for _, t in passed])
        sha256 = hashlib.sha256((landing / relative).read_bytes()).hexdigest()
        taken = files_taken(home).get(sha256)
        if taken:
            raise QuarantineError(
                f"the repaired content is byte for byte a file batch {taken} took already, and landing"
                " takes a content once: a release must change it (--corrected or --replace)")
        body = {"release_id": release_id, "state": "pending", "created_at": _utc_now(),
                "origin": {"batch_id": item.batch_id, "source_file": item.source_file,
                           "quarantine_file": str(item.quarantine_file.relative_to(home))},
                "repair": repair.describe(), "release_file": relative,
                "sha256": sha256,
                "records": [{"line": r.line, "release_line": line, "reason": r.reason}
                            for (r, _), line in zip(passed, _release_lines(item, len(passed)))],
                "refused": [{"line": r.line, "reason": why} for r, why in refused]}
        write_release(home, body)
        before = set(committed_batches(home / "raw"))
        land_directory(landing, home)
        body["batch_id"] = _landed_batch(home, before, body)
        body["state"] = "landed"
        write_release(home, body)
        released = [(r, line) for (r, _), line in zip(passed, _release_lines(item, len(passed)))]
        return ReleaseOutcome(home, release_id, item, body["batch_id"], released, refused, relative)


def settle_pending(home: Path) -> None:
    """A release written `pending` whose landing was interrupted: `landed` if a committed
    batch took its file, else `abandoned` (kept, with why). Readers derive the same answer
    (c360.quarantine.ledger); this writes it down."""
    taken = files_taken(home)
    for body in read_releases(home):
        if body.get("state") != "pending":
            continue
        if body["sha256"] in taken:
            body["batch_id"], body["state"] = taken[body["sha256"]], "landed"
        else:
            body["state"] = "abandoned"
            body["note"] = "the landing of this release was interrupted before its batch was committed"
        write_release(home, body)


def _selected(item: Item, lines: list[int] | None) -> list[Record]:
    waiting = [r for r in item.records if not r.released]
    if item.whole_file:
        if lines:
            raise QuarantineError(f"{item.item_id} was kept aside whole: release the whole file (no --line)")
        if not waiting:
            raise QuarantineError(f"{item.item_id} was released already: {item.records[0].released}")
        return waiting
    if lines:
        by_line = {r.line: r for r in item.records}
        unknown = [n for n in lines if n not in by_line]
        if unknown:
            raise QuarantineError(f"{item.item_id}: no quarantined record at line(s) {unknown}")
        done = [n for n in lines if by_line[n].released]
        if done:
            raise QuarantineError(f"{item.item_id}: line(s) {done} were released already")
        return [by_line[n] for n in lines]
    if not waiting:
        raise QuarantineError(f"{item.item_id}: every quarantined record was released already")
    return waiting


def _texts(item: Item, records: list[Record]) -> list[str]:
    if item.whole_file:
        return [item.copy.read_bytes().decode("utf-8", errors="backslashreplace")]
    missing = [r.line for r in records if r.text is None]
    if missing:
        raise QuarantineError(f"{item.item_id}: the quarantine holds no text for line(s) {missing}")
    return [r.text for r in records]


def _corrected_texts(path: Path, wanted: int, whole_file: bool) -> list[str]:
    if not path.is_file():
        raise QuarantineError(f"corrected file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    if whole_file:
        return [text]
    records = [line.rstrip("\r") for line in text.split("\n")]
    if records and records[-1] == "":
        records.pop()
    if len(records) != wanted:
        raise QuarantineError(f"{path}: {len(records)} line(s), but {wanted} record(s) are selected:"
                              " one corrected record per line, in the order `c360 quarantine show` lists"
                              " them (or choose records with --line)")
    return records


def _release_name(item: Item, release_id: str, deliver_as: str | None) -> str:
    """`<source>/<stem>.release-<id><suffix>`: it still matches the source's file pattern and
    names the release in every landed row's `_source_file`."""
    original = PurePosixPath(deliver_as or item.source_file)
    if match_source_table(str(original)) is None:
        raise QuarantineError(
            f"{original} is not a file name the landing recognises (README: the raw zone)"
            + ("" if deliver_as else "; give the name it should have been delivered under with --as"))
    name = f"{original.stem}.release-{release_id}{original.suffix}"
    relative = str(original.with_name(name))
    if match_source_table(relative) is None or match_source_table(relative) != match_source_table(str(original)):
        raise QuarantineError(f"cannot name a release of {original} so that it lands in the same table")
    return relative


def _has_header(item: Item, relative: str) -> bool:
    spec = match_source_table(relative)
    return spec is not None and spec.delimited and not item.whole_file


def _write_release_file(path: Path, item: Item, texts: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    relative = "/".join(path.parts[-2:])
    if item.whole_file:  # line endings as LF: the copy kept aside stays the evidence of what came
        path.write_text(texts[0].replace("\r\n", "\n"), encoding="utf-8")
        return
    header = []
    if _has_header(item, relative):
        spec = match_source_table(relative)
        header = [spec.sep.join(spec.columns)]
    path.write_text("\n".join(header + texts) + "\n", encoding="utf-8")


def _release_lines(item: Item, n: int) -> list[int | None]:
    """The physical line each released record has in the release file."""
    if item.whole_file:
        return [None] * n
    spec = match_source_table(item.source_file)
    first = 2 if spec is not None and spec.delimited else 1
    return list(range(first, first + n))


def _trial(item: Item, records: list[Record], texts: list[str],
           relative: str) -> tuple[list[tuple[Record, str]], list[tuple[Record, str]]]:
    """Land the repaired records into a scratch home: which pass, which are refused and why."""
    with tempfile.TemporaryDirectory(prefix="c360-release-trial-") as scratch:
        scratch = Path(scratch)
        _write_release_file(scratch / "landing" / relative, item, texts)
        land_directory(scratch / "landing", scratch / "home")
        (batch_id,) = committed_batches(scratch / "home" / "raw")
        (entry,) = read_manifest(scratch / "home" / "raw", batch_id)["files"]
        refusals = _refusals(scratch / "home", entry)
    if item.whole_file:
        if entry["rows_quarantined"]:
            reasons = "; ".join(f"line {line}: {why}" if line else why for line, why in refusals.items())
            return [], [(records[0], f"the corrected file still has {entry['rows_quarantined']:,} record(s)"
                                     f" landing refuses ({reasons[:600]})")]
        return [(records[0], texts[0])], []
    lines = _release_lines(item, len(records))
    passed, refused = [], []
    for record, text, line in zip(records, texts, lines):
        why = refusals.get(line) or refusals.get(None)
        if why:
            refused.append((record, why))
        else:
            passed.append((record, text))
    return passed, refused


def _refusals(home: Path, entry: dict) -> dict[int | None, str]:
    if not entry.get("quarantine_file"):
        return {}
    refusals = {}
    for line in (home / entry["quarantine_file"]).read_text(encoding="utf-8").splitlines():
        if line.strip():
            kept = json.loads(line)
            refusals[kept.get("line")] = kept["reason"]
    return refusals


def _landed_batch(home: Path, before: set[str], body: dict) -> str:
    new = [b for b in committed_batches(home / "raw") if b not in before]
    for batch_id in new:
        for entry in read_manifest(home / "raw", batch_id)["files"]:
            if entry["sha256"] == body["sha256"]:
                return batch_id
    raise QuarantineError(f"the release file {body['release_file']} did not land (the raw zone took"
                          " the same content before?): nothing was released")


def _new_release_id(home: Path) -> str:
    release_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    if (releases_dir(home) / release_id).exists():
        raise QuarantineError(f"release {release_id} exists already; try again")
    return release_id


def _utc_now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


