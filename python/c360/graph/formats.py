"""The two Neptune bulk-load CSV formats: Gremlin (`csv`) and openCypher (`opencypher`).

Both are RFC 4180 CSV in UTF-8 with a header row; they differ only in the names of the system
columns and of one type. DuckDB encodes every value (SQL built here): a string is always
quoted with its quotes doubled, so commas, quotes and line breaks inside it survive, and an
empty string (`""`) stays distinct from a NULL, which is an empty field — the property is not
set, the rest of the record is untouched.
"""
from __future__ import annotations

from c360.graph.model import BOOL, DATE, DATETIME, DOUBLE, INT, STRING, ElementSet, Property

FORMATS = ("gremlin", "opencypher")
NEPTUNE_FORMAT = {"gremlin": "csv", "opencypher": "opencypher"}   # the loader's `format`

SYSTEM_COLUMNS = {
    ("gremlin", "vertex"): ("~id", "~label"),
    ("gremlin", "edge"): ("~id", "~from", "~to", "~label"),
    ("opencypher", "vertex"): (":ID", ":LABEL"),
    ("opencypher", "edge"): (":ID", ":START_ID", ":END_ID", ":TYPE"),
}
# Gremlin has one Date type for dates and date-times; openCypher calls it DateTime.
TYPE_NAMES = {
    "gremlin": {STRING: "String", INT: "Int", DOUBLE: "Double", BOOL: "Bool", DATE: "Date", DATETIME: "Date"},
    "opencypher": {STRING: "String", INT: "Int", DOUBLE: "Double", BOOL: "Bool", DATE: "DateTime",
                   DATETIME: "DateTime"},
}
LINE_END = "\r\n"                                  # RFC 4180


def header(element_set: ElementSet, fmt: str) -> str:
    columns = list(SYSTEM_COLUMNS[(fmt, element_set.kind)])
    for prop in element_set.properties:
        column = f"{prop.name}:{TYPE_NAMES[fmt][prop.type]}"
        # Gremlin vertex properties default to set cardinality: reloading a changed vertex would
        # add a second value instead of replacing it. Edges are always single.
        if fmt == "gremlin" and element_set.kind == "vertex":
            column += "(single)"
        columns.append(column)
    return ",".join(columns)


def quoted(expression: str) -> str:
    return f"""('"' || replace({expression}, '"', '""') || '"')"""


def field_sql(prop: Property) -> str:
    """SQL text of one property value as a CSV field ('' for NULL)."""
    column = f'"{prop.name}"'
    encoded = {
        STRING: quoted(f"cast({column} as varchar)"),
        INT: f"cast(cast({column} as bigint) as varchar)",
        DOUBLE: f"cast({column} as varchar)",          # a DECIMAL keeps its exact digits
        BOOL: f"cast(cast({column} as boolean) as varchar)",   # 'true' / 'false' / NULL
        DATE: f"strftime(cast({column} as date), '%Y-%m-%d')",
        DATETIME: f"strftime(cast({column} as timestamp), '%Y-%m-%dT%H:%M:%SZ')",
    }[prop.type]
    return f"coalesce({encoded}, '')"


def fields_sql(element_set: ElementSet) -> str:
    """The properties part of a record (format-independent): what decides 'changed'."""
    if not element_set.properties:
        return "''"
    return "concat_ws(',', " + ", ".join(field_sql(p) for p in element_set.properties) + ")"


def set_properties_sql(element_set: ElementSet) -> str:
    """The names of the properties an element has (not NULL), as a list."""
    if not element_set.properties:
        return "cast([] as varchar[])"
    names = ", ".join(f"""case when "{p.name}" is not null then '{p.name}' end""" for p in element_set.properties)
    return f"list_filter([{names}], name -> name is not null)"


def line_sql(element_set: ElementSet) -> str:
    """SQL text of a whole record from the columns id, from_id, to_id and fields."""
    ends = f" || ',' || {quoted('from_id')} || ',' || {quoted('to_id')}" if element_set.kind == "edge" else ""
    tail = " || ',' || fields" if element_set.properties else ""
    return f"{quoted('id')}{ends} || ',{element_set.label}'{tail}"
