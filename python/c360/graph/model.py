"""The customer-journey graph: which vertices and edges c360 exports, computed by DuckDB.

Every element set is one SQL query over the published database (attached read-only as
`c360`), point-in-time at its `as_of_date`: what the marts count at that date is what the
graph holds, so a client's `holds` edges are `n_accounts_owned + n_accounts_disponent`, its
`issued_to` edges `n_cards` and the sessions of its attributed visitors `web_sessions`.

Ids are a type prefix and the business key (`CUS12345`, `ACC678`, `SES<session key>`), so
they are stable across runs; an edge's id is `<from id>_<to id>` (a page view adds its hit
number, a session can view one page several times). Edge labels are verbs.

A query returns `id` (and `from_id`, `to_id` for an edge) and then one column per property,
named and typed as declared; a NULL is a property the element simply does not have.
"""
from __future__ import annotations

from dataclasses import dataclass

# Property types: the Neptune Gremlin CSV type, and how DuckDB writes the value.
STRING, INT, DOUBLE, BOOL, DATE, DATETIME = "String", "Int", "Double", "Bool", "Date", "DateTime"


@dataclass(frozen=True)
class Property:
    name: str
    type: str          # one of the types above; DATETIME is a UTC timestamp


@dataclass(frozen=True)
class ElementSet:
    kind: str          # "vertex" or "edge"
    label: str
    sql: str
    properties: tuple[Property, ...]

    @property
    def table(self) -> str:
        return f"graph_{self.kind}_{self.label}"


def _props(*pairs: tuple[str, str]) -> tuple[Property, ...]:
    return tuple(Property(name, type_) for name, type_ in pairs)


AS_OF = "(select as_of_date from c360.c360_meta.version)"

VERTICES = (
    ElementSet("vertex", "client", """
        select 'CUS' || c.client_id as id, c.client_id, c.gender, c.birth_date,
               c.customer_since_date, d.occupation, d.marital_status, d.home_ownership
        from c360.marts.customer_360 c
        left join c360.marts.customer_demographic d using (client_id)""",
        _props(("client_id", INT), ("gender", STRING), ("birth_date", DATE),
               ("customer_since_date", DATE), ("occupation", STRING),
               ("marital_status", STRING), ("home_ownership", STRING))),
    ElementSet("vertex", "account", f"""
        select 'ACC' || account_id as id, account_id, opened_date, statement_frequency,
               district_id as branch_district_id
        from c360.staging.stg_mainframe__accounts
        where opened_date <= {AS_OF}""",
        _props(("account_id", INT), ("opened_date", DATE), ("statement_frequency", STRING),
               ("branch_district_id", INT))),
    # A card is issued to a disposition (a client on an account), as the marts count it.
    ElementSet("vertex", "card", f"""
        select 'CRD' || cards.card_id as id, cards.card_id, cards.card_type, cards.issued_date
        from c360.staging.stg_mainframe__cards cards
        join c360.staging.stg_mainframe__dispositions disp using (disp_id)
        where cards.issued_date <= {AS_OF}""",
        _props(("card_id", INT), ("card_type", STRING), ("issued_date", DATE))),
    ElementSet("vertex", "loan", f"""
        select 'LOA' || loan_id as id, loan_id, amount_czk, duration_months, monthly_payment_czk,
               loan_status, granted_date
        from c360.staging.stg_mainframe__loans
        where granted_date <= {AS_OF}""",
        _props(("loan_id", INT), ("amount_czk", DOUBLE), ("duration_months", INT),
               ("monthly_payment_czk", DOUBLE), ("loan_status", STRING), ("granted_date", DATE))),
    # Standing orders carry no date: one counts once its account is open.
    ElementSet("vertex", "standing_order", f"""
        select 'ORD' || o.standing_order_id as id, o.standing_order_id, o.amount_czk,
               o.recipient_bank_code, o.recipient_account_number, o.payment_purpose
        from c360.staging.stg_mainframe__standing_orders o
        join c360.staging.stg_mainframe__accounts a using (account_id)
        where a.opened_date <= {AS_OF}""",
        _props(("standing_order_id", INT), ("amount_czk", DOUBLE), ("recipient_bank_code", STRING),
               ("recipient_account_number", STRING), ("payment_purpose", STRING))),
    ElementSet("vertex", "district", """
        select 'DIS' || district_id as id, district_id, district_name, region, n_inhabitants,
               avg_salary_czk, unemployment_rate_1996_pct
        from c360.staging.stg_reference__districts""",
        _props(("district_id", INT), ("district_name", STRING), ("region", STRING),
               ("n_inhabitants", INT), ("avg_salary_czk", DOUBLE),
               ("unemployment_rate_1996_pct", DOUBLE))),
    # Every visitor of the visitor map (with the identity rule's outcome) and every visitor
    # with a session, mapped or not (anonymous).
    ElementSet("vertex", "web_visitor", f"""
        with visitors as (
            select full_visitor_id from c360.intermediate.int_web_visitors_resolved_to_clients
            union
            select full_visitor_id from c360.staging.stg_ga__sessions where session_date <= {AS_OF}
        )
        select 'VIS' || v.full_visitor_id as id, v.full_visitor_id,
               coalesce(r.resolution_status, 'anonymous') as resolution_status
        from visitors v
        left join c360.intermediate.int_web_visitors_resolved_to_clients r using (full_visitor_id)
        where v.full_visitor_id is not null""",
        _props(("full_visitor_id", STRING), ("resolution_status", STRING))),
    ElementSet("vertex", "web_session", f"""
        select 'SES' || session_key as id, session_key, session_date, visit_started_at,
               channel_grouping, device_category, n_hits, n_pageviews, time_on_site_seconds,
               is_bounce
        from c360.staging.stg_ga__sessions
        where session_date <= {AS_OF}""",
        _props(("session_key", STRING), ("session_date", DATE), ("visit_started_at", DATETIME),
               ("channel_grouping", STRING), ("device_category", STRING), ("n_hits", INT),
               ("n_pageviews", INT), ("time_on_site_seconds", INT), ("is_bounce", BOOL))),
    ElementSet("vertex", "page", f"""
        select distinct 'PAG' || h.page_path as id, h.page_path
        from c360.staging.stg_ga__hits h
        join c360.staging.stg_ga__sessions s using (session_key)
        where h.hit_type = 'PAGE' and h.page_path is not null and s.session_date <= {AS_OF}""",
        _props(("page_path", STRING),)),
)

