"""What the API and the dashboard ask the published version (schema `serving`, built at
publish time by c360/publish/serving.py, and the marts). Each function takes a cursor on one
version; values come back as DuckDB writes them to JSON, so a listing row and a document
carry the same numbers."""
from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

LISTING_COLUMNS = ("client_id", "gender", "age_years", "age_band", "life_stage", "loyalty_tier",
                   "district_id", "district_name", "district_region", "n_products_held",
                   "n_transactions", "n_transactions_last_90d", "credit_amount_czk_last_90d",
                   "debit_amount_czk_last_90d", "last_transaction_date", "web_sessions",
                   "last_visit_date", "engagement_score")


class UnknownFilterValue(ValueError):
    """A listing filter value outside its domain."""

    def __init__(self, name: str, value: str, allowed: list[str]):
        super().__init__(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
        self.name, self.value, self.allowed = name, value, allowed


@dataclass(frozen=True)
class Filters:
    loyalty_tier: str | None = None
    life_stage: str | None = None
    district: str | None = None           # a district id or name
    min_engagement: float | None = None


def customer_document(cursor: duckdb.DuckDBPyConnection, client_id: int) -> str | None:
    """The client's JSON document, as published (None for an unknown client)."""
    row = cursor.execute("select document from serving.customer_documents where client_id = $1",
                         [client_id]).fetchone()
    return row[0] if row else None


def allowed_values(cursor: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [value for (value,) in cursor.execute(
        "select value from serving.filter_values where filter = $1 order by position, value", [name]).fetchall()]


def _district_id(cursor: duckdb.DuckDBPyConnection, district: str) -> int:
    districts = cursor.execute("select district_id, district_name from staging.stg_reference__districts"
                               " order by district_id").fetchall()
    for district_id, name in districts:
        if district.strip() == str(district_id) or district.strip().casefold() == (name or "").casefold():
            return district_id
    raise UnknownFilterValue("district", district, [f"{i} ({name})" for i, name in districts])


def list_customers(cursor: duckdb.DuckDBPyConnection, filters: Filters, *, limit: int,
                   after: int | None) -> tuple[list[dict], int | None]:
    """A page of the filtered listing in client_id order, after the keyset `after`; returns the
    rows and the `after` of the next page (None on the last page)."""
    conditions, parameters = ["client_id > $after"], {"after": after if after is not None else -1}
    for name in ("loyalty_tier", "life_stage"):
        value = getattr(filters, name)
        if value is not None:
            allowed = allowed_values(cursor, name)
            if value not in allowed:
                raise UnknownFilterValue(name, value, allowed)
            conditions.append(f"{name} = ${name}")
            parameters[name] = value
    if filters.district is not None:
        conditions.append("district_id = $district_id")
        parameters["district_id"] = _district_id(cursor, filters.district)
    if filters.min_engagement is not None:
        conditions.append("engagement_score >= $min_engagement")
        parameters["min_engagement"] = filters.min_engagement
    parameters["fetch"] = limit + 1                 # one more than asked tells whether a next page exists
    rows = cursor.execute(
        f"select to_json(r) from (select {', '.join(LISTING_COLUMNS)} from serving.customer_index"
        f" where {' and '.join(conditions)} order by client_id limit $fetch) as r", parameters).fetchall()
    items = [json.loads(row) for (row,) in rows[:limit]]
    return items, (items[-1]["client_id"] if len(rows) > limit else None)


def segments(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    """Clients and the marts' average figures by loyalty tier x life stage."""
    rows = cursor.execute("""
        select to_json(r) from (
            select loyalty_tier, life_stage, count(*) as clients,
                   avg(n_transactions) as avg_transactions,
                   avg(credit_amount_czk_last_90d) as avg_credit_amount_czk_last_90d,
                   avg(debit_amount_czk_last_90d) as avg_debit_amount_czk_last_90d,
                   avg(engagement_score) as avg_engagement_score,
                   avg(web_sessions) as avg_web_sessions
            from serving.customer_index as c
            left join serving.filter_values as tier on tier.filter = 'loyalty_tier' and tier.value = c.loyalty_tier
            left join serving.filter_values as stage on stage.filter = 'life_stage' and stage.value = c.life_stage
            group by loyalty_tier, life_stage
            order by min(tier.position), min(stage.position), loyalty_tier, life_stage
        ) as r""").fetchall()
    return [json.loads(row) for (row,) in rows]


# -- the dashboard's questions ------------------------------------------------------------------

def engagement_distribution(cursor: duckdb.DuckDBPyConnection, width: float = 5.0) -> list[tuple[float, int]]:
    """Clients per engagement-score bin [bin, bin + width)."""
    return cursor.execute("select floor(engagement_score / $w) * $w as bin, count(*) from serving.customer_index"
                          " group by bin order by bin", {"w": width}).fetchall()


def web_attribution(cursor: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int]]:
    """GA sessions and visitors by the identity rule's outcome (attributed, ambiguous,
    unknown_client, anonymous): what the marts count, and what they cannot."""
    return cursor.execute("""
        select resolution_status, count(*) as sessions, count(distinct full_visitor_id) as visitors
        from intermediate.int_web_sessions_linked_to_clients
        group by resolution_status
        order by case resolution_status when 'attributed' then 0 when 'ambiguous' then 1
                 when 'unknown_client' then 2 else 3 end""").fetchall()


def identity_losses(cursor: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Visitors the identity rule does not attribute (marts.identity_resolution), per visitor."""
    return cursor.execute("""
        select full_visitor_id, resolution_status, any_value(candidate_client_ids),
               count(session_key) as sessions
        from marts.identity_resolution
        group by full_visitor_id, resolution_status
        order by resolution_status, sessions desc, full_visitor_id""").fetchall()


def monthly_transactions(cursor: duckdb.DuckDBPyConnection, client_id: int) -> list[tuple]:
    return cursor.execute("select month_start_date, n_transactions, credit_amount_czk, debit_amount_czk"
                          " from serving.client_monthly_transactions where client_id = $1"
                          " order by month_start_date", [client_id]).fetchall()


def web_sessions(cursor: duckdb.DuckDBPyConnection, client_id: int) -> list[tuple]:
    return cursor.execute("select visit_started_at, n_pageviews, channel_grouping, device_category,"
                          " time_on_site_seconds from serving.client_web_sessions where client_id = $1"
                          " order by visit_started_at", [client_id]).fetchall()


def client_count(cursor: duckdb.DuckDBPyConnection) -> int:
    return cursor.execute("select count(*) from serving.customer_index").fetchone()[0]
