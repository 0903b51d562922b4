{%- set long = var('window_long_days') -%}

with

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

clients as (

    select client_id from {{ ref('stg_mainframe__clients') }}

),

web_sessions as (

    select * from {{ ref('int_web_sessions_aggregated_to_clients') }}

),

web_hits as (

    select * from {{ ref('int_web_hits_aggregated_to_clients') }}

),

transactions as (

    select * from {{ ref('int_transactions_aggregated_to_clients') }}

),

products as (

    select * from {{ ref('int_client_products_aggregated_to_clients') }}

),

measured as (

    select
        clients.client_id,
        as_of.as_of_date,

        -- web (attributed sessions up to as_of_date)
        cast(coalesce(web_sessions.web_sessions, 0) as {{ dbt.type_int() }}) as web_sessions,
        cast(coalesce(web_sessions.web_pageviews, 0) as {{ dbt.type_int() }}) as web_pageviews,
        cast(coalesce(web_sessions.web_hits, 0) as {{ dbt.type_int() }}) as web_hits,
        cast(coalesce(web_sessions.web_time_on_site_seconds, 0) as {{ dbt.type_int() }}) as web_time_on_site_seconds,
        cast(coalesce(web_sessions.web_bounces, 0) as {{ dbt.type_int() }}) as web_bounces,
        web_sessions.first_visit_date,
        web_sessions.last_visit_date,
        cast({{ dbt.datediff('web_sessions.last_visit_date', 'as_of.as_of_date', 'day') }} as {{ dbt.type_int() }}) as days_since_last_visit,
        cast(coalesce(web_sessions.n_desktop_sessions, 0) as {{ dbt.type_int() }}) as n_desktop_sessions,
        cast(coalesce(web_sessions.n_mobile_sessions, 0) as {{ dbt.type_int() }}) as n_mobile_sessions,
        cast(coalesce(web_sessions.n_tablet_sessions, 0) as {{ dbt.type_int() }}) as n_tablet_sessions,
        cast(coalesce(web_sessions.n_organic_search_sessions, 0) as {{ dbt.type_int() }}) as n_organic_search_sessions,
        cast(coalesce(web_sessions.n_paid_search_sessions, 0) as {{ dbt.type_int() }}) as n_paid_search_sessions,
        cast(coalesce(web_sessions.n_direct_sessions, 0) as {{ dbt.type_int() }}) as n_direct_sessions,
        cast(coalesce(web_sessions.n_referral_sessions, 0) as {{ dbt.type_int() }}) as n_referral_sessions,
        cast(coalesce(web_sessions.n_social_sessions, 0) as {{ dbt.type_int() }}) as n_social_sessions,
        cast(coalesce(web_sessions.n_other_channel_sessions, 0) as {{ dbt.type_int() }}) as n_other_channel_sessions,
        web_sessions.most_frequent_sales_region as web_sales_region,
        web_hits.most_viewed_page_path_level_1,
        web_hits.most_viewed_page_path_level_2,
        cast(coalesce(web_hits.n_product_detail_views, 0) as {{ dbt.type_int() }}) as n_product_detail_views,
        cast(coalesce(web_hits.n_product_impressions, 0) as {{ dbt.type_int() }}) as n_product_impressions,
        cast(coalesce(web_hits.n_product_clicks, 0) as {{ dbt.type_int() }}) as n_product_clicks,

        -- bank (transactions on owned accounts in the last {{ long }} days)
        cast(coalesce(transactions.n_transactions_last_{{ long }}d, 0) as {{ dbt.type_int() }}) as n_transactions_last_{{ long }}d,
        cast(coalesce(transactions.n_card_transactions_last_{{ long }}d, 0) as {{ dbt.type_int() }}) as n_card_transactions_last_{{ long }}d,
        cast(coalesce(transactions.n_cash_transactions_last_{{ long }}d, 0) as {{ dbt.type_int() }}) as n_cash_transactions_last_{{ long }}d,
        cast(coalesce(transactions.n_transfer_transactions_last_{{ long }}d, 0) as {{ dbt.type_int() }}) as n_transfer_transactions_last_{{ long }}d,
        cast(coalesce(products.n_products_held, 0) as {{ dbt.type_int() }}) as n_products_held

    from clients
    cross join as_of
    left join web_sessions
        on clients.client_id = web_sessions.client_id
    left join web_hits
        on clients.client_id = web_hits.client_id
    left join transactions
        on clients.client_id = transactions.client_id
    left join products
        on clients.client_id = products.client_id

),

final as (

    select
        measured.*,
        cast(case when web_sessions > 0 then 1.0 * web_time_on_site_seconds / web_sessions end as decimal(10,1)) as avg_time_on_site_seconds,
        cast(case when web_sessions > 0 then 1.0 * web_bounces / web_sessions end as decimal(5,4)) as bounce_rate,
        cast(case when web_sessions > 0 then 1.0 * n_mobile_sessions / web_sessions end as decimal(5,4)) as mobile_session_share,
        cast(case when n_transactions_last_{{ long }}d > 0 then 1.0 * n_card_transactions_last_{{ long }}d / n_transactions_last_{{ long }}d end as decimal(5,4)) as card_transaction_share,
        cast(case when n_transactions_last_{{ long }}d > 0 then 1.0 * n_cash_transactions_last_{{ long }}d / n_transactions_last_{{ long }}d end as decimal(5,4)) as cash_transaction_share,
        cast(case when n_transactions_last_{{ long }}d > 0 then 1.0 * n_transfer_transactions_last_{{ long }}d / n_transactions_last_{{ long }}d end as decimal(5,4)) as transfer_transaction_share,
        case
            when n_card_transactions_last_{{ long }}d + n_cash_transactions_last_{{ long }}d + n_transfer_transactions_last_{{ long }}d = 0 then null
            when n_card_transactions_last_{{ long }}d >= n_cash_transactions_last_{{ long }}d
                and n_card_transactions_last_{{ long }}d >= n_transfer_transactions_last_{{ long }}d then 'card'
            when n_transfer_transactions_last_{{ long }}d >= n_cash_transactions_last_{{ long }}d then 'transfer'
            else 'cash'
        end as primary_bank_channel,
        {{ c360_engagement_score() }} as engagement_score
    from measured

)

select * from final
