with

source as (

    {{ c360_latest_delivery(c360_source('ga', 'session'),
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
        {{ c360_yyyymmdd_to_date('source.date') }} as session_date

    from source
    {{ c360_unnest('source.customDimensions', 'custom_dimensions', 'custom_dimension') }}

)

select * from renamed
