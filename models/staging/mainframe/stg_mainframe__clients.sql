with

source as (

    {{ c360_latest_delivery(c360_source('mainframe', 'client'), ['client_id']) }}

),

renamed as (

    select

        ----------  ids
        {{ c360_to_integer('client_id') }} as client_id,
        {{ c360_to_integer('district_id') }} as district_id,

        ----------  strings
        {{ c360_clean_text('birth_number') }} as birth_number,
        {{ c360_birth_number_to_gender('birth_number') }} as gender,

        ----------  dates
        {{ c360_birth_number_to_date('birth_number') }} as birth_date,

        ----------  lineage
        _batch_id as batch_id,
        _ingested_at as ingested_at

    from source

)

select * from renamed
