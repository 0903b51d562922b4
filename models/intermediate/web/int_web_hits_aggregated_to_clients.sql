{#-
    Attributed web hits per client up to as_of_date: the most viewed page-path levels (page
    hits; ties broken alphabetically) and product interest (products seen in a product detail
    view, product impressions in lists, product clicks).
-#}
with

sessions as (

    select linked.session_key, linked.client_id
    from {{ ref('int_web_sessions_linked_to_clients') }} as linked
    cross join (select as_of_date from {{ ref('int_as_of_date') }}) as as_of
    where linked.resolution_status = 'attributed'
        and linked.session_date <= as_of.as_of_date

),

hits as (

    select
        sessions.client_id,
        hits.hit_key,
        hits.hit_type,
        hits.page_path_level_1,
        hits.page_path_level_2,
        hits.ecommerce_action
    from {{ ref('stg_ga__hits') }} as hits
    inner join sessions
        on hits.session_key = sessions.session_key

),

products as (

    select
        hits.client_id,
        hits.ecommerce_action,
        hit_products.is_impression,
        hit_products.is_click
    from {{ ref('stg_ga__hit_products') }} as hit_products
    inner join hits
        on hit_products.hit_key = hits.hit_key

),

{%- for level in [1, 2] %}

page_level_{{ level }}_ranked as (

    select
        client_id,
        page_path_level_{{ level }} as page_path,
        row_number() over (
            partition by client_id
            order by count(*) desc, page_path_level_{{ level }} asc
        ) as page_rank
    from hits
    where hit_type = 'PAGE'
        and page_path_level_{{ level }} is not null
    group by client_id, page_path_level_{{ level }}

),
{%- endfor %}

hits_counted as (

    select
        client_id,
        sum(case when hit_type = 'PAGE' then 1 else 0 end) as n_page_hits,
        sum(case when hit_type = 'EVENT' then 1 else 0 end) as n_event_hits
    from hits
    group by client_id

),

products_counted as (

    select
        client_id,
        sum(case when ecommerce_action = 'product detail view' then 1 else 0 end) as n_product_detail_views,
        sum(case when is_impression then 1 else 0 end) as n_product_impressions,
        sum(case when is_click then 1 else 0 end) as n_product_clicks,
        sum(case when ecommerce_action = 'add to cart' then 1 else 0 end) as n_products_added_to_cart
    from products
    group by client_id

),

aggregated as (

    select
        hits_counted.client_id,
        hits_counted.n_page_hits,
        hits_counted.n_event_hits,
        page_level_1_ranked.page_path as most_viewed_page_path_level_1,
        page_level_2_ranked.page_path as most_viewed_page_path_level_2,
        coalesce(products_counted.n_product_detail_views, 0) as n_product_detail_views,
        coalesce(products_counted.n_product_impressions, 0) as n_product_impressions,
        coalesce(products_counted.n_product_clicks, 0) as n_product_clicks,
        coalesce(products_counted.n_products_added_to_cart, 0) as n_products_added_to_cart
    from hits_counted
    left join page_level_1_ranked
        on hits_counted.client_id = page_level_1_ranked.client_id
        and page_level_1_ranked.page_rank = 1
    left join page_level_2_ranked
        on hits_counted.client_id = page_level_2_ranked.client_id
        and page_level_2_ranked.page_rank = 1
    left join products_counted
        on hits_counted.client_id = products_counted.client_id

)

select * from aggregated
