"""Batch manifests: the commit record of a landing batch and the memory of what landed.

A batch becomes part of the raw zone when its manifest exists; a batch folder without one
is the remnant of a crash and is removed before the next landing.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST_DIR = "_manifests"


@dataclass
class FileReport:
    source_file: str            # path inside the landing folder
    sha256: str
    source: str | None          # None when the file name is not recognised
    table: str | None
    status: str                 # landed | quarantined | skipped
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    quarantine_file: str | None = None   # relative to <home>
    first_reasons: tuple[str, ...] = ()  # a few reasons, for the summary
    note: str = ""
    dialect: str | None = None           # a declared source dialect the file was read in

    def quarantined_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else float(self.status == "quarantined")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(raw_root: Path, batch_id: str) -> Path:
    return raw_root / MANIFEST_DIR / f"batch={batch_id}.json"


def committed_batches(raw_root: Path) -> list[str]:
    folder = raw_root / MANIFEST_DIR
    if not folder.is_dir():
        return []
    return sorted(p.stem.removeprefix("batch=") for p in folder.glob("batch=*.json"))


def read_manifest(raw_root: Path, batch_id: str) -> dict:
    return json.loads(manifest_path(raw_root, batch_id).read_text())


def landed_checksums(raw_root: Path) -> dict[str, str]:
    """sha256 -> batch id, for every file any committed batch took (landed or quarantined)."""
    seen = {}
    for batch_id in committed_batches(raw_root):
        for entry in read_manifest(raw_root, batch_id)["files"]:
            seen.setdefault(entry["sha256"], batch_id)
    return seen


def write_manifest(raw_root: Path, batch_id: str, landed_at: str, files: list[FileReport]) -> Path:
    target = manifest_path(raw_root, batch_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "batch_id": batch_id,
        "landed_at": landed_at,
        "files": [asdict(f) | {"first_reasons": list(f.first_reasons)} for f in files],
    }
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(body, indent=2) + "\n")
    os.replace(temporary, target)  # the commit point of the batch
    return target
