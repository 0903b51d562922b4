"""Records kept aside: one JSON line per record, with file, line and a reason a person reads."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from c360.land.records import Rejection


def write_rejections(target: Path, source_file: str, rejections: list[Rejection]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as out:
        for rejection in rejections:
            out.write(json.dumps({
                "source_file": source_file,
                "line": rejection.line,
                "reason": rejection.reason,
                "record": rejection.record,
            }) + "\n")


def keep_whole_file(source: Path, target_folder: Path, source_file: str, reason: str,
                    rows: int) -> Path:
    """A file that cannot be read at all is copied aside byte for byte, with its reason."""
    target_folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target_folder / source.name)
    reason_file = target_folder / f"{source.name}.jsonl"
    reason_file.write_text(json.dumps({
        "source_file": source_file, "line": None, "reason": reason, "record": None,
        "rows": rows, "copy": source.name,
    }) + "\n")
    return reason_file


def note_refused(target_folder: Path, source_file: str, reason: str) -> Path:
    """An entry landing will not open (a link, a pipe, a file still being written): only its
    reason is kept, never its content."""
    target_folder.mkdir(parents=True, exist_ok=True)
    reason_file = target_folder / f"{Path(source_file).name}.jsonl"
    reason_file.write_text(json.dumps({
        "source_file": source_file, "line": None, "reason": reason, "record": None,
        "rows": 0, "copy": None,
    }) + "\n")
    return reason_file
