"""The bank website's Google Analytics 360 export: ga/ga_sessions_YYYYMMDD.json.

One newline-delimited JSON file per day with sessions (written only for days that have
any), nested exactly like the real export: totals, trafficSource{adwordsClickInfo},
device, geoNetwork, customDimensions and hits[] with page, eCommerceAction, eventInfo,
product[], promotion[], ... Counts (hits per session, EVENT share, products per hit, hit
timing), channel and device mixes are calibrated on the real sample; pages and products
are the bank's own (money in micros of CZK). numpy draws every value; DuckDB renders the
JSON from templates (formats.json_sql), Arrow list arrays nesting products in hits and
hits in sessions.

Design choices (the sample is a merchandise store in 2017, this is a bank in 1993-1998):
- volume: the real sample's 10 sessions/day at scale 1 on average, growing linearly over
  the horizon from 0.2x to 1.8x (the web channel is adopted over the years), times scale;
- visitors: 10% of the clients' number browse as identifiable client visitors (they are
  the ones in visitor_map.csv) and bring half the sessions, with uneven loyalty; the other
  half is anonymous traffic, about 1.3 sessions per visitor; a visitor keeps one device
  and location; visitNumber counts a visitor's sessions;
- sessions land on /home; 2% of sessions with 3+ hits end in a product application
  (eCommerceAction 6, a transaction worth the product's fee);
- the reporting time zone is UTC: date, hour and minute derive from visitStartTime.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from c360.generate import calibration as cal
from c360.generate.formats import (
    Sql, dictionary, json_list, json_sql, open_output, select_lines, value, when, write_lines,
)
from c360.generate.sampling import (
    HORIZON_END, HORIZON_START, MONTHS, Columns, from_counts, from_quantiles, indices_from_counts,
)

SESSION_GROWTH = (0.2, 1.8)
CLIENT_VISITOR_SHARE = 0.10
CLIENT_SESSION_SHARE = 0.5
ANONYMOUS_SESSIONS_PER_VISITOR = 1.3
CLIENT_LOYALTY_SHAPE = 0.7
CONVERSION_SHARE = 0.02
NOT_AVAILABLE = "not available in demo dataset"
# Share of sessions by hour of day (UTC): quiet nights, office hours, an evening bump.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 8, 8, 8, 7, 7, 7, 8, 8, 7, 5, 3, 2)

HOSTNAME = "www.bank.example"
# (sku, name, category, yearly fee in CZK): the bank's products, listed by category.
PRODUCTS = (
    ("ACC-CURRENT", "Current account", "Accounts", 175.2),
    ("ACC-JUNIOR", "Junior account", "Accounts", 60.0),
    ("ACC-BUSINESS", "Business account", "Accounts", 1200.0),
    ("CARD-CLASSIC", "Classic card", "Cards", 200.0),
    ("CARD-GOLD", "Gold card", "Cards", 1500.0),
    ("CARD-JUNIOR", "Junior card", "Cards", 50.0),
    ("LOAN-CONSUMER", "Consumer loan", "Loans", 500.0),
    ("LOAN-CAR", "Car loan", "Loans", 800.0),
    ("LOAN-MORTGAGE", "Mortgage", "Loans", 3000.0),
    ("SAV-TERM", "Term deposit", "Savings", 100.0),
    ("SAV-BUILDING", "Building savings", "Savings", 300.0),
    ("SAV-PENSION", "Pension savings", "Savings", 240.0),
    ("INS-TRAVEL", "Travel insurance", "Insurance", 350.0),
    ("INS-HOME", "Home insurance", "Insurance", 1200.0),
    ("INS-LIFE", "Life insurance", "Insurance", 2400.0),
    ("INS-CARD", "Card insurance", "Insurance", 150.0),
)
CATEGORIES = tuple(dict.fromkeys(p[2] for p in PRODUCTS))
# (path, title, content group, weight among ordinary page views); listing, product and
# confirmation pages are added below and reached through products, not by weight.
CONTENT_PAGES = (
    ("/home", "Home", "(not set)", 30),
    ("/branches/", "Branches and cash machines", "(not set)", 6),
    ("/contact/", "Contact us", "(not set)", 4),
    ("/rates/exchange-rates", "Exchange rates", "(not set)", 10),
    ("/ib/login", "Internet banking: log in", "Internet banking", 15),
    ("/ib/accounts/overview", "Internet banking: my accounts", "Internet banking", 15),
    ("/ib/payments/standing-orders", "Internet banking: standing orders", "Internet banking", 10),
    ("/ib/statements/monthly", "Internet banking: statements", "Internet banking", 10),
)
PAGES = (
    *CONTENT_PAGES,
    *((f"/{c.lower()}/", c, c, 0) for c in CATEGORIES),
    *((f"/{p[2].lower()}/{p[0].lower()}", p[1], p[2], 0) for p in PRODUCTS),
    ("/apply/confirmation", "Application received", "Applications", 0),
)
HOME, CONFIRMATION = 0, len(PAGES) - 1
LISTING = {c: len(CONTENT_PAGES) + i for i, c in enumerate(CATEGORIES)}
DETAIL_OFFSET = len(CONTENT_PAGES) + len(CATEGORIES)
PROMOTIONS = (("Cards Row 1", "Gold card", "gold-card.jpg", "Row 1"),
              ("Loans Row 2", "Consumer loan", "consumer-loan.jpg", "Row 2"),
              ("Savings Row 3", "Building savings", "building-savings.jpg", "Row 3"))
# (continent, subContinent, country, region, metro, city, networkDomain, custom dimension 4, weight)
LOCATIONS = (
    ("Europe", "Eastern Europe", "Czechia", "Prague", "(not set)", "Prague", "cesnet.cz", "EMEA", 30),
    ("Europe", "Eastern Europe", "Czechia", "South Moravian Region", "(not set)", "Brno", "muni.cz", "EMEA", 12),
    ("Europe", "Eastern Europe", "Czechia", "Moravian-Silesian Region", "(not set)", "Ostrava", "(not set)", "EMEA", 9),
    ("Europe", "Eastern Europe", "Czechia", "Plzen Region", "(not set)", "Plzen", "(not set)", "EMEA", 6),
    ("Europe", "Eastern Europe", "Czechia", NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE, "(not set)", "EMEA", 30),
    ("Europe", "Eastern Europe", "Slovakia", "Bratislava Region", "(not set)", "Bratislava", "(not set)", "EMEA", 5),
    ("Europe", "Western Europe", "Germany", "Bavaria", "(not set)", "Munich", "(not set)", "EMEA", 3),
    ("Europe", "Western Europe", "Austria", "Vienna", "(not set)", "Vienna", "(not set)", "EMEA", 2),
    ("Europe", "Northern Europe", "United Kingdom", "England", "London", "London", "(not set)", "EMEA", 2),
    ("Americas", "Northern America", "United States", "New York", "New York NY", "New York", "(not set)",
     "North America", 1),
)


def _path_levels(path: str) -> tuple[str, str, str, str, str]:
    """(path, level1..4) the way GA splits a path: /a/b/c -> /a/, /b/, /c."""
    parts = path.strip("/").split("/")
    levels = [f"/{p}/" for p in parts[:-1]] + [f"/{parts[-1]}" + ("/" if path.endswith("/") else "")]
    return (path, *(levels + ["", "", "", ""])[:4])


PAGE_LEVELS = tuple(_path_levels(p[0]) for p in PAGES)
FIRST_PRODUCT = np.array([next(i for i, p in enumerate(PRODUCTS) if p[2] == c) for c in CATEGORIES])
LISTING_PAGE = np.array([LISTING[c] for c in CATEGORIES])
PRODUCT_CATEGORY = np.array([CATEGORIES.index(p[2]) for p in PRODUCTS])
PRICE_MICROS = np.array([round(p[3] * 1_000_000) for p in PRODUCTS], dtype=np.int64)
SCREENS = [HOSTNAME + p[0] for p in PAGES]
EVENT_ACTIONS = tuple(cal.GA_EVENT_ACTIONS)
# eCommerceAction.action_type codes used: none, click, product detail view, add to cart,
# completed purchase (here: a submitted product application).
ACTION_TYPES = ("0", "1", "2", "3", "6")
NO_ACTION, CLICK, DETAIL, ADD_TO_CART, APPLY = range(len(ACTION_TYPES))
LIST_NAMES = ("(not set)", "Category", "Related Products")


def _channel(grouping: str, source: str, medium: str) -> dict[str, object]:
    """trafficSource values that follow from a channel (bank-flavoured campaign names)."""
    paid = medium in ("cpc", "cpm")
    return {
        "channel_grouping": grouping, "source": source, "medium": medium,
        "referral_path": "/" if medium == "referral" else None,
        "campaign": "Bank products" if paid else "(not set)",
        "keyword": {"organic": "(not provided)", "cpc": "bank account"}.get(medium),
        "ad_network": {"cpc": "Google Search", "cpm": "Content"}.get(medium),
        "referer": "https://www.google.com/" if source == "google" else f"https://{source}/" if medium == "referral" else None,
        "is_paid": paid, "is_direct": medium == "(none)",
    }


CHANNELS = tuple(_channel(*c[:3]) for c in cal.GA_CHANNELS)
CHANNEL_TEXT = ("channel_grouping", "source", "medium", "referral_path", "campaign", "keyword", "ad_network")


@dataclass(frozen=True)
class Visitors:
    """Browsers seen by GA; the first `n_client` are clients' (identifiable) ones."""
    full_visitor_id: np.ndarray  # uint64, written as 19 digits
    n_client: int


