"""customer_loyalty, customer_demographic and customer_engagement checked against an independent
computation: plain Python over the real shared data (tests/reference/berka.py), written from
the column descriptions in models/marts/customer/_customer__models.yml and the rules in
_customer__docs.md and dbt_project.yml — not from the models.

Two points in time: 1994-03-31 (the cut-off trans.asc ends there: every bank window is full)
and the default as_of_date (the latest event, a GA session of 2017: the web columns are filled
and the bank windows are empty).

Where a description leaves a tie open (which product type is "first" when two products were
acquired on the same day), only what it does say is compared. Rounded ratios are compared
exactly, except that a value lying exactly on a rounding boundary may go either way (the
models compute ratios in floating point).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from tests.reference.berka import (
    Berka, attributed_visitors, birth, read_berka, read_ga_sessions, read_visitor_links,
    whole_years, yymmdd,
)

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

BANK_AS_OF = date(1994, 3, 31)
LATEST_AS_OF = date(2017, 7, 30)        # the latest GA session in ../shared/data

# dbt_project.yml vars, as documented there (the business parameters of the marts).
LOYALTY_TIERS = (("platinum", 4, 4, 11), ("gold", 2, 3, 8), ("silver", 1, 2, 4))
LIFE_STAGES = (("minor", 17), ("young_adult", 29), ("family_building", 44), ("established", 59),
               ("pre_retirement", 64), ("retired", 150))
AGE_BANDS = ((18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"),
             (65, "55-64"))
ENGAGEMENT_WEIGHTS = {"web_sessions": (2, 10), "web_pageviews": (1, 50), "n_product_detail_views": (1, 10),
                      "n_transactions_last_365d": (3, 120), "n_card_transactions_last_365d": (2, 12),
                      "n_products_held": (1, 5)}
CHANNELS = ("Organic Search", "Paid Search", "Direct", "Referral", "Social")
# The operation codes of ../shared/data/README.md, by how the client banked.
OPERATION_CHANNEL = {"VYBER KARTOU": "card", "VKLAD": "cash", "VYBER": "cash",
                     "PREVOD Z UCTU": "transfer", "PREVOD NA UCET": "transfer"}
MONTHS_PER_YEAR = Fraction(365) / Fraction("30.4375")


# --- rounding ----------------------------------------------------------------------------------

class Rounded:
    """An exact value that a mart stores rounded to `places`: equal to the rounded value, or,
    exactly on a rounding boundary, to either neighbour."""

    def __init__(self, exact: Fraction, places: int):
        self.exact, self.places = exact, places

    def candidates(self) -> set[Decimal]:
        step = Decimal(1).scaleb(-self.places)
        scaled = self.exact * 10 ** self.places
        up = (Decimal(scaled.numerator) / Decimal(scaled.denominator)).quantize(Decimal(1), ROUND_HALF_UP)
        values = {up * step}
        if (scaled - int(scaled)) == Fraction(1, 2) or (scaled - int(scaled)) == Fraction(-1, 2):
            values.add((up - 1) * step)
        return values

    def __eq__(self, other) -> bool:
        return other is not None and Decimal(other) in self.candidates()

    def __repr__(self) -> str:
        return f"~{sorted(self.candidates())}"


def _ratio(numerator, denominator, places: int):
    return Rounded(Fraction(numerator) / Fraction(denominator), places) if denominator else None


# --- the independent computation -----------------------------------------------------------------

class Facts:
    """What the raw files say about every client at one point in time."""

    def __init__(self, berka: Berka, links, sessions, as_of: date):
        self.as_of = as_of
        self.clients = {c["client_id"]: c for c in berka.clients}
        self.products = defaultdict(list)          # client -> [(date, type)]
        self.counts = defaultdict(Counter)
        self.orders = Counter()
        self.transactions = defaultdict(list)      # client -> [(date, type, amount, operation)]
        self._holdings(berka)
        self._transactions(berka)
        attributed = attributed_visitors(links, set(self.clients))
        self.sessions = defaultdict(list)
        for (visitor, _visit, day), session in sessions.items():
            when = date(int(day[:4]), int(day[4:6]), int(day[6:]))
            if visitor in attributed and when <= as_of:
                self.sessions[attributed[visitor]].append((when, session))

    def _holdings(self, berka: Berka) -> None:
        as_of, owners = self.as_of, defaultdict(set)
        disposition_client = {d["disp_id"]: d["client_id"] for d in berka.dispositions}
        for d in berka.dispositions:
            opened = yymmdd(berka.accounts[d["account_id"]]["date"])
            if opened > as_of:
                continue
            role = "account_owned" if d["type"] == "OWNER" else "account_disponent"
            self.counts[d["client_id"]][role] += 1
            self.products[d["client_id"]].append((opened, role))
            if d["type"] == "OWNER":
                owners[d["account_id"]].add(d["client_id"])
        self.owners = owners
        for card in berka.cards:
            if (issued := yymmdd(card["issued"])) <= as_of:
                client = disposition_client[card["disp_id"]]
                self.counts[client]["card"] += 1
                self.products[client].append((issued, "card"))
        for loan in berka.loans:
            if (granted := yymmdd(loan["date"])) <= as_of:
                for client in owners[loan["account_id"]]:
                    self.counts[client]["loan"] += 1
                    self.products[client].append((granted, "loan"))
        for order in berka.orders:
            for client in owners[order["account_id"]]:   # only accounts opened by as_of are owned
                self.orders[client] += 1

    def _transactions(self, berka: Berka) -> None:
        for t in berka.transactions:
            if (day := yymmdd(t["date"])) <= self.as_of:
                for client in self.owners[t["account_id"]]:
                    self.transactions[client].append((day, t["type"], Decimal(t["amount"]), t["operation"]))

    def window(self, client: str, days: int) -> list[tuple]:
        start = self.as_of - timedelta(days=days)         # start < date <= as_of
        return [t for t in self.transactions[client] if t[0] > start]

    def products_held(self, client: str) -> int:
        c = self.counts[client]
        return c["account_owned"] + c["account_disponent"] + c["card"] + c["loan"] + self.orders[client]


def expected_loyalty(facts: Facts, client: str) -> dict:
    as_of, counts = facts.as_of, facts.counts[client]
    accounts = [d for d, kind in facts.products[client] if kind.startswith("account")]
    since = min(accounts) if accounts else None
    years = whole_years(since, as_of) if since else None
    held = facts.products_held(client)
    trans = facts.transactions[client]
    last_365 = facts.window(client, 365)
    month_index = as_of.year * 12 + as_of.month
    active = {d.year * 12 + d.month for d, *_ in trans if month_index - 12 < d.year * 12 + d.month <= month_index}
    row = {
        "customer_since_date": since, "years_of_history": years,
        "days_as_customer": (as_of - since).days if since else None,
        "n_accounts_owned": counts["account_owned"], "n_accounts_disponent": counts["account_disponent"],
        "n_cards": counts["card"], "n_loans": counts["loan"], "n_standing_orders": facts.orders[client],
        "n_products_held": held,
        "n_transactions": len(trans),
        "n_transactions_last_365d": len(last_365),
        "avg_monthly_transactions_last_365d": Rounded(Fraction(len(last_365)) / MONTHS_PER_YEAR, 2),
        "n_active_months": len(active),
        "last_transaction_date": max((d for d, *_ in trans), default=None),
    }
    row["days_since_last_transaction"] = (as_of - row["last_transaction_date"]).days if trans else None
    for days in (90, 180):
        window = facts.window(client, days)
        credits = [a for _, kind, a, _ in window if kind == "PRIJEM"]
        debits = [a for _, kind, a, _ in window if kind != "PRIJEM"]    # VYDAJ and VYBER
        row |= {f"n_credits_last_{days}d": len(credits), f"n_debits_last_{days}d": len(debits),
                f"credit_amount_czk_last_{days}d": sum(credits, Decimal(0)),
                f"debit_amount_czk_last_{days}d": sum(debits, Decimal(0)),
                f"avg_credit_amount_czk_last_{days}d": _ratio(sum(credits, Decimal(0)), len(credits), 2),
                f"avg_debit_amount_czk_last_{days}d": _ratio(sum(debits, Decimal(0)), len(debits), 2)}
    row["loyalty_tier"] = next(
        (tier for tier, min_years, min_products, min_months in LOYALTY_TIERS
         if since and years >= min_years and held >= min_products and len(active) >= min_months),
        "bronze")
    products = facts.products[client]
    if products:
        first, last = min(products)[0], max(products)[0]
        row |= {"first_product_acquired_date": first, "last_product_acquired_date": last,
                "days_since_first_product": (as_of - first).days, "days_since_last_product": (as_of - last).days}
        # The type is compared only where one product alone was acquired that day (ties are
        # not described).
        for edge, day in (("first", first), ("last", last)):
            kinds = [kind for d, kind in products if d == day]
            if len(kinds) == 1:
                row[f"{edge}_product_type"] = kinds[0]
    else:
        row |= {"first_product_acquired_date": None, "last_product_acquired_date": None,
                "first_product_type": None, "last_product_type": None}
    return row


def _decimal_or_null(text: str) -> Decimal | None:
    return None if text.strip() in ("", "?") else Decimal(text)


def expected_demographic(facts: Facts, district: dict, client: dict) -> dict:
    born, gender = birth(client["birth_number"])
    age = whole_years(born, facts.as_of)
    return {
        "gender": gender, "birth_date": born, "age_years": age,
        "age_band": next((band for bound, band in AGE_BANDS if age < bound), "65+"),
        "life_stage": next(stage for stage, max_age in LIFE_STAGES if age <= max_age),
        "district_id": int(client["district_id"]), "district_name": district["A2"],
        "region": district["A3"], "district_n_inhabitants": int(district["A4"]),
        "district_n_cities": int(district["A9"]),
        "district_urban_inhabitants_pct": _decimal_or_null(district["A10"]),
        "district_avg_salary_czk": _decimal_or_null(district["A11"]),
        "district_unemployment_rate_1995_pct": _decimal_or_null(district["A12"]),
        "district_unemployment_rate_1996_pct": _decimal_or_null(district["A13"]),
        "district_entrepreneurs_per_1000": int(district["A14"]),
    }


def _most_common(values: list[str]) -> str | None:
    """The most frequent value, ties alphabetical (the models' documented tie rule)."""
    counted = Counter(v for v in values if v is not None)
    return min(counted, key=lambda v: (-counted[v], v)) if counted else None


def _clean(text) -> str | None:
    return (text or "").strip() or None


def expected_engagement(facts: Facts, client: str) -> dict:
    as_of, sessions = facts.as_of, [s for _, s in facts.sessions[client]]
    days = [d for d, _ in facts.sessions[client]]
    totals = [s.get("totals") or {} for s in sessions]
    n = len(sessions)
    devices = Counter(s["device"]["deviceCategory"] for s in sessions)
    channels = Counter(s["channelGrouping"] if s["channelGrouping"] in CHANNELS else "other" for s in sessions)
    hits = [h for s in sessions for h in s.get("hits") or []]
    pages = [h for h in hits if h.get("type") == "PAGE"]
    products = [(h, p) for h in hits for p in h.get("product") or []]
    regions = [next((d["value"] for d in s.get("customDimensions") or [] if d["index"] == 4), None)
               for s in sessions]
    time_on_site = sum(t.get("timeOnSite") or 0 for t in totals)
    bounces = sum(1 for t in totals if t.get("bounces") == 1)
    row = {
        "web_sessions": n, "web_pageviews": sum(t.get("pageviews") or 0 for t in totals),
        "web_hits": sum(t.get("hits") or 0 for t in totals), "web_time_on_site_seconds": time_on_site,
        "web_bounces": bounces, "first_visit_date": min(days, default=None),
        "last_visit_date": max(days, default=None),
        "days_since_last_visit": (as_of - max(days)).days if days else None,
        "n_desktop_sessions": devices["desktop"], "n_mobile_sessions": devices["mobile"],
        "n_tablet_sessions": devices["tablet"],
        "n_organic_search_sessions": channels["Organic Search"], "n_paid_search_sessions": channels["Paid Search"],
        "n_direct_sessions": channels["Direct"], "n_referral_sessions": channels["Referral"],
        "n_social_sessions": channels["Social"], "n_other_channel_sessions": channels["other"],
        "web_sales_region": _most_common([_clean(r) for r in regions]),
        "most_viewed_page_path_level_1": _most_common([_clean(h["page"].get("pagePathLevel1")) for h in pages]),
        "most_viewed_page_path_level_2": _most_common([_clean(h["page"].get("pagePathLevel2")) for h in pages]),
        "n_product_detail_views": sum(1 for h, _ in products if h["eCommerceAction"]["action_type"] == "2"),
        "n_product_impressions": sum(1 for _, p in products if p.get("isImpression")),
        "n_product_clicks": sum(1 for _, p in products if p.get("isClick")),
        "avg_time_on_site_seconds": _ratio(time_on_site, n, 1),
        "bounce_rate": _ratio(bounces, n, 4), "mobile_session_share": _ratio(devices["mobile"], n, 4),
    }
    last_365 = facts.window(client, 365)
    used = Counter(OPERATION_CHANNEL.get(operation) for *_, operation in last_365)
    row |= {
        "n_transactions_last_365d": len(last_365), "n_card_transactions_last_365d": used["card"],
        "n_cash_transactions_last_365d": used["cash"], "n_transfer_transactions_last_365d": used["transfer"],
        "card_transaction_share": _ratio(used["card"], len(last_365), 4),
        "cash_transaction_share": _ratio(used["cash"], len(last_365), 4),
        "transfer_transaction_share": _ratio(used["transfer"], len(last_365), 4),
        "n_products_held": facts.products_held(client),
    }
    ranked = [c for c in ("card", "transfer", "cash") if used[c]]
    row["primary_bank_channel"] = max(ranked, key=lambda c: used[c]) if ranked else None  # first wins ties
    weights = sum(w for w, _ in ENGAGEMENT_WEIGHTS.values())
    score = sum(w * min(Fraction(row[column]) / cap, 1) for column, (w, cap) in ENGAGEMENT_WEIGHTS.items())
    row["engagement_score"] = Rounded(100 * score / weights, 1)
    return row


# --- the comparison ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def berka(shared_data: Path) -> Berka:
    return read_berka(shared_data)


@pytest.fixture(scope="module")
def web(shared_data: Path):
    return read_visitor_links(shared_data), read_ga_sessions(shared_data)


@pytest.fixture(scope="module", params=["bank", "latest"])
def point_in_time(request, berka: Berka, web, real_warehouse: Path, real_warehouse_latest: Path):
    """(facts from the raw files, the build) at each of the two points in time."""
    as_of, database = ((BANK_AS_OF, real_warehouse) if request.param == "bank"
                       else (LATEST_AS_OF, real_warehouse_latest))
    links, sessions = web
    return Facts(berka, links, sessions, as_of), database


def assert_mart_matches(database: Path, mart: str, expected: dict[str, dict]) -> None:
    """Every client of the client master has a row, and each expected column equals it."""
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(f"select * from marts.{mart}")
        names = [d[0] for d in cursor.description]
        actual = {str(row[0]): dict(zip(names, row)) for row in cursor.fetchall()}
    assert set(actual) == set(expected)
    differences = [f"client {client} {column}: mart {actual[client][column]!r} != raw {value!r}"
                   for client, row in expected.items() for column, value in row.items()
                   if not value == actual[client][column]]
    assert not differences, f"{len(differences)} differences, first: {differences[:10]}"


def test_customer_loyalty_matches_the_raw_files(point_in_time):
    facts, database = point_in_time
    expected = {client: expected_loyalty(facts, client) for client in facts.clients}
    assert_mart_matches(database, "customer_loyalty", expected)
    tiers = Counter(row["loyalty_tier"] for row in expected.values())
    if facts.as_of == BANK_AS_OF:   # the comparison reaches the windows and the tiers
        assert sum(r["n_credits_last_180d"] for r in expected.values()) > 5_000
        assert tiers["silver"] > 100, tiers   # the history starts in 1993: no gold yet


def test_customer_demographic_matches_the_raw_files(point_in_time, berka: Berka):
    facts, database = point_in_time
    expected = {client: expected_demographic(facts, berka.districts[row["district_id"]], row)
                for client, row in facts.clients.items()}
    assert_mart_matches(database, "customer_demographic", expected)
    assert len(Counter(r["life_stage"] for r in expected.values())) >= 4


def test_customer_engagement_matches_the_raw_files(point_in_time):
    facts, database = point_in_time
    expected = {client: expected_engagement(facts, client) for client in facts.clients}
    assert_mart_matches(database, "customer_engagement", expected)
    if facts.as_of == LATEST_AS_OF:   # the web columns are filled at this date
        assert sum(r["web_sessions"] for r in expected.values()) > 10
        assert any(r["most_viewed_page_path_level_1"] for r in expected.values())
    else:
        assert sum(r["n_cash_transactions_last_365d"] for r in expected.values()) > 10_000
        assert sum(r["n_card_transactions_last_365d"] for r in expected.values()) > 0
