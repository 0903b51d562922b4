"""Physical lines of a delivered file, found with numpy rather than a Python loop.

The CSV and JSON readers report good rows without their line numbers; this index is what
lets every landed row carry `_source_line` and every quarantined record name its line.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

_LF, _CR = 10, 13


@dataclass(frozen=True)
class LineIndex:
    data: np.ndarray        # the file's bytes
    starts: np.ndarray      # byte offset where each line starts (int64)
    ends: np.ndarray        # byte offset after each line's text, line ending excluded
    blank: np.ndarray       # True where a line is empty (DuckDB's CSV reader skips those)
    ends_with_newline: bool # False: the last line was cut off (or never terminated)

    @property
    def count(self) -> int:
        return len(self.starts)

    @property
    def numbers(self) -> np.ndarray:
        """1-based physical line numbers."""
        return np.arange(1, self.count + 1, dtype=np.int64)

    def text(self, line_number: int) -> str:
        """One line as text a person can read; undecodable bytes shown as escapes."""
        i = line_number - 1
        raw = self.data[self.starts[i]:self.ends[i]].tobytes()
        return raw.decode("utf-8", errors="backslashreplace")

    def as_arrow(self) -> pa.Table:
        """(line_no, raw, blank), raw zero-copy over the file's bytes (line ending included)."""
        offsets = np.append(self.starts, len(self.data)).astype(np.int64)
        raw = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), self.count, [None, pa.py_buffer(offsets), pa.py_buffer(self.data)]
        )
        return pa.table({"line_no": pa.array(self.numbers), "raw": raw, "blank": pa.array(self.blank)})


def index_lines(path: Path) -> LineIndex:
    data = np.fromfile(path, dtype=np.uint8)
    newlines = np.flatnonzero(data == _LF)
    ends_with_newline = len(data) == 0 or data[-1] == _LF
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [len(data)])).astype(np.int64)
    if ends_with_newline:  # the empty tail after the final line ending is not a line
        starts, ends = starts[:-1], ends[:-1]
    has_cr = (ends > starts) & (data[np.maximum(ends - 1, 0)] == _CR)
    ends = ends - has_cr
    return LineIndex(data, starts, ends, ends == starts, bool(ends_with_newline))
