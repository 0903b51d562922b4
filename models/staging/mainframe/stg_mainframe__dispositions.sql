with

source as (

    {{ c360_latest_delivery(c360_source('mainframe', 'disp'), ['disp_id']) }}

),

disposition_types as (

    select * from {{ ref('mainframe_disposition_types') }}

),

renamed as (

    select

        ----------  ids
        {{ c360_to_integer('source.disp_id') }} as disp_id,
        {{ c360_to_integer('source.client_id') }} as client_id,
        {{ c360_to_integer('source.account_id') }} as account_id,

        ----------  strings
        {{ c360_clean_text('source.type') }} as disposition_type_code,
        disposition_types.disposition_type,

        ----------  booleans
        disposition_types.is_owner,

        ----------  lineage
        source._batch_id as batch_id,
        source._ingested_at as ingested_at

    from source
    left join disposition_types
        on upper({{ c360_clean_text('source.type') }}) = disposition_types.type_code

)

select * from renamed
