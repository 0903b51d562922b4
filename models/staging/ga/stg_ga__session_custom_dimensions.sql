{#-
    Incremental (macros/incremental/c360_incremental.sql): a run reads only the raw batches newer
    than the newest one this table holds; the custom dimensions of a re-delivered session replace
    all its earlier ones (by session_key), within the look-back window (var incremental_lookback_days).
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
        {{ c360_ga_session_key('source.fullVisitorId', 'source.visitId', 'source.date') }} as session_key,
        source.fullVisitorId as full_visitor_id,

        ----------  strings
        {{ c360_clean_text('custom_dimensions.custom_dimension.value') }} as custom_dimension_value,

        ----------  numerics
        custom_dimensions.custom_dimension.index as custom_dimension_index,

        ----------  dates
        {{ c360_yyyymmdd_to_date('source.date') }} as session_date,

        ----------  lineage
        source._batch_id as batch_id,
        source._ingested_at as ingested_at

    from source
    {{ c360_unnest('source.customDimensions', 'custom_dimensions', 'custom_dimension') }}

)

select * from renamed
{%- if is_incremental() %}
where {{ c360_refuse_outside_lookback('session_date') }}
{%- endif %}
