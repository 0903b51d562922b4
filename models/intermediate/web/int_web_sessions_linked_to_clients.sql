{#-
    Every GA session with the outcome of the identity rule for its visitor: `attributed`
    (client_id set), `ambiguous`, `unknown_client`, or `anonymous` (visitor not in the map).
    Only attributed sessions count in the marts.
-#}
with

sessions as (

    select * from {{ ref('stg_ga__sessions') }}

),

visitors as (

    select * from {{ ref('int_web_visitors_resolved_to_clients') }}

),

custom_dimensions as (

    select * from {{ ref('int_web_sessions_custom_dimensions_pivoted') }}

),

linked as (

    select
        sessions.session_key,
        sessions.full_visitor_id,
        visitors.client_id,
        coalesce(visitors.resolution_status, 'anonymous') as resolution_status,
        sessions.session_date,
        sessions.visit_started_at,
        sessions.channel_grouping,
        sessions.device_category,
        custom_dimensions.sales_region,
        sessions.n_hits,
        sessions.n_pageviews,
        sessions.time_on_site_seconds,
        sessions.is_bounce,
        sessions.n_transactions
    from sessions
    left join visitors
        on sessions.full_visitor_id = visitors.full_visitor_id
    left join custom_dimensions
        on sessions.session_key = custom_dimensions.session_key

)

select * from linked
