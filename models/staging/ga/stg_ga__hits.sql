with

source as (

    {{ c360_latest_delivery(c360_source('ga', 'session'),
                            ['fullVisitorId', 'visitId', 'date'], trim_keys=false) }}

),

ecommerce_action_types as (

    select * from {{ ref('ga_ecommerce_action_types') }}

),

renamed as (

    select

        ----------  ids
        {{ c360_ga_hit_key(c360_ga_session_key('source.fullVisitorId', 'source.visitId', 'source.date'), 'hits.hit.hitNumber') }} as hit_key,
        {{ c360_ga_session_key('source.fullVisitorId', 'source.visitId', 'source.date') }} as session_key,
        source.fullVisitorId as full_visitor_id,

        ----------  strings
        hits.hit.type as hit_type,
        hits.hit.page.hostname as page_hostname,
        hits.hit.page.pagePath as page_path,
        hits.hit.page.pageTitle as page_title,
        {{ c360_clean_text('hits.hit.page.pagePathLevel1') }} as page_path_level_1,
        {{ c360_clean_text('hits.hit.page.pagePathLevel2') }} as page_path_level_2,
        {{ c360_clean_text('hits.hit.page.pagePathLevel3') }} as page_path_level_3,
        {{ c360_clean_text('hits.hit.page.pagePathLevel4') }} as page_path_level_4,
        hits.hit.eCommerceAction.action_type as ecommerce_action_type_code,
        ecommerce_action_types.ecommerce_action,
        hits.hit.eventInfo.eventCategory as event_category,
        hits.hit.eventInfo.eventAction as event_action,
        hits.hit.eventInfo.eventLabel as event_label,
        hits.hit.transaction.transactionId as transaction_id,

        ----------  numerics
        hits.hit.hitNumber as hit_number,
        hits.hit.time as hit_time_ms,
        hits.hit.hour as hit_hour,
        hits.hit.minute as hit_minute,
        hits.hit.eCommerceAction.step as ecommerce_step,
        {{ c360_micros_to_usd('hits.hit.transaction.transactionRevenue') }} as transaction_revenue_usd,

        ----------  booleans
        coalesce(hits.hit.isInteraction, false) as is_interaction,
        coalesce(hits.hit.isEntrance, false) as is_entrance,
        coalesce(hits.hit.isExit, false) as is_exit,

        ----------  dates
        {{ c360_yyyymmdd_to_date('source.date') }} as session_date

    from source
    {{ c360_unnest('source.hits', 'hits', 'hit') }}
    left join ecommerce_action_types
        on hits.hit.eCommerceAction.action_type = ecommerce_action_types.action_type_code

)

select * from renamed
