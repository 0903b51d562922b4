"""What the bank drops, where, and in which format: the landing contract as data.

A file is recognised by its folder and name; everything else about how to read it follows
from its `SourceTable`.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import PurePosixPath

from c360.land.ga_schema import GA_REQUIRED, GA_SESSION


@dataclass(frozen=True)
class SourceTable:
    source: str                 # landing sub-folder and raw-zone source name
    table: str                  # raw-zone table name
    pattern: str                # file-name glob inside the source folder
    format: str                 # "delimited" | "json_records" | "ga_sessions"
    columns: tuple[str, ...]    # columns as delivered, in file order
    required: tuple[str, ...]   # a record without these cannot be keyed downstream
    sep: str = ";"
    header: str = "required"    # "required" | "optional" (delimited files only)

    @property
    def delimited(self) -> bool:
        return self.format == "delimited"


def _mainframe(table: str, *columns: str) -> SourceTable:
    return SourceTable("mainframe", table, f"{table}*.asc", "delimited", columns, columns[:1])


SOURCE_TABLES: tuple[SourceTable, ...] = (
    _mainframe("client", "client_id", "birth_number", "district_id"),
    _mainframe("account", "account_id", "district_id", "frequency", "date"),
    _mainframe("disp", "disp_id", "client_id", "account_id", "type"),
    _mainframe("card", "card_id", "disp_id", "type", "issued"),
    _mainframe("trans", "trans_id", "account_id", "date", "type", "operation", "amount",
               "balance", "k_symbol", "bank", "account"),
    _mainframe("loan", "loan_id", "account_id", "date", "amount", "duration", "payments",
               "status"),
    _mainframe("order", "order_id", "account_id", "bank_to", "account_to", "amount",
               "k_symbol"),
    SourceTable("reference", "district", "district*.asc", "delimited",
                tuple(f"A{i}" for i in range(1, 17)), ("A1",)),
    SourceTable("crm", "client", "*.json", "json_records",
                ("client_id", "birth_date", "age", "home_ownership", "occupation",
                 "marital_status", "head_of_household_flag", "client_created_date",
                 "updated_at"),
                ("client_id",)),
    SourceTable("ga", "session", "ga_sessions_[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]*.json",
                "ga_sessions", tuple(GA_SESSION), GA_REQUIRED),
    SourceTable("web", "visitor_map", "visitor_map*.csv", "delimited",
                ("fullVisitorId", "client_id"), ("fullVisitorId", "client_id"),
                sep=",", header="optional"),
)


def match_source_table(relative_path: str) -> SourceTable | None:
    """The table a landed file belongs to, from `<source>/<file name>`; None if unknown."""
    path = PurePosixPath(relative_path)
    if len(path.parts) != 2:
        return None
    folder, name = path.parts
    for spec in SOURCE_TABLES:
        if spec.source == folder and fnmatch.fnmatchcase(name, spec.pattern):
            return spec
    return None
