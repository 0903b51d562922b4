"""Part files: one element set's records, split so that no file exceeds the size limit, each
part starting with the header (a loader reads every file on its own).

DuckDB has encoded the records; this module only decides where a part ends — greedily, by
the records' byte lengths, one NumPy search per part — and streams the bytes out.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from c360.graph.formats import LINE_END

LINE_END_BYTES = len(LINE_END.encode())


class RecordTooLargeError(ValueError):
    """One record alone, with the header, is larger than the part size limit."""


@dataclass
class PartFile:
    path: Path
    records: int
    bytes: int


class _PartWriter:
    def __init__(self, folder: Path, stem: str, header: str, max_bytes: int):
        self.folder, self.stem, self.max_bytes = folder, stem, max_bytes
        self.header = (header + LINE_END).encode()
        if len(self.header) >= max_bytes:
            raise RecordTooLargeError(f"{stem}: the header alone ({len(self.header)} bytes) exceeds the"
                                      f" part size limit of {max_bytes} bytes")
        self.parts: list[PartFile] = []
        self.handle = None

    def _open(self) -> None:
        path = self.folder / f"{self.stem}-{len(self.parts) + 1:05d}.csv"
        self.handle = path.open("wb")
        self.handle.write(self.header)
        self.parts.append(PartFile(path, 0, len(self.header)))

    def _close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def write(self, lines: pa.Array) -> None:
        sizes = pc.binary_length(lines.cast(pa.binary())).to_numpy(zero_copy_only=False) + LINE_END_BYTES
        start = 0
        while start < len(sizes):
            if self.handle is None:
                self._open()
            part = self.parts[-1]
            fitting = int(np.searchsorted(np.cumsum(sizes[start:]), self.max_bytes - part.bytes, side="right"))
            if fitting == 0:
                if part.records == 0:
                    first = lines[start].as_py()[:80]
                    raise RecordTooLargeError(
                        f"{self.stem}: record {first!r}... is {int(sizes[start])} bytes; with the header it"
                        f" exceeds the part size limit of {self.max_bytes} bytes (raise --max-file-mb)")
                self._close()
                continue
            chunk = lines.slice(start, fitting).to_pylist()
            data = (LINE_END.join(chunk) + LINE_END).encode()
            self.handle.write(data)
            part.records += fitting
            part.bytes += len(data)
            start += fitting

    def finish(self) -> list[PartFile]:
        self._close()
        return self.parts


def write_parts(folder: Path, stem: str, header: str, batches: Iterable[pa.Array],
                max_bytes: int) -> list[PartFile]:
    """Write the records of `batches` (string arrays, in order) to `<folder>/<stem>-NNNNN.csv`."""
    folder.mkdir(parents=True, exist_ok=True)
    writer = _PartWriter(folder, stem, header, max_bytes)
    try:
        for lines in batches:
            writer.write(lines)
    finally:
        parts = writer.finish()
    return parts
