"""The serving layout: schema `serving`, built inside each build at publish time.

`c360 serve` answers one customer in a few milliseconds. Assembling that customer from the
marts on each request would cost four joins and a scan of the transactions (which are not
ordered by client); instead the document is built here, once per version, from the same
tables the gates passed, and published with them. It is therefore exactly the marts' rows
and the staging facts of that version, and it changes version with them in the one swap.

Tables (each written in `client_id` order, so a lookup reads one small block):
  * `customer_documents`   one row per client: the nested JSON document `GET /customers/{id}`
                           returns verbatim (primary key client_id);
  * `customer_index`       one row per client: the columns the listing filters and shows;
  * `client_monthly_transactions`  one row per client and calendar month with a transaction
                           on an owned account up to as_of_date: counts and CZK volumes;
  * `client_web_sessions`  one row per attributed GA session up to as_of_date;
  * `filter_values`        one row per allowed value of the listing's loyalty_tier and
                           life_stage filters (the business vars, and any value present).

Point in time follows the marts (models/intermediate/clients/int_client_products_unioned.sql):
accounts opened, cards issued and loans granted on or before as_of_date; transactions and
sessions dated on or before it. No birth number: the marts carry none, and nothing here reads
`stg_mainframe__clients`. Counterparty account numbers are left out too.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

SCHEMA = "serving"
RECENT_TRANSACTIONS = 20
RECENT_WEB_SESSIONS = 10
# python/c360/publish/serving.py -> repository root (where dbt_project.yml lives)
DBT_PROJECT = Path(__file__).resolve().parents[3] / "dbt_project.yml"

REQUIRED = ("marts.customer_360", "marts.customer_loyalty", "marts.customer_demographic",
            "marts.customer_engagement", "intermediate.int_as_of_date",
            "intermediate.int_transactions_joined_to_owners", "c360_meta.version")

_AS_OF = "(select as_of_date from intermediate.int_as_of_date)"

_TABLES = {
    "client_web_sessions": f"""
        select client_id, session_key, session_date, visit_started_at, channel_grouping,
               device_category, sales_region, n_hits, n_pageviews, time_on_site_seconds,
               is_bounce, n_transactions
        from intermediate.int_web_sessions_linked_to_clients
        where resolution_status = 'attributed' and session_date <= {_AS_OF}
        order by client_id, visit_started_at, session_key""",

    "client_monthly_transactions": f"""
        select client_id,
               cast(date_trunc('month', transaction_date) as date) as month_start_date,
               count(*) as n_transactions,
               count(*) filter (where transaction_direction = 'credit') as n_credits,
               count(*) filter (where transaction_direction = 'debit') as n_debits,
               coalesce(sum(amount_czk) filter (where transaction_direction = 'credit'), 0) as credit_amount_czk,
               coalesce(sum(amount_czk) filter (where transaction_direction = 'debit'), 0) as debit_amount_czk
        from intermediate.int_transactions_joined_to_owners
        where transaction_date <= {_AS_OF}
        group by all
        order by client_id, month_start_date""",

    "customer_index": """
        select c.client_id, c.gender, c.age_years, d.age_band, d.life_stage, l.loyalty_tier,
               c.district_id, c.district_name, c.district_region, l.n_products_held,
               c.n_transactions, c.n_transactions_last_90d, c.credit_amount_czk_last_90d,
               c.debit_amount_czk_last_90d, c.last_transaction_date, c.web_sessions,
               c.last_visit_date, e.engagement_score
        from marts.customer_360 as c
        join marts.customer_loyalty as l using (client_id)
        join marts.customer_demographic as d using (client_id)
        join marts.customer_engagement as e using (client_id)
        order by c.client_id""",
}

# One CTE per nested part; each yields one row per client that has any (lists are built
# ordered, so a document is deterministic).
_DOCUMENT_PARTS = f"""
    as_of as (select as_of_date from intermediate.int_as_of_date),
    held_dispositions as (
        select d.* from intermediate.int_dispositions_joined_to_accounts as d, as_of
        where d.account_opened_date <= as_of.as_of_date
    ),
    accounts as (
        select client_id, list({{
            'account_id': account_id, 'role': lower(disposition_type), 'is_owner': is_owner,
            'opened_date': account_opened_date, 'statement_frequency': statement_frequency,
            'district_id': account_district_id}} order by account_opened_date, account_id) as items
        from held_dispositions group by client_id
    ),
    cards as (
        select d.client_id, list({{
            'card_id': k.card_id, 'account_id': d.account_id, 'card_type': k.card_type,
            'issued_date': k.issued_date}} order by k.issued_date, k.card_id) as items
        from staging.stg_mainframe__cards as k
        join intermediate.int_dispositions_joined_to_accounts as d using (disp_id), as_of
        where k.issued_date <= as_of.as_of_date
        group by d.client_id
    ),
    loans as (
        select d.client_id, list({{
            'loan_id': n.loan_id, 'account_id': n.account_id, 'granted_date': n.granted_date,
            'amount_czk': n.amount_czk, 'duration_months': n.duration_months,
            'monthly_payment_czk': n.monthly_payment_czk, 'loan_status': n.loan_status,
            'is_loan_running': n.is_loan_running,
            'is_loan_in_good_standing': n.is_loan_in_good_standing}}
            order by n.granted_date, n.loan_id) as items
        from staging.stg_mainframe__loans as n
        join intermediate.int_dispositions_joined_to_accounts as d
            on n.account_id = d.account_id and d.is_owner, as_of
        where n.granted_date <= as_of.as_of_date
        group by d.client_id
    ),
    standing_orders as (
        select d.client_id, list({{
            'standing_order_id': o.standing_order_id, 'account_id': o.account_id,
            'recipient_bank_code': o.recipient_bank_code, 'amount_czk': o.amount_czk,
            'payment_purpose': o.payment_purpose}} order by o.standing_order_id) as items
        from staging.stg_mainframe__standing_orders as o
        join held_dispositions as d on o.account_id = d.account_id and d.is_owner
        group by d.client_id
    ),
    recent_transactions as (
        select client_id, list({{
            'trans_id': trans_id, 'account_id': account_id, 'transaction_date': transaction_date,
            'direction': transaction_direction, 'operation': operation,
            'interaction_channel': interaction_channel, 'payment_purpose': payment_purpose,
            'amount_czk': amount_czk, 'signed_amount_czk': signed_amount_czk,
            'balance_czk': balance_czk}} order by transaction_date desc, trans_id desc) as items
        from (
            select t.* from intermediate.int_transactions_joined_to_owners as t, as_of
            where t.transaction_date <= as_of.as_of_date
            qualify row_number() over (partition by t.client_id
                                       order by t.transaction_date desc, t.trans_id desc) <= {RECENT_TRANSACTIONS}
        )
        group by client_id
    ),
    recent_web_sessions as (
        select client_id, list({{
            'session_key': session_key, 'session_date': session_date,
            'visit_started_at': visit_started_at, 'channel_grouping': channel_grouping,
            'device_category': device_category, 'n_pageviews': n_pageviews, 'n_hits': n_hits,
            'time_on_site_seconds': time_on_site_seconds, 'is_bounce': is_bounce}}
            order by visit_started_at desc, session_key desc) as items
        from (
            select * from {SCHEMA}.client_web_sessions
            qualify row_number() over (partition by client_id
                                       order by visit_started_at desc, session_key desc) <= {RECENT_WEB_SESSIONS}
        )
        group by client_id
    ),
    attributed_visitors as (
        select client_id, list(full_visitor_id order by full_visitor_id) as items
        from intermediate.int_web_visitors_resolved_to_clients
        where resolution_status = 'attributed'
        group by client_id
    ),
    -- visitors the identity rule could not attribute although the map links them to this
    -- client (and to other known clients): the web activity this view does not count for them
    ambiguous_links as (
        select links.client_id, links.full_visitor_id
        from (select distinct full_visitor_id, client_id from staging.stg_web__visitor_client_links) as links
        join intermediate.int_web_visitors_resolved_to_clients as visitors using (full_visitor_id)
        join marts.customer_360 as known on known.client_id = links.client_id
        where visitors.resolution_status = 'ambiguous'
    ),
    ambiguous_visitors as (
        select a.client_id, list({{
            'full_visitor_id': a.full_visitor_id,
            'candidate_client_ids': (select list(distinct l.client_id order by l.client_id)
                                     from ambiguous_links as l where l.full_visitor_id = a.full_visitor_id),
            'n_sessions': (select count(*) from intermediate.int_web_sessions_linked_to_clients as s
                           where s.full_visitor_id = a.full_visitor_id)}}
            order by a.full_visitor_id) as items
        from ambiguous_links as a
        group by a.client_id
    ),
    version as (select build_id, as_of_date, published_at from c360_meta.version)
