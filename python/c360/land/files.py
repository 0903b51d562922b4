"""What landing may take from the landing folder: regular files inside it, nothing else.

A symbolic link could point anywhere on the machine (a system file would be copied into the
quarantine, a well-formed file elsewhere would be published), and a named pipe or device can
block a reader forever, so they are refused with a reason and never opened.
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Refused:
    path: Path
    relative: str
    reason: str

    @property
    def fingerprint(self) -> str:
        """Stands in for a checksum: the same refused entry is reported once, not every run."""
        return hashlib.sha256(f"refused:{self.relative}:{self.reason}".encode()).hexdigest()


def delivered_files(landing: Path) -> tuple[list[Path], list[Refused]]:
    """Regular files under `landing` (hidden names skipped), and the entries refused."""
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    files, refused = [], []
    for folder, dirnames, filenames in os.walk(landing, followlinks=False):
        base = Path(folder)
        for name in sorted(dirnames):
            if (base / name).is_symlink():  # os.walk does not descend into it; say so
                refused.append(_refuse(base / name, landing, "a symbolic link to a folder"))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = base / name
            kind = _kind(path)
            if kind == "file":
                files.append(path)
            else:
                refused.append(_refuse(path, landing, kind))
    return sorted(files), sorted(refused, key=lambda r: r.relative)


def _kind(path: Path) -> str:
    mode = path.lstat().st_mode
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return f"a symbolic link (to {os.readlink(path)})"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device or other special file"


def _refuse(path: Path, landing: Path, kind: str) -> Refused:
    return Refused(path, path.relative_to(landing).as_posix(),
                   f"refused: {kind}; landing takes regular files inside the landing folder"
                   " only (copy the file itself into the folder)")
