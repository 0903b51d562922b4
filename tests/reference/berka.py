"""The real shared data read in plain Python, for independent checks of the marts.

Nothing here imports the c360 package or reads a model: the files are parsed with the
standard library by the rules of ../shared/data/README.md, so a test that compares a mart
with what is computed from these readers checks the models against the data itself.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path


def asc_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a Berka .asc file; a last line without its CRLF (the cut-off trans.asc) is dropped."""
    raw = path.read_bytes().decode("latin-1")
    lines = raw.split("\r\n")
    if not raw.endswith("\r\n"):
        lines = lines[:-1]
    reader = csv.reader((line for line in lines if line), delimiter=";", quotechar='"')
    header = next(reader)
    return [dict(zip(header, (v.strip() for v in row))) for row in reader]


def yymmdd(text: str) -> date:
    """Berka event dates: YYMMDD, all in the 1990s (card.issued carries ' 00:00:00')."""
    text = text.strip()[:6]
    return date(1900 + int(text[:2]), int(text[2:4]), int(text[4:6]))


def birth(birth_number: str) -> tuple[date, str]:
    """Birth date and gender from a birth number: for women the month is +50."""
    yy, mm, dd = int(birth_number[:2]), int(birth_number[2:4]), int(birth_number[4:6])
    return (date(1900 + yy, mm - 50, dd), "female") if mm > 50 else (date(1900 + yy, mm, dd), "male")


def whole_years(start: date, end: date) -> int:
    """Whole years from start to end: one less until the anniversary has come."""
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


@dataclass
class Berka:
    clients: list[dict[str, str]]
    districts: dict[str, dict[str, str]]
    accounts: dict[str, dict[str, str]]
    dispositions: list[dict[str, str]]
    cards: list[dict[str, str]]
    loans: list[dict[str, str]]
    orders: list[dict[str, str]]
    transactions: list[dict[str, str]]


def read_berka(shared: Path) -> Berka:
    berka = shared / "berka"
    return Berka(
        clients=asc_rows(berka / "client.asc"),
        districts={d["A1"]: d for d in asc_rows(berka / "district.asc")},
        accounts={a["account_id"]: a for a in asc_rows(berka / "account.asc")},
        dispositions=asc_rows(berka / "disp.asc"),
        cards=asc_rows(berka / "card.asc"),
        loans=asc_rows(berka / "loan.asc"),
        orders=asc_rows(berka / "order.asc"),
        transactions=asc_rows(berka / "trans.asc"),
    )


def read_visitor_links(shared: Path) -> set[tuple[str, str]]:
    """(fullVisitorId, client_id) pairs of the web-visitor map (no header; duplicates collapse)."""
    links = set()
    path = shared / "c360-workshop" / "visitors" / "ga_visitors.csv"
    with path.open(newline="") as handle:
        for row in csv.reader(handle):
            if row and row[0] != "fullVisitorId":
                links.add((row[0].strip(), row[1].strip()))
    return links


def read_ga_sessions(shared: Path) -> dict[tuple[str, int, str], dict]:
    """GA sessions by their key (fullVisitorId, visitId, date YYYYMMDD), parsed with json."""
    sessions = {}
    for path in sorted((shared / "c360-workshop" / "ga").glob("ga_sessions_*.json")):
        for line in path.read_text().splitlines():
            if line.strip():
                session = json.loads(line)
                sessions[(session["fullVisitorId"], session["visitId"], session["date"])] = session
    return sessions


def attributed_visitors(links: set[tuple[str, str]], known_clients: set[str]) -> dict[str, str]:
    """The identity rule of the README: a visitor linked to exactly one known client is that
    client's; links to unknown ids do not count, several known clients attribute to none."""
    candidates: dict[str, set[str]] = {}
    for visitor, client in links:
        if client in known_clients:
            candidates.setdefault(visitor, set()).add(client)
    return {visitor: next(iter(clients)) for visitor, clients in candidates.items() if len(clients) == 1}