"""

_DOCUMENTS = f"""
    with {_DOCUMENT_PARTS}
    select c.client_id, to_json({{
        'client_id': c.client_id,
        'as_of_date': c.as_of_date,
        'customer': c.customer,
        'loyalty': l.loyalty,
        'demographic': d.demographic,
        'engagement': e.engagement,
        'accounts': coalesce(accounts.items, []),
        'cards': coalesce(cards.items, []),
        'loans': coalesce(loans.items, []),
        'standing_orders': coalesce(standing_orders.items, []),
        'recent_transactions': coalesce(recent_transactions.items, []),
        'recent_web_sessions': coalesce(recent_web_sessions.items, []),
        'identity': {{
            'attributed_visitors': coalesce(attributed_visitors.items, []),
            'ambiguous_visitors': coalesce(ambiguous_visitors.items, [])}},
        'version': (select version from version)}}) as document
    from (select client_id, as_of_date, customer from marts.customer_360 as customer) as c
    join (select client_id, loyalty from marts.customer_loyalty as loyalty) as l using (client_id)
    join (select client_id, demographic from marts.customer_demographic as demographic) as d using (client_id)
    join (select client_id, engagement from marts.customer_engagement as engagement) as e using (client_id)
    left join accounts using (client_id)
    left join cards using (client_id)
    left join loans using (client_id)
    left join standing_orders using (client_id)
    left join recent_transactions using (client_id)
    left join recent_web_sessions using (client_id)
    left join attributed_visitors using (client_id)
    left join ambiguous_visitors using (client_id)
    order by c.client_id
