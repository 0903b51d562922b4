{#-
    Attributed web sessions per client up to as_of_date: volume, time on site, bounces, the
    device and channel mix (session counts), and the most frequent GA sales region (custom
    dimension `sales_region`; ties broken alphabetically). Channels follow GA's default channel
    grouping; anything else counts as `other`.
-#}
with

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

sessions as (

    select linked.*
    from {{ ref('int_web_sessions_linked_to_clients') }} as linked
    cross join as_of
    where linked.resolution_status = 'attributed'
        and linked.session_date <= as_of.as_of_date

),

sales_regions_ranked as (

    select
        client_id,
        sales_region,
        row_number() over (
            partition by client_id
            order by count(*) desc, sales_region asc
        ) as region_rank
    from sessions
    where sales_region is not null
    group by client_id, sales_region

),

aggregated as (

    select
        client_id,
        count(*) as web_sessions,
        sum(n_pageviews) as web_pageviews,
        sum(n_hits) as web_hits,
        sum(time_on_site_seconds) as web_time_on_site_seconds,
        sum(case when is_bounce then 1 else 0 end) as web_bounces,
        min(session_date) as first_visit_date,
        max(session_date) as last_visit_date,

        sum(case when device_category = 'desktop' then 1 else 0 end) as n_desktop_sessions,
        sum(case when device_category = 'mobile' then 1 else 0 end) as n_mobile_sessions,
        sum(case when device_category = 'tablet' then 1 else 0 end) as n_tablet_sessions,

        sum(case when channel_grouping = 'Organic Search' then 1 else 0 end) as n_organic_search_sessions,
        sum(case when channel_grouping = 'Paid Search' then 1 else 0 end) as n_paid_search_sessions,
        sum(case when channel_grouping = 'Direct' then 1 else 0 end) as n_direct_sessions,
        sum(case when channel_grouping = 'Referral' then 1 else 0 end) as n_referral_sessions,
        sum(case when channel_grouping = 'Social' then 1 else 0 end) as n_social_sessions,
        sum(case when channel_grouping not in ('Organic Search', 'Paid Search', 'Direct', 'Referral', 'Social')
                   or channel_grouping is null then 1 else 0 end) as n_other_channel_sessions
    from sessions
    group by client_id

),

final as (

    select
        aggregated.*,
        sales_regions_ranked.sales_region as most_frequent_sales_region
    from aggregated
    left join sales_regions_ranked
        on aggregated.client_id = sales_regions_ranked.client_id
        and sales_regions_ranked.region_rank = 1

)

select * from final