EDGES = (
    ElementSet("edge", "holds", """
        select 'CUS' || d.client_id || '_ACC' || d.account_id as id,
               'CUS' || d.client_id as from_id, 'ACC' || d.account_id as to_id,
               d.disposition_type as role, d.disp_id
        from c360.staging.stg_mainframe__dispositions d
        join graph_vertex_account a on a.id = 'ACC' || d.account_id""",
        _props(("role", STRING), ("disp_id", INT))),
    ElementSet("edge", "has_card", """
        select 'ACC' || d.account_id || '_CRD' || c.card_id as id,
               'ACC' || d.account_id as from_id, 'CRD' || c.card_id as to_id
        from c360.staging.stg_mainframe__cards c
        join c360.staging.stg_mainframe__dispositions d using (disp_id)
        join graph_vertex_card v on v.id = 'CRD' || c.card_id""",
        ()),
    ElementSet("edge", "issued_to", """
        select 'CRD' || c.card_id || '_CUS' || d.client_id as id,
               'CRD' || c.card_id as from_id, 'CUS' || d.client_id as to_id
        from c360.staging.stg_mainframe__cards c
        join c360.staging.stg_mainframe__dispositions d using (disp_id)
        join graph_vertex_card v on v.id = 'CRD' || c.card_id""",
        ()),
    ElementSet("edge", "has_loan", """
        select 'ACC' || l.account_id || '_LOA' || l.loan_id as id,
               'ACC' || l.account_id as from_id, 'LOA' || l.loan_id as to_id
        from c360.staging.stg_mainframe__loans l
        join graph_vertex_loan v on v.id = 'LOA' || l.loan_id""",
        ()),
    ElementSet("edge", "has_standing_order", """
        select 'ACC' || o.account_id || '_ORD' || o.standing_order_id as id,
               'ACC' || o.account_id as from_id, 'ORD' || o.standing_order_id as to_id
        from c360.staging.stg_mainframe__standing_orders o
        join graph_vertex_standing_order v on v.id = 'ORD' || o.standing_order_id""",
        ()),
    ElementSet("edge", "lives_in", """
        select 'CUS' || client_id || '_DIS' || district_id as id,
               'CUS' || client_id as from_id, 'DIS' || district_id as to_id
        from c360.marts.customer_360
        where district_id is not null""",
        ()),
    # The identity rule decides: a visitor linked to one known client is attributed to it; a
    # visitor linked to several is ambiguous and linked to each, attributed to none. Links to
    # client ids the bank does not know have no client to end at.
    ElementSet("edge", "linked_to", """
        select distinct 'VIS' || l.full_visitor_id || '_CUS' || l.client_id as id,
               'VIS' || l.full_visitor_id as from_id, 'CUS' || l.client_id as to_id,
               r.resolution_status as resolution
        from c360.staging.stg_web__visitor_client_links l
        join c360.intermediate.int_web_visitors_resolved_to_clients r using (full_visitor_id)
        join c360.marts.customer_360 c on c.client_id = l.client_id
        where r.resolution_status in ('attributed', 'ambiguous')""",
        _props(("resolution", STRING),)),
    ElementSet("edge", "had_session", """
        select 'VIS' || s.full_visitor_id || '_SES' || s.session_key as id,
               'VIS' || s.full_visitor_id as from_id, 'SES' || s.session_key as to_id,
               s.visit_started_at as started_at
        from c360.staging.stg_ga__sessions s
        join graph_vertex_web_session v on v.id = 'SES' || s.session_key""",
        _props(("started_at", DATETIME),)),
    ElementSet("edge", "viewed", """
        select 'SES' || h.session_key || '_PAG' || h.page_path || '_' || h.hit_number as id,
               'SES' || h.session_key as from_id, 'PAG' || h.page_path as to_id,
               h.hit_number,
               s.visit_started_at + to_milliseconds(coalesce(h.hit_time_ms, 0)) as viewed_at
        from c360.staging.stg_ga__hits h
        join c360.staging.stg_ga__sessions s using (session_key)
        join graph_vertex_web_session v on v.id = 'SES' || h.session_key
        where h.hit_type = 'PAGE' and h.page_path is not null""",
        _props(("hit_number", INT), ("viewed_at", DATETIME))),
)

ELEMENT_SETS = VERTICES + EDGES
