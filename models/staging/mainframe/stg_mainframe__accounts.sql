with

source as (

    {{ c360_latest_delivery(c360_source('mainframe', 'account'), ['account_id']) }}

),

frequencies as (

    select * from {{ ref('mainframe_statement_frequencies') }}

),

renamed as (

    select

        ----------  ids
        {{ c360_to_integer('source.account_id') }} as account_id,
        {{ c360_to_integer('source.district_id') }} as district_id,

        ----------  strings
        {{ c360_clean_text('source.frequency') }} as statement_frequency_code,
        frequencies.statement_frequency,

        ----------  dates
        {{ c360_yymmdd_to_date('source.date') }} as opened_date,

        ----------  lineage
        source._batch_id as batch_id,
        source._ingested_at as ingested_at

    from source
    left join frequencies
        on {{ c360_clean_text('source.frequency') }} = frequencies.frequency_code

)

select * from renamed
