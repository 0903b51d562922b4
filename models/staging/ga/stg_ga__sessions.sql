{#-
    Incremental (macros/incremental/c360_incremental.sql): a run reads only the raw batches newer
    than the newest one this table holds; a re-delivered session replaces its earlier version (by
    session_key), within the look-back window (var incremental_lookback_days).
-#}
{{ config(
    materialized='incremental',
    unique_key='session_key',
    incremental_strategy=c360_incremental_strategy(),
    partition_by=['session_date'] if target.type == 'spark' else none,
    on_schema_change='fail'
) }}

with

source as (

    {{ c360_latest_delivery(c360_new_deliveries(c360_source('ga', 'session'), 'date'),
                            ['fullVisitorId', 'visitId', 'date'], trim_keys=false) }}

),

renamed as (

    select

        ----------  ids
        {{ c360_ga_session_key('fullVisitorId', 'visitId', 'date') }} as session_key,
        fullVisitorId as full_visitor_id,
        visitId as visit_id,

        ----------  strings
        channelGrouping as channel_grouping,
        trafficSource.source as traffic_source,
        trafficSource.medium as traffic_medium,
        trafficSource.campaign as traffic_campaign,
        device.deviceCategory as device_category,
        device.browser as device_browser,
        device.operatingSystem as device_operating_system,
        geoNetwork.continent as geo_continent,
        geoNetwork.subContinent as geo_sub_continent,
        geoNetwork.country as geo_country,
        geoNetwork.city as geo_city,

        ----------  numerics
        visitNumber as visit_number,
        coalesce(totals.hits, 0) as n_hits,
        coalesce(totals.pageviews, 0) as n_pageviews,
        coalesce(totals.timeOnSite, 0) as time_on_site_seconds,
        coalesce(totals.transactions, 0) as n_transactions,
        {{ c360_micros_to_amount('totals.transactionRevenue') }} as transaction_revenue_amount,
        {{ c360_micros_to_amount('totals.totalTransactionRevenue') }} as total_transaction_revenue_amount,

        ----------  booleans
        coalesce(totals.bounces, 0) = 1 as is_bounce,
        coalesce(totals.newVisits, 0) = 1 as is_new_visit,
        device.isMobile as is_mobile,

        ----------  dates
        {{ c360_yyyymmdd_to_date('date') }} as session_date,
        {{ c360_epoch_seconds_to_timestamp('visitStartTime') }} as visit_started_at,

        ----------  lineage
        _batch_id as batch_id,
        _ingested_at as ingested_at

    from source

)

select * from renamed
{%- if is_incremental() %}
where {{ c360_refuse_outside_lookback('session_date') }}
{%- endif %}