def plan_visits(rng: np.random.Generator, scale: float, n_clients: int) -> tuple[Visitors, Columns]:
    """Who visits when: every session's start, visitor and visit number (chronological)."""
    days = np.arange(HORIZON_START, HORIZON_END + 1)
    growth = np.linspace(*SESSION_GROWTH, len(days))
    per_day = rng.poisson(scale * cal.GA_SESSIONS_PER_DAY * growth)
    day = np.repeat(days, per_day)
    n = len(day)
    second = indices_from_counts(rng, HOUR_WEIGHTS, n) * 3600 + rng.integers(0, 3600, n)
    start = (day - np.datetime64("1970-01-01")).astype(np.int64) * 86_400 + second
    order = np.argsort(start, kind="stable")
    start, day = start[order], day[order]

    n_client = max(1, round(CLIENT_VISITOR_SHARE * n_clients))
    from_client = rng.random(n) < CLIENT_SESSION_SHARE
    n_anonymous = max(1, round((~from_client).sum() / ANONYMOUS_SESSIONS_PER_VISITOR))
    loyalty = rng.gamma(CLIENT_LOYALTY_SHAPE, 1, n_client)
    visitor = np.where(from_client, indices_from_counts(rng, loyalty, n), n_client + rng.integers(0, n_anonymous, n))
    visitors = Visitors(_unique_ids(rng, n_client + n_anonymous), n_client)
    # A visitor keeps one device and location across sessions.
    device = indices_from_counts(rng, [d[-1] for d in cal.GA_DEVICES], len(visitors.full_visitor_id))
    location = indices_from_counts(rng, [g[-1] for g in LOCATIONS], len(visitors.full_visitor_id))
    sessions = {
        "start": start, "day": day, "visitor": visitor,
        "visit_number": _rank_within(visitor),
        "channel": indices_from_counts(rng, [c[-1] for c in cal.GA_CHANNELS], n),
        "device": device[visitor], "location": location[visitor],
        "n_hits": from_counts(rng, cal.GA_HITS_PER_SESSION, n),
        "quality": from_counts(rng, cal.GA_SESSION_QUALITY, n),
        "has_region_dimension": rng.random(n) < cal.GA_CUSTOM_DIMENSION_SHARE,
    }
    return visitors, sessions


