"""`c360 journey`: a client's journey in time order, answered by Gremlin traversals.

The graph is a gremlite database under `<home>/graph/journey/`, loaded from the exported
files and kept current the way the design keeps a live graph current: when the published
version changes, an incremental export (its own state, consumer `journey`) is written and
loaded. The first call loads everything; later calls load only what changed.

Each kind of event is one traversal from the client's vertex, ordered by its date in Gremlin:
accounts held (with the role), cards issued to the client, loans granted on accounts it owns,
and the sessions of its attributed web visitors with their page views in hit order. The
journey merges these four ordered streams into one.
"""
from __future__ import annotations

import heapq
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from gremlin_python.process.graph_traversal import __

from c360.graph.engine import ID, GraphStore
from c360.graph.export import export_graph, read_state, state_dir
from c360.publish import read_published

CONSUMER = "journey"


class ClientNotFoundError(LookupError):
    """The client id is not a vertex of the graph (not in the client master)."""


@dataclass
class PageView:
    hit_number: int
    viewed_at: str | None
    page_path: str


@dataclass
class JourneyEvent:
    at: str                  # ISO 8601 date or UTC date-time: sorts in time order as text
    kind: str                # account opened, card issued, loan granted, web session
    element_id: str
    detail: str
    pages: list[PageView] = field(default_factory=list)


def journey_dir(home: Path) -> Path:
    return Path(home) / "graph" / "journey"


def open_journey_graph(home: Path) -> GraphStore:
    """The local graph, current with the published version (loading an increment if not)."""
    home = Path(home)
    folder = journey_dir(home)
    loaded_path = folder / "loaded.json"
    published = read_published(home)
    loaded = json.loads(loaded_path.read_text()) if loaded_path.is_file() else None
    state = read_state(home, CONSUMER)
    if loaded is None or state is None or loaded["build_id"] != state["build_id"]:
        # no graph, or a load that did not finish: start again from a full export
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(state_dir(home, CONSUMER), ignore_errors=True)
        loaded = None
    folder.mkdir(parents=True, exist_ok=True)
    store = GraphStore(folder / "graph.sqlite")
    if published is not None and (loaded is None or loaded["build_id"] != published.build_id):
        report = export_graph(home, folder / "increment", incremental=True, consumer=CONSUMER)
        store.load(folder / "increment")
        loaded_path.write_text(json.dumps({"build_id": report.build_id, "as_of_date": report.as_of_date}))
    return store


def _properties(element_map: dict) -> dict:
    return {k: v for k, v in element_map.items() if isinstance(k, str)}


def client_journey(store: GraphStore, client_id: int) -> list[JourneyEvent]:
    g = store.g
    client = store.vertex(f"CUS{client_id}")
    if client is None:
        raise ClientNotFoundError(f"client {client_id} is not in the graph (no vertex CUS{client_id})")
    accounts = [
        JourneyEvent(row["account"]["opened_date"], "account opened", row["account"][ID],
                     f"{row['role']}, {row['account'].get('statement_frequency', 'no')} statement")
        for row in g.V(client).out_e("holds").order().by(__.in_v().values("opened_date"))
        .project("role", "account").by("role").by(__.in_v().element_map()).to_list()]
    cards = [
        JourneyEvent(row["card"]["issued_date"], "card issued", row["card"][ID],
                     f"{row['card'].get('card_type', '?')} card on {row['account']}")
        for row in g.V(client).in_("issued_to").order().by("issued_date")
        .project("card", "account").by(__.element_map()).by(__.in_("has_card").values(ID)).to_list()]
    loans = [
        JourneyEvent(row["loan"]["granted_date"], "loan granted", row["loan"][ID],
                     f"{row['loan'].get('amount_czk', 0):,.2f} CZK over {row['loan'].get('duration_months', '?')}"
                     f" months on {row['account']}, {row['loan'].get('loan_status', 'status unknown')}")
        for row in g.V(client).out_e("holds").has("role", "owner").in_v().out("has_loan")
        .order().by("granted_date")
        .project("loan", "account").by(__.element_map()).by(__.in_("has_loan").values(ID)).to_list()]
    sessions = [
        JourneyEvent(row["session"]["visit_started_at"], "web session", row["session"][ID],
                     f"{row['session'].get('channel_grouping', '?')}, {row['session'].get('device_category', '?')},"
                     f" {len(row['pages'])} page views",
                     [PageView(p["hit_number"], p.get("viewed_at"), p["page"]) for p in row["pages"]])
        for row in g.V(client).in_e("linked_to").has("resolution", "attributed").out_v().out("had_session")
        .order().by("visit_started_at")
        .project("session", "pages").by(__.element_map())
        .by(__.out_e("viewed").order().by("hit_number")
            .project("hit_number", "viewed_at", "page").by("hit_number").by("viewed_at")
            .by(__.in_v().values("page_path")).fold()).to_list()]
    return list(heapq.merge(accounts, cards, loans, sessions, key=lambda event: event.at))


def describe_journey(client_id: int, events: list[JourneyEvent], as_of: str | None) -> str:
    counts: dict[str, int] = {}
    for event in events:
        counts[event.kind] = counts.get(event.kind, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no events"
    lines = [f"journey of client {client_id} (CUS{client_id}) as of {as_of}: {summary}"]
    for event in events:
        lines.append(f"  {event.at.replace('T', ' ').rstrip('Z'):<19}  {event.kind:<15} {event.element_id}  {event.detail}")
        for page in event.pages:
            at = (page.viewed_at or "").replace("T", " ").rstrip("Z")[11:]
            lines.append(f"  {'':<19}    #{page.hit_number:<3} {at:<8}  {page.page_path}")
    return "\n".join(lines)