"""


def build_serving(con: duckdb.DuckDBPyConnection, dbt_project: Path = DBT_PROJECT) -> list[str]:
    """(Re)build schema `serving` in the build `con` is connected to, from its marts,
    intermediate and staging tables and its `c360_meta.version` row. Returns the tables
    built: none for a database without the customer marts (a hand-made test build), which
    `c360 serve` then reports as a version it cannot serve."""
    con.execute(f"drop schema if exists {SCHEMA} cascade")    # a build copied from the last version has one
    present = {f"{schema}.{table}" for schema, table in con.execute(
        "select schema_name, table_name from duckdb_tables()").fetchall()}
    if not set(REQUIRED).issubset(present):
        return []
    con.execute(f"create schema {SCHEMA}")
    for table, query in _TABLES.items():
        con.execute(f"create table {SCHEMA}.{table} as {query}")
    con.execute(f"create table {SCHEMA}.customer_documents (client_id integer primary key, document json not null)")
    con.execute(f"insert into {SCHEMA}.customer_documents {_DOCUMENTS}")
    _write_filter_values(con, dbt_project)
    return [*_TABLES, "customer_documents", "filter_values"]


def _write_filter_values(con: duckdb.DuckDBPyConnection, dbt_project: Path) -> None:
    """The listing answers an unknown filter value with the allowed ones. Allowed is the
    business rule's domain (dbt vars `loyalty_tiers`, `loyalty_tier_default`, `life_stages`,
    and `unknown` for a missing age, as the macros define it), not only the values some client
    has today: `gold` is a valid question even in a version where no client is gold."""
    variables = yaml.safe_load(Path(dbt_project).read_text()).get("vars", {})
    tiers = [tier["tier"] for tier in variables.get("loyalty_tiers", [])] + [variables.get("loyalty_tier_default")]
    stages = [stage["stage"] for stage in variables.get("life_stages", [])] + ["unknown"]
    rules = [("loyalty_tier", value, position) for position, value in enumerate(tiers) if value]
    rules += [("life_stage", value, position) for position, value in enumerate(stages)]
    con.execute(f"create table {SCHEMA}.filter_values (filter varchar, value varchar, position integer)")
    con.executemany(f"insert into {SCHEMA}.filter_values values (?, ?, ?)", rules)
    con.execute(f"""
        insert into {SCHEMA}.filter_values
        select distinct 'loyalty_tier', loyalty_tier, 1000 from {SCHEMA}.customer_index
        where loyalty_tier not in (select value from {SCHEMA}.filter_values where filter = 'loyalty_tier')
        union all
        select distinct 'life_stage', life_stage, 1000 from {SCHEMA}.customer_index
        where life_stage not in (select value from {SCHEMA}.filter_values where filter = 'life_stage')""")
