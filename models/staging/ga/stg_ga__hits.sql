{#-
    Incremental (macros/incremental/c360_incremental.sql): a run reads only the raw batches newer
    than the newest one this table holds; the hits of a re-delivered session replace all its earlier
    hits (by session_key: a session re-delivered with fewer hits keeps none of the old ones), within
    the look-back window (var incremental_lookback_days).
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

unnested as (

    {#- one row per hit; the seed lookup comes after, as Spark wants joins before lateral views -#}
    select
        source.fullVisitorId,
        source.visitId,
        source.date,
        source._batch_id,
        source._ingested_at,
        hits.hit
    from source
    {{ c360_unnest('source.hits', 'hits', 'hit') }}

),

ecommerce_action_types as (

    select * from {{ ref('ga_ecommerce_action_types') }}

),

renamed as (

    select

        ----------  ids
        {{ c360_ga_hit_key(c360_ga_session_key('unnested.fullVisitorId', 'unnested.visitId', 'unnested.date'), 'unnested.hit.hitNumber') }} as hit_key,
        {{ c360_ga_session_key('unnested.fullVisitorId', 'unnested.visitId', 'unnested.date') }} as session_key,
        unnested.fullVisitorId as full_visitor_id,

        ----------  strings
        unnested.hit.type as hit_type,
        unnested.hit.page.hostname as page_hostname,
        unnested.hit.page.pagePath as page_path,
        unnested.hit.page.pageTitle as page_title,
        {{ c360_clean_text('unnested.hit.page.pagePathLevel1') }} as page_path_level_1,
        {{ c360_clean_text('unnested.hit.page.pagePathLevel2') }} as page_path_level_2,
        {{ c360_clean_text('unnested.hit.page.pagePathLevel3') }} as page_path_level_3,
        {{ c360_clean_text('unnested.hit.page.pagePathLevel4') }} as page_path_level_4,
        unnested.hit.eCommerceAction.action_type as ecommerce_action_type_code,
        ecommerce_action_types.ecommerce_action,
        unnested.hit.eventInfo.eventCategory as event_category,
        unnested.hit.eventInfo.eventAction as event_action,
        unnested.hit.eventInfo.eventLabel as event_label,
        unnested.hit.transaction.transactionId as transaction_id,
        unnested.hit.transaction.currencyCode as currency_code,

        ----------  numerics
        unnested.hit.hitNumber as hit_number,
        unnested.hit.time as hit_time_ms,
        unnested.hit.hour as hit_hour,
        unnested.hit.minute as hit_minute,
        unnested.hit.eCommerceAction.step as ecommerce_step,
        {{ c360_micros_to_amount('unnested.hit.transaction.transactionRevenue') }} as transaction_revenue_amount,

        ----------  booleans
        coalesce(unnested.hit.isInteraction, false) as is_interaction,
        coalesce(unnested.hit.isEntrance, false) as is_entrance,
        coalesce(unnested.hit.isExit, false) as is_exit,

        ----------  dates
        {{ c360_yyyymmdd_to_date('unnested.date') }} as session_date,

        ----------  lineage
        unnested._batch_id as batch_id,
        unnested._ingested_at as ingested_at

    from unnested
    left join ecommerce_action_types
        on unnested.hit.eCommerceAction.action_type = ecommerce_action_types.action_type_code

)

select * from renamed
{%- if is_incremental() %}
where {{ c360_refuse_outside_lookback('session_date') }}
{%- endif %}
