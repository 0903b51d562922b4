"""What a reader hands back for one delivered file: counts, rejected records, notes."""
from __future__ import annotations

from dataclasses import dataclass, field

TRUNCATED = "the file ends in the middle of this record (no line ending after it): a cut-off delivery"


class FileRejected(Exception):
    """The whole file is unusable (empty, wrong header, compressed...): it is quarantined whole."""

    def __init__(self, reason: str, records: int | None = None):
        super().__init__(reason)
        self.records = records  # how many records the file holds, when that can be told


@dataclass(frozen=True)
class Rejection:
    line: int               # physical line where the record starts (JSON array: position)
    reason: str
    record: str | None = None  # the record as text a person can read


@dataclass
class FileOutcome:
    rows_read: int
    rows_landed: int
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dialect: str | None = None

    def add(self, other: "FileOutcome") -> None:
        self.rows_read += other.rows_read
        self.rows_landed += other.rows_landed
        self.rejections += other.rejections
        self.notes += other.notes