def _unique_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct random 19-digit ids (leading zeros allowed), in random order."""
    ids = np.unique(rng.integers(0, 10**19, int(n * 1.01) + 10, dtype=np.uint64))
    if len(ids) < n:
        raise RuntimeError("fullVisitorId collision beyond all odds; rerun with another seed")
    return rng.permutation(ids)[:n]


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """1-based position of each element among the earlier elements of its group."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    first = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
    position = np.arange(len(groups)) - np.maximum.accumulate(np.where(first, np.arange(len(groups)), 0))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = position + 1
    return rank


def _group_starts(sizes: np.ndarray) -> np.ndarray:
    return np.repeat(np.cumsum(sizes) - sizes, sizes)


def _hits(rng: np.random.Generator, sessions: Columns) -> tuple[Columns, Columns]:
    """Hits and their products, for all sessions at once (codes as indices)."""
    n_hits = sessions["n_hits"]
    session = np.repeat(np.arange(len(n_hits)), n_hits)
    n = len(session)
    starts = _group_starts(n_hits)
    number = np.arange(n) - starts + 1
    first, last = number == 1, number == n_hits[session]
    gaps = np.where(first, 0, np.round(from_quantiles(rng, cal.GA_HIT_GAP_MS, n))).astype(np.int64)
    elapsed = np.cumsum(gaps)

    conversion = last & ((rng.random(len(n_hits)) < CONVERSION_SHARE) & (n_hits >= 3))[session]
    event = ~first & ~conversion & (rng.random(n) < cal.GA_EVENT_SHARE)
    # PAGE hits: a product listing (calibrated share), else an ordinary page; the landing is /home.
    listing = ~first & ~event & ~conversion & (rng.random(n) < cal.GA_PAGE_PRODUCT_SHARE)
    list_size = np.where(listing, np.minimum(from_counts(rng, cal.GA_PRODUCT_LIST_SIZES, n), len(PRODUCTS)), 0)
    detail = listing & (list_size == 1)
    category = rng.integers(0, len(CATEGORIES), n)
    first_product = FIRST_PRODUCT[category]
    page = np.where(first, HOME, indices_from_counts(rng, [p[3] for p in CONTENT_PAGES], n))
    page = np.select([conversion, detail, listing], [CONFIRMATION, DETAIL_OFFSET + first_product, LISTING_PAGE[category]],
                     page)
    # An EVENT happens on the page of the session's latest PAGE hit.
    page = page[np.maximum.accumulate(np.where(event, 0, np.arange(n)))]
    # EVENT hits with a product carry eventInfo; the others are timing hits (latencyTracking).
    with_product = event & (rng.random(n) < cal.GA_EVENT_PRODUCT_SHARE)
    event_action = np.where(with_product, indices_from_counts(rng, list(cal.GA_EVENT_ACTIONS.values()), n), -1)
    action = np.select([conversion, event_action == EVENT_ACTIONS.index("Add to Cart"),
                        event_action == EVENT_ACTIONS.index("Quickview Click"), detail],
                       [APPLY, ADD_TO_CART, CLICK, DETAIL], NO_ACTION)
    subject = rng.integers(0, len(PRODUCTS), n)  # the product an event or application is about
    hits = {
        "session": session, "hit_number": number, "time_ms": elapsed - elapsed[starts],
        "is_first": first, "is_last": last, "is_event": event, "page": page,
        "event_action": event_action, "action": action, "subject": subject, "first_product": first_product,
        "product_count": np.select([listing, with_product, conversion], [list_size, 1, 1], 0),
        "has_promotions": (page == HOME) & ~first & ~event,
        "transaction_revenue": np.where(conversion, PRICE_MICROS[subject], -1),
        "page_load_ms": np.where(event & ~with_product, np.round(rng.lognormal(7.8, 0.6, n)), -1).astype(np.int64),
    }
    return hits, _products(hits)


