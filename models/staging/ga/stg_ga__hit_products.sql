{#-
    Incremental (macros/incremental/c360_incremental.sql): a run reads only the raw batches newer
    than the newest one this table holds; the products of a re-delivered session replace all its
    earlier ones (by session_key), within the look-back window (var incremental_lookback_days).
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

product_lists as (

    {#-
        One row per hit, narrowed to what the products need before their list is unnested:
        unnesting a list inside each whole hit (page, event, transaction...) repeats the hit
        for every product and was most of this model's time.
    -#}
    select
        source.fullVisitorId,
        source.visitId,
        source.date,
        source._batch_id,
        source._ingested_at,
        hits.hit.hitNumber as hit_number,
        hits.hit.product as products
    from source
    {{ c360_unnest('source.hits', 'hits', 'hit') }}

),

renamed as (

    select

        ----------  ids
        {{ c360_ga_hit_key(c360_ga_session_key('product_lists.fullVisitorId', 'product_lists.visitId', 'product_lists.date'), 'product_lists.hit_number') }}
            || '-' || cast({{ c360_unnest_position('products', 'product_index') }} as {{ dbt.type_string() }}) as hit_product_key,
        {{ c360_ga_hit_key(c360_ga_session_key('product_lists.fullVisitorId', 'product_lists.visitId', 'product_lists.date'), 'product_lists.hit_number') }} as hit_key,
        {{ c360_ga_session_key('product_lists.fullVisitorId', 'product_lists.visitId', 'product_lists.date') }} as session_key,
        product_lists.fullVisitorId as full_visitor_id,

        ----------  strings
        products.product.productSKU as product_sku,
        products.product.v2ProductName as product_name,
        products.product.v2ProductCategory as product_category,
        products.product.productVariant as product_variant,
        products.product.productBrand as product_brand,
        products.product.productListName as product_list_name,

        ----------  numerics
        product_lists.hit_number,
        {{ c360_unnest_position('products', 'product_index') }} as product_index,
        products.product.productListPosition as product_list_position,
        products.product.productQuantity as product_quantity,
        {{ c360_micros_to_amount('products.product.productPrice') }} as product_price_amount,
        {{ c360_micros_to_amount('products.product.productRevenue') }} as product_revenue_amount,

        ----------  booleans
        coalesce(products.product.isImpression, false) as is_impression,
        coalesce(products.product.isClick, false) as is_click,

        ----------  dates
        {{ c360_yyyymmdd_to_date('product_lists.date') }} as session_date,

        ----------  lineage
        product_lists._batch_id as batch_id,
        product_lists._ingested_at as ingested_at

    from product_lists
    {{ c360_unnest('product_lists.products', 'products', 'product', index='product_index') }}

)

select * from renamed
{%- if is_incremental() %}
where {{ c360_refuse_outside_lookback('session_date') }}
{%- endif %}
