"""One streaming read of a delivered file: its checksum and the facts landing decides on.

The checksum must be read anyway; counting line endings in the same read costs almost
nothing (bytes.count runs at memory speed) and lets landing prove, per file, that the rows
DuckDB parsed plus the rows it rejected are exactly the file's lines.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 8 << 20
HEAD_LIMIT = 1 << 20
BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FileScan:
    sha256: str
    size: int
    mtime_ns: int
    lf: int                 # line feeds
    crlf: int               # CR LF pairs
    cr: int                 # carriage returns (paired or not)
    has_blank_line: bool    # an empty line (or one holding only CR) somewhere
    ends_with_newline: bool
    head: bytes             # the first line, line ending excluded (at most 1 MiB)

    @property
    def lines(self) -> int:
        """Physical lines: a last line without a line ending still counts."""
        return self.lf + (0 if self.ends_with_newline or self.size == 0 else 1)

    @property
    def gzip(self) -> bool:
        return self.head.startswith(GZIP_MAGIC)

    @property
    def uniform_line_endings(self) -> bool:
        """All LF, or all CRLF (no lone CR, no LF without its CR)."""
        return self.cr == 0 or (self.cr == self.crlf == self.lf)

    def first_line_text(self) -> str:
        return self.head.removeprefix(BOM).decode("utf-8", errors="backslashreplace")

    def unchanged(self, path: Path) -> bool:
        """False when the file was rewritten or appended to since it was scanned."""
        now = path.stat()
        return now.st_size == self.size and now.st_mtime_ns == self.mtime_ns


def scan_file(path: Path) -> FileScan:
    before = path.stat()
    digest = hashlib.sha256()
    lf = crlf = cr = size = 0
    blank = False
    head, head_done = b"", False
    previous = b"\n"  # a blank first line counts as blank
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            size += len(block)
            lf += block.count(b"\n")
            cr += block.count(b"\r")
            crlf += block.count(b"\r\n") + (previous[-1:] == b"\r" and block[:1] == b"\n")
            if not blank:
                joined = previous[-2:] + block[:2]  # a blank line across the block boundary
                blank = any(pattern in text for pattern in (b"\n\n", b"\n\r\n") for text in (block, joined))
            if not head_done:
                end = block.find(b"\n")
                head += block if end < 0 else block[:end]
                head_done = end >= 0 or len(head) >= HEAD_LIMIT
            previous = block
    head = head[:HEAD_LIMIT].removesuffix(b"\r")
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or size != after.st_size:
        raise FileChanged(path, before.st_size, after.st_size)
    return FileScan(digest.hexdigest(), size, after.st_mtime_ns, lf, crlf, cr, blank,
                    size == 0 or previous.endswith(b"\n"), head)


class FileChanged(Exception):
    """The file changed while it was read: it is probably still being written."""

    def __init__(self, path: Path, size_before: int, size_after: int):
        super().__init__(
            f"the file changed while it was being read (size {size_before:,} -> {size_after:,}"
            " bytes): it is probably still being written; deliver it complete (write it under"
            " a hidden name, then rename it into the folder) and land again")
        self.path = path