def _products(hits: Columns) -> Columns:
    """Product rows of the hits that carry products: a listing shows its category first and
    related products after it; an event or an application concerns one product."""
    count = hits["product_count"]
    hit = np.repeat(np.arange(len(count)), count)
    position = np.arange(len(hit)) - _group_starts(count) + 1
    action = hits["action"][hit]
    first_product = hits["first_product"][hit]
    product = np.where(np.isin(action, [CLICK, ADD_TO_CART, APPLY]), hits["subject"][hit],
                       (first_product + position - 1) % len(PRODUCTS))
    same_category = PRODUCT_CATEGORY[product] == PRODUCT_CATEGORY[first_product]
    return {
        "hit": hit, "product": product,
        "position": np.where(action == ADD_TO_CART, 0, position),
        "list_name": np.select([np.isin(action, [ADD_TO_CART, APPLY]), (action == CLICK) | same_category], [0, 1], 2),
        "is_impression": action == NO_ACTION, "is_click": action == CLICK,
        "quantity": np.isin(action, [ADD_TO_CART, APPLY]), "revenue": action == APPLY,
    }


def write_ga_sessions(con: duckdb.DuckDBPyConnection, out_dir: Path, visitors: Visitors, sessions: Columns,
                      rng: np.random.Generator, first_session_number: int = 1) -> dict[str, int]:
    """Render the sessions month by month (bounded memory), one file per day.

    DuckDB renders products, hits and sessions from JSON templates; the lists (products
    of a hit, hits of a session) are Arrow list arrays over contiguous rows, so nothing
    is aggregated or sorted.
    """
    hits, products = _hits(rng, sessions)
    session_table = _session_table(sessions, hits, visitors)
    hit_table = _hit_table(sessions, hits, first_session_number)
    product_table = _product_table(products)
    month_of_session = np.searchsorted(MONTHS, sessions["day"].astype("M8[M]"))
    files = {}
    for month in np.unique(month_of_session):
        s0, s1 = np.searchsorted(month_of_session, [month, month + 1])
        h0, h1 = np.searchsorted(hits["session"], [s0, s1])
        p0, p1 = np.searchsorted(products["hit"], [h0, h1])
        product = _json_rows(con, product_table.slice(p0, p1 - p0), PRODUCT_JSON)
        hit_rows = hit_table.slice(h0, h1 - h0).append_column("product", _lists(hits["product_count"][h0:h1], product))
        hit = _json_rows(con, hit_rows, HIT_JSON)
        session_rows = session_table.slice(s0, s1 - s0).append_column("hit_list", _lists(sessions["n_hits"][s0:s1], hit))
        lines = select_lines(con, session_rows, f"select date, {SESSION_JSON} || chr(10) as line from rows")
        files |= _write_days(out_dir, lines)
    return files


