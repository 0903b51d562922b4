"""The dashboard: an overview of the published version at `/` and a page per client at
`/customer/{id}`. Charts are plotly figures drawn in the browser by plotly.js, which the app
serves from the plotly Python package itself (`/static/plotly.min.js`): a page loads nothing
from any other host, so it works offline."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import plotly
import plotly.graph_objects as go
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from c360.serve import queries
from c360.serve.api import ClientId
from c360.serve.published import NotServable

HERE = Path(__file__).resolve().parent
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"

router = APIRouter(include_in_schema=False)
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
templates.filters["number"] = lambda value, digits=0: "–" if value is None else f"{value:,.{digits}f}"

_LAYOUT = dict(margin=dict(l=50, r=20, t=40, b=40), height=320, template="plotly_white",
               legend=dict(orientation="h", y=-0.2))


def static_files() -> StaticFiles:
    return StaticFiles(directory=HERE / "static")


@router.get("/static/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js as bundled with the plotly package (its version matches the figures')."""
    return Response(PLOTLY_JS.read_bytes(), media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> HTMLResponse:
    try:
        with request.app.state.database.reader() as reader:
            cursor, version = reader.cursor, reader.version
            segments = queries.segments(cursor)
            bins = queries.engagement_distribution(cursor)
            attribution = queries.web_attribution(cursor)
            losses = queries.identity_losses(cursor)
            clients = queries.client_count(cursor)
    except NotServable as error:
        return _page("error.html", status=503, title="Nothing to serve", message=str(error))
    figures = {
        "segments": _segments_figure(segments),
        "engagement": _engagement_figure(bins),
        "attribution": _attribution_figure(attribution),
    }
    return _page("overview.html", title="c360 overview", version=version, clients=clients,
                 figures=figures, attribution=attribution, losses=losses, segments=segments)


@router.get("/customer", response_class=HTMLResponse)
def search(client_id: str = Query("")) -> Response:
    """The search box: go to the client's page."""
    if not client_id.strip().isdigit():
        return _page("error.html", status=422, title="Not a client id",
                     message=f"{client_id!r} is not a client id: type the number of a client (client_id).")
    return RedirectResponse(f"/customer/{int(client_id)}", status_code=303)


@router.get("/customer/{client_id}", response_class=HTMLResponse)
def customer(client_id: ClientId, request: Request) -> HTMLResponse:
    try:
        with request.app.state.database.reader() as reader:
            document = queries.customer_document(reader.cursor, client_id)
            months = queries.monthly_transactions(reader.cursor, client_id)
            sessions = queries.web_sessions(reader.cursor, client_id)
            version = reader.version
    except NotServable as error:
        return _page("error.html", status=503, title="Nothing to serve", message=str(error))
    if document is None:
        return _page("error.html", status=404, title="No such client",
                     message=f"Client {client_id} is not in version {version.build_id}.")
    figures = {"monthly": _monthly_figure(months), "sessions": _sessions_figure(sessions)}
    return _page("customer.html", title=f"Client {client_id}", c=json.loads(document), version=version,
                 figures=figures, n_months=len(months), n_sessions=len(sessions))


# -- figures ---------------------------------------------------------------------------------

def _segments_figure(segments: list[dict]) -> dict:
    tiers = list(dict.fromkeys(s["loyalty_tier"] for s in segments))
    stages = list(dict.fromkeys(s["life_stage"] for s in segments))
    count = {(s["loyalty_tier"], s["life_stage"]): s["clients"] for s in segments}
    figure = go.Figure([go.Bar(name=tier, x=stages, y=[count.get((tier, stage), 0) for stage in stages])
                        for tier in tiers])
    figure.update_layout(title="Clients by life stage and loyalty tier", barmode="group",
                         yaxis_title="clients", showlegend=True, **_LAYOUT)
    return _plain(figure)


def _engagement_figure(bins: list[tuple[float, int]]) -> dict:
    figure = go.Figure(go.Bar(x=[b + 2.5 for b, _ in bins], y=[n for _, n in bins], width=5,
                              name="clients", marker_color="#4c78a8"))
    figure.update_layout(title="Engagement score (0-100), clients per 5 points", xaxis_title="engagement score",
                         yaxis_title="clients", xaxis_range=[0, 100], **_LAYOUT)
    return _plain(figure)


def _attribution_figure(attribution: list[tuple[str, int, int]]) -> dict:
    statuses = [status for status, _, _ in attribution]
    figure = go.Figure([go.Bar(name="sessions", x=statuses, y=[s for _, s, _ in attribution]),
                        go.Bar(name="visitors", x=statuses, y=[v for _, _, v in attribution])])
    figure.update_layout(title="Web sessions by identity outcome (only attributed ones count)",
                         barmode="group", **_LAYOUT)
    return _plain(figure)


def _monthly_figure(months: list[tuple]) -> dict:
    x = [month.isoformat() for month, *_ in months]
    figure = go.Figure([
        go.Bar(name="transactions", x=x, y=[n for _, n, _, _ in months], marker_color="#9ecae9"),
        go.Scatter(name="credits CZK", x=x, y=[float(c) for _, _, c, _ in months], yaxis="y2", mode="lines+markers"),
        go.Scatter(name="debits CZK", x=x, y=[float(d) for _, _, _, d in months], yaxis="y2", mode="lines+markers"),
    ])
    figure.update_layout(title="Transactions per month (owned accounts)", yaxis_title="transactions",
                         yaxis2=dict(title="CZK", overlaying="y", side="right", rangemode="tozero"), **_LAYOUT)
    return _plain(figure)


def _sessions_figure(sessions: list[tuple]) -> dict:
    channels = sorted({channel or "(none)" for _, _, channel, _, _ in sessions})
    figure = go.Figure([go.Scatter(
        name=channel, mode="markers", marker_size=10,
        x=[s[0].isoformat() for s in sessions if (s[2] or "(none)") == channel],
        y=[s[1] for s in sessions if (s[2] or "(none)") == channel],
        text=[f"{s[3]}, {s[4]} s on site" for s in sessions if (s[2] or "(none)") == channel])
        for channel in channels])
    figure.update_layout(title="Web sessions (attributed), pageviews per visit", yaxis_title="pageviews",
                         yaxis_rangemode="tozero", showlegend=True, **_LAYOUT)
    if sessions:     # a fortnight either side, or plotly zooms a single visit to milliseconds
        figure.update_xaxes(type="date", range=[(sessions[0][0] - timedelta(days=14)).isoformat(),
                                                (sessions[-1][0] + timedelta(days=14)).isoformat()])
    return _plain(figure)


def _plain(figure: go.Figure) -> dict:
    """The figure as plain JSON data (plotly's encoder handles dates and numpy values)."""
    return json.loads(figure.to_json())


def _page(template: str, *, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status)
