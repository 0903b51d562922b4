with

source as (

    {{ c360_latest_delivery(c360_source('mainframe', 'card'), ['card_id']) }}

),

renamed as (

    select

        ----------  ids
        {{ c360_to_integer('card_id') }} as card_id,
        {{ c360_to_integer('disp_id') }} as disp_id,

        ----------  strings
        lower({{ c360_clean_text('type') }}) as card_type,

        ----------  dates
        {{ c360_yymmdd_to_date('issued') }} as issued_date,

        ----------  lineage
        _batch_id as batch_id,
        _ingested_at as ingested_at

    from source

)

select * from renamed