def _json_rows(con: duckdb.DuckDBPyConnection, table: pa.Table, json_expression: str) -> pa.Array:
    """One JSON text per row of `table`, in the table's order."""
    return select_lines(con, table, f"select {json_expression} as json from rows")["json"].combine_chunks()


def _lists(counts: np.ndarray, values: pa.Array) -> pa.ListArray:
    """Consecutive runs of `values` as lists, `counts[i]` items in list i."""
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _write_days(out_dir: Path, lines: pa.Table) -> dict[str, int]:
    """Split a month's lines (in session order, hence by day) into the daily files."""
    dates = lines["date"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, dates[1:] != dates[:-1], True])
    files = {}
    for start, end in zip(bounds[:-1], bounds[1:]):
        name = f"ga/ga_sessions_{dates[start]}.json"
        with open_output(out_dir / name) as handle:
            write_lines(handle, lines["line"].slice(start, end - start))
        files[name] = int(end - start)
    return files


def visitor_id_strings(ids: np.ndarray) -> pa.Array:
    """fullVisitorId as GA writes it: 19 digits, leading zeros kept."""
    return pc.utf8_lpad(pa.array(ids).cast(pa.string()), 19, "0")


def _yyyymmdd(days: np.ndarray) -> pa.Array:
    months = days.astype("M8[M]")
    years = months.astype("M8[Y]").astype(np.int64) + 1970
    number = years * 10_000 + ((months - months.astype("M8[Y]")).astype(np.int64) + 1) * 100 \
        + (days - months.astype("M8[D]")).astype(np.int64) + 1
    return pa.array(number).cast(pa.string())


def _coded(indices: np.ndarray, values: Sequence[str | None]) -> pa.DictionaryArray:
    """values[indices] as a dictionary column (None = null), touching no string per row."""
    distinct = sorted({v for v in values if v is not None})
    position = np.array([-1 if v is None else distinct.index(v) for v in values], dtype=np.int64)
    return dictionary(position[indices], distinct)


