"""Declared source dialects: a feed known to be delivered in a non-standard form.

Landing is strict by default. A deployment declares, in `<home>/sources.toml`, that a
source table's feed comes in a known other form; landing then reads that form safely,
records in the manifest that it did, and still quarantines whatever does not parse:

    [crm.client]
    dialect = "python_dict_literals"          # each line one Python dict literal
    updated_at = "export_time_in_file_name"   # records without updated_at get the export time

`python_dict_literals` is parsed with Python's own parser (`ast.parse`), never evaluated:
only a dict whose keys are strings and whose values are strings, numbers, booleans or None
is accepted; anything else (a call, a name, a nested container) is rejected with a reason.
"""
from __future__ import annotations

import ast
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

DECLARATIONS = "sources.toml"
KNOWN_DIALECTS = ("python_dict_literals",)
KNOWN_UPDATED_AT = ("export_time_in_file_name",)
_EXPORT_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})")


class DialectDeclarationError(ValueError):
    """`sources.toml` names a dialect or option landing does not know."""


@dataclass(frozen=True)
class Dialect:
    name: str
    updated_at: str | None = None

    @property
    def note(self) -> str:
        note = f"read as declared in {DECLARATIONS}: dialect {self.name}"
        if self.updated_at:
            note += ", updated_at taken from the export time in the file name where a record has none"
        return note

    def to_json(self, text: str) -> tuple[str | None, str | None]:
        """The record as JSON text, or the reason it is not a safe dict literal."""
        try:
            return json.dumps(parse_dict_literal(text), ensure_ascii=False), None
        except ValueError as error:
            return None, f"not a Python dict literal of strings, numbers, booleans and None ({error})"

    def complete(self, record: dict, source_file: str) -> dict:
        if self.updated_at == "export_time_in_file_name" and record.get("updated_at") is None:
            stamp = export_time(source_file)
            if stamp:
                record = record | {"updated_at": stamp}
        return record


def export_time(source_file: str) -> str | None:
    """`crm0020240523-064013.json` -> `2024-05-23T06:40:13` (the export's own time)."""
    found = _EXPORT_TIME.search(PurePosixPath(source_file).name)
    if not found:
        return None
    y, mo, d, h, mi, s = found.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}"


def parse_dict_literal(text: str) -> dict:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"syntax error at column {error.offset}") from None
    if not isinstance(tree.body, ast.Dict):
        raise ValueError(f"a {type(tree.body).__name__} expression, not a dict")
    record = {}
    for key, value in zip(tree.body.keys, tree.body.values):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise ValueError("a key that is not a string")
        record[key.value] = _scalar(value, key.value)
    return record


def _scalar(node: ast.expr, key: str):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        node, sign = node.operand, -1
    else:
        sign = 1
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (str, bool, int, float))):
        if sign == -1:
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ValueError(f"value of {key!r} is not a literal")
            return -node.value
        return node.value
    raise ValueError(f"value of {key!r} is not a string, number, boolean or None")


def declared_dialects(home: Path) -> dict[tuple[str, str], Dialect]:
    """(source, table) -> Dialect, from `<home>/sources.toml` (nothing declared: strict)."""
    path = Path(home) / DECLARATIONS
    if not path.is_file():
        return {}
    try:
        body = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise DialectDeclarationError(f"{path}: not valid TOML ({error})") from None
    dialects = {}
    for source, tables in body.items():
        for table, options in (tables or {}).items():
            name = options.get("dialect")
            if name not in KNOWN_DIALECTS:
                raise DialectDeclarationError(
                    f"{path}: [{source}.{table}] dialect {name!r} is not one of {', '.join(KNOWN_DIALECTS)}")
            updated_at = options.get("updated_at")
            if updated_at is not None and updated_at not in KNOWN_UPDATED_AT:
                raise DialectDeclarationError(
                    f"{path}: [{source}.{table}] updated_at {updated_at!r} is not one of {', '.join(KNOWN_UPDATED_AT)}")
            dialects[(source, table)] = Dialect(name, updated_at)
    return dialects
