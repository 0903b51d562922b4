with

source as (

    {{ c360_latest_delivery(c360_source('reference', 'district'), ['A1']) }}

),

renamed as (

    select

        ----------  ids
        {{ c360_to_integer('A1') }} as district_id,

        ----------  strings
        {{ c360_clean_text('A2') }} as district_name,
        {{ c360_clean_text('A3') }} as region,

        ----------  numerics (`?` -> null)
        {{ c360_to_integer('A4') }} as n_inhabitants,
        {{ c360_to_integer('A5') }} as n_municipalities_under_500,
        {{ c360_to_integer('A6') }} as n_municipalities_500_1999,
        {{ c360_to_integer('A7') }} as n_municipalities_2000_9999,
        {{ c360_to_integer('A8') }} as n_municipalities_10000_plus,
        {{ c360_to_integer('A9') }} as n_cities,
        {{ c360_to_number('A10', 'decimal(5,1)') }} as urban_inhabitants_pct,
        {{ c360_to_czk('A11') }} as avg_salary_czk,
        {{ c360_to_number('A12', 'decimal(5,2)') }} as unemployment_rate_1995_pct,
        {{ c360_to_number('A13', 'decimal(5,2)') }} as unemployment_rate_1996_pct,
        {{ c360_to_integer('A14') }} as n_entrepreneurs_per_1000,
        {{ c360_to_integer('A15') }} as n_crimes_1995,
        {{ c360_to_integer('A16') }} as n_crimes_1996,

        ----------  lineage
        _batch_id as batch_id,
        _ingested_at as ingested_at

    from source

)

select * from renamed