def _nullable(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(values, mask=~valid)


def _session_table(sessions: Columns, hits: Columns, visitors: Visitors) -> pa.Table:
    n_hits, visit_number, channel = sessions["n_hits"], sessions["visit_number"], sessions["channel"]
    device, location = sessions["device"], sessions["location"]
    n = len(n_hits)
    pageviews = np.bincount(hits["session"], weights=~hits["is_event"], minlength=n).astype(np.int64)
    revenue = np.zeros(n, np.int64)
    np.add.at(revenue, hits["session"], np.maximum(hits["transaction_revenue"], 0))
    no_dimension = np.where(sessions["has_region_dimension"], location, len(LOCATIONS))
    return pa.table({
        "full_visitor_id": visitor_id_strings(visitors.full_visitor_id[sessions["visitor"]]),
        "visit_number": visit_number,
        "start": sessions["start"],
        "date": _yyyymmdd(sessions["day"]),
        "hits": n_hits,
        "pageviews": pageviews,
        "time_on_site": _nullable(np.round(hits["time_ms"][hits["is_last"]] / 1000).astype(np.int64), n_hits > 1),
        "bounces": _nullable(np.ones(n, np.int64), n_hits == 1),
        "transactions": _nullable(np.ones(n, np.int64), revenue > 0),
        "revenue": _nullable(revenue, revenue > 0),
        "new_visits": _nullable(np.ones(n, np.int64), visit_number == 1),
        "quality": sessions["quality"],
        **{name: _coded(channel, [c[name] for c in CHANNELS]) for name in CHANNEL_TEXT},
        "is_paid": np.array([c["is_paid"] for c in CHANNELS])[channel],
        "is_true_direct": _nullable(np.ones(n, bool), np.array([c["is_direct"] for c in CHANNELS])[channel]),
        **{name: _coded(device, [d[i] for d in cal.GA_DEVICES])
           for i, name in ((0, "device_category"), (2, "operating_system"), (3, "browser"))},
        "is_mobile": np.array([d[1] for d in cal.GA_DEVICES])[device],
        **{name: _coded(location, [g[i] for g in LOCATIONS]) for i, name in enumerate(
            ("continent", "sub_continent", "country", "region", "metro", "city", "network_domain"))},
        "region_dimension": _coded(no_dimension, [g[7] for g in LOCATIONS] + [None]),
    })


def _hit_table(sessions: Columns, hits: Columns, first_session_number: int = 1) -> pa.Table:
    n = len(hits["session"])
    session, page, first, last = hits["session"], hits["page"], hits["is_first"], hits["is_last"]
    at = sessions["start"][session] + hits["time_ms"] // 1000
    previous_page = np.where(first, len(PAGES), np.concatenate([[0], page[:-1]]))
    # Only the entrance hit has a referrer: the search engine or the referring site.
    referer = np.where(first, sessions["channel"][session], len(CHANNELS))
    event_action = np.where(hits["event_action"] >= 0, hits["event_action"], len(EVENT_ACTIONS))
    event_label = np.where(hits["action"] == CLICK, hits["subject"], len(PRODUCTS))
    revenue, latency = hits["transaction_revenue"], hits["page_load_ms"]
    groups = [p[2] for p in PAGES]
    return pa.table({
        "session_number": session + first_session_number,
        "hit_number": hits["hit_number"],
        "time_ms": hits["time_ms"],
        "hour": at % 86_400 // 3600,
        "minute": at % 3600 // 60,
        "is_entrance": _nullable(np.ones(n, bool), first),
        "is_exit": _nullable(np.ones(n, bool), last),
        "referer": _coded(referer, [c["referer"] for c in CHANNELS] + [None]),
        "type": _coded(hits["is_event"].astype(np.int64), ["PAGE", "EVENT"]),
        "page_title": _coded(page, [p[1] for p in PAGES]),
        **{name: _coded(page, [levels[i] for levels in PAGE_LEVELS])
           for i, name in enumerate(("page_path", "level1", "level2", "level3", "level4"))},
        "screen": _coded(page, SCREENS),
        "landing_screen": _coded(page[first][session], SCREENS),
        "exit_screen": _coded(page[last][session], SCREENS),
        "content_group": _coded(page, groups),
        "previous_group": _coded(previous_page, groups + ["(entrance)"]),
        "previous_other_groups": _coded(first.astype(np.int64), ["(not set)", "(entrance)"]),
        "group_unique_views": _nullable(np.ones(n, np.int64), (np.array(groups)[page] != "(not set)") & ~hits["is_event"]),
        "has_commerce": hits["product_count"] > 0,
        "transaction_revenue": _nullable(revenue, revenue >= 0),
        "event_action": _coded(event_action, [*EVENT_ACTIONS, None]),
        "event_label": _coded(event_label, [p[1] for p in PRODUCTS] + [None]),
        "action_type": _coded(hits["action"], ACTION_TYPES),
        "has_promotions": hits["has_promotions"],
        "page_load_ms": _nullable(latency, latency >= 0),
    })


def _product_table(products: Columns) -> pa.Table:
    product = products["product"]
    price = PRICE_MICROS[product]
    n = len(product)
    return pa.table({
        "sku": _coded(product, [p[0] for p in PRODUCTS]),
        "name": _coded(product, [p[1] for p in PRODUCTS]),
        "category": _coded(product, [f"Home/{p[2]}/" for p in PRODUCTS]),
        "price": price,
        "revenue": _nullable(price, products["revenue"]),
        "quantity": _nullable(np.ones(n, np.int64), products["quantity"]),
        "is_impression": _nullable(np.ones(n, bool), products["is_impression"]),
        "is_click": _nullable(np.ones(n, bool), products["is_click"]),
        "list_name": _coded(products["list_name"], LIST_NAMES),
        "position": products["position"],
    })


# The real export's nesting and key order. The fields the demo export never fills are
# constants (mostly null); per-row values come from the tables' columns.
_NA = NOT_AVAILABLE
TRANSACTION_ID = value("if(transaction_revenue is null, null, 'APP-' || session_number)")
_PRODUCT_JSON = {
    "productSKU": value("sku"), "v2ProductName": value("name"), "v2ProductCategory": value("category"),
    "productVariant": "(not set)", "productBrand": "(not set)",
    "productRevenue": value("revenue"), "localProductRevenue": value("revenue"),
    "productPrice": value("price"), "localProductPrice": value("price"), "productQuantity": value("quantity"),
    "productRefundAmount": None, "localProductRefundAmount": None,
    "isImpression": value("is_impression"), "isClick": value("is_click"),
    "customDimensions": [], "customMetrics": [],
    "productListName": value("list_name"), "productListPosition": value("position"), "productCouponCode": None,
}
_HIT_JSON = {
    "hitNumber": value("hit_number"), "time": value("time_ms"), "hour": value("hour"), "minute": value("minute"),
    "isSecure": None, "isInteraction": True, "isEntrance": value("is_entrance"), "isExit": value("is_exit"),
    "referer": value("referer"),
    "page": {
        "pagePath": value("page_path"), "hostname": HOSTNAME, "pageTitle": value("page_title"),
        "searchKeyword": None, "searchCategory": None,
        "pagePathLevel1": value("level1"), "pagePathLevel2": value("level2"),
        "pagePathLevel3": value("level3"), "pagePathLevel4": value("level4"),
    },
    "transaction": when("has_commerce", {
        "transactionId": TRANSACTION_ID, "transactionRevenue": value("transaction_revenue"),
        "transactionTax": None, "transactionShipping": None, "affiliation": None, "currencyCode": "CZK",
        "localTransactionRevenue": value("transaction_revenue"), "localTransactionTax": None,
        "localTransactionShipping": None, "transactionCoupon": None,
    }),
    "item": when("has_commerce", {
        "transactionId": TRANSACTION_ID, "productName": None, "productCategory": None, "productSku": None,
        "itemQuantity": None, "itemRevenue": None, "currencyCode": "CZK", "localItemRevenue": None,
    }),
    "contentInfo": None,
    "appInfo": {
        "name": None, "version": None, "id": None, "installerId": None, "appInstallerId": None, "appName": None,
        "appVersion": None, "appId": None, "screenName": value("screen"),
        "landingScreenName": value("landing_screen"), "exitScreenName": value("exit_screen"), "screenDepth": "0",
    },
    "exceptionInfo": {"description": None, "isFatal": True, "exceptions": None, "fatalExceptions": None},
    "eventInfo": when("event_action is not null", {
        "eventCategory": "Enhanced Ecommerce", "eventAction": value("event_action"),
        "eventLabel": value("event_label"), "eventValue": None,
    }),
    "product": json_list("product"),
    "promotion": Sql(f"if(has_promotions, {json_sql([dict(zip(('promoCreative', 'promoId', 'promoName', 'promoPosition'), (c, i, n, p))) for i, n, c, p in PROMOTIONS])}, '[]')"),
    "promotionActionInfo": when("has_promotions", {"promoIsView": True, "promoIsClick": None}),
    "refund": None,
    "eCommerceAction": {"action_type": value("action_type"), "step": 1, "option": None},
    "experiment": [], "publisher": None, "customVariables": [], "customDimensions": [], "customMetrics": [],
    "type": value("type"),
    "social": {
        "socialInteractionNetwork": None, "socialInteractionAction": None, "socialInteractions": None,
        "socialInteractionTarget": None, "socialNetwork": "(not set)", "uniqueSocialInteractions": None,
        "hasSocialSourceReferral": "No", "socialInteractionNetworkAction": " : ",
    },
    "latencyTracking": when("page_load_ms is not null", {
        "pageLoadSample": 1, "pageLoadTime": value("page_load_ms"), "pageDownloadTime": value("page_load_ms // 40"),
        "redirectionTime": None, "speedMetricsSample": 1, "domainLookupTime": value("page_load_ms // 20"),
        "serverConnectionTime": value("page_load_ms // 18"), "serverResponseTime": value("page_load_ms // 25"),
        "domLatencyMetricsSample": 1, "domInteractiveTime": value("page_load_ms * 2 // 3"),
        "domContentLoadedTime": value("page_load_ms * 2 // 3"), "userTimingValue": None,
        "userTimingSample": None, "userTimingVariable": None, "userTimingCategory": None, "userTimingLabel": None,
    }),
    "sourcePropertyInfo": None,
    "contentGroup": {
        "contentGroup1": "(not set)", "contentGroup2": value("content_group"), "contentGroup3": "(not set)",
        "contentGroup4": "(not set)", "contentGroup5": "(not set)",
        "previousContentGroup1": value("previous_other_groups"), "previousContentGroup2": value("previous_group"),
        "previousContentGroup3": value("previous_other_groups"),
        "previousContentGroup4": value("previous_other_groups"),
        "previousContentGroup5": value("previous_other_groups"),
        "contentGroupUniqueViews1": None, "contentGroupUniqueViews2": value("group_unique_views"),
        "contentGroupUniqueViews3": None, "contentGroupUniqueViews4": None, "contentGroupUniqueViews5": None,
    },
    "dataSource": "web",
    "publisher_infos": [],
}
_SESSION_JSON = {
    "visitorId": None, "visitNumber": value("visit_number"), "visitId": value("start"),
    "visitStartTime": value("start"), "date": value("date"),
    "totals": {
        "visits": 1, "hits": value("hits"), "pageviews": value("pageviews"), "timeOnSite": value("time_on_site"),
        "bounces": value("bounces"), "transactions": value("transactions"),
        "transactionRevenue": value("revenue"), "newVisits": value("new_visits"), "screenviews": None,
        "uniqueScreenviews": None, "timeOnScreen": None, "totalTransactionRevenue": value("revenue"),
        "sessionQualityDim": value("quality"),
    },
    "trafficSource": {
        "referralPath": value("referral_path"), "campaign": value("campaign"), "source": value("source"),
        "medium": value("medium"), "keyword": value("keyword"), "adContent": None,
        "adwordsClickInfo": {
            "campaignId": None, "adGroupId": None, "creativeId": None, "criteriaId": None,
            "page": value("if(is_paid, 1, null)"), "slot": value("if(is_paid, 'Top', null)"),
            "criteriaParameters": _NA,
            "gclId": value("if(is_paid, 'Cj0KEQ' || md5(full_visitor_id || start::varchar), null)"),
            "customerId": None, "adNetworkType": value("ad_network"), "targetingCriteria": None,
            "isVideoAd": value("if(is_paid, false, null)"),
        },
        "isTrueDirect": value("is_true_direct"), "campaignCode": None,
    },
    "device": {
        "browser": value("browser"), "browserVersion": _NA, "browserSize": _NA,
        "operatingSystem": value("operating_system"), "operatingSystemVersion": _NA,
        "isMobile": value("is_mobile"), "mobileDeviceBranding": _NA, "mobileDeviceModel": _NA,
        "mobileInputSelector": _NA, "mobileDeviceInfo": _NA, "mobileDeviceMarketingName": _NA,
        "flashVersion": _NA, "javaEnabled": None, "language": _NA, "screenColors": _NA,
        "screenResolution": _NA, "deviceCategory": value("device_category"),
    },
    "geoNetwork": {
        "continent": value("continent"), "subContinent": value("sub_continent"), "country": value("country"),
        "region": value("region"), "metro": value("metro"), "city": value("city"), "cityId": _NA,
        "networkDomain": value("network_domain"), "latitude": _NA, "longitude": _NA, "networkLocation": _NA,
    },
    "customDimensions": Sql("if(region_dimension is null, '[]', "
                            f"{json_sql([{'index': 4, 'value': value('region_dimension')}])})"),
    "hits": json_list("hit_list"),
    "fullVisitorId": value("full_visitor_id"),
    "userId": None, "clientId": None,
    "channelGrouping": value("channel_grouping"),
    "socialEngagementType": "Not Socially Engaged",
}
PRODUCT_JSON, HIT_JSON, SESSION_JSON = (json_sql(t) for t in (_PRODUCT_JSON, _HIT_JSON, _SESSION_JSON))
