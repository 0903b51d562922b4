{#- The latest CRM record per client wins: latest updated_at, then the latest delivery. -#}
with

source as (

    {{ c360_latest_delivery(
        c360_source('crm', 'client'), ['client_id'],
        order_by=c360_try_cast(c360_clean_text('updated_at'), dbt.type_timestamp()) ~ ' desc nulls last') }}

),

home_ownership_codes as (

    select * from {{ ref('crm_home_ownership_codes') }}

),

marital_status_codes as (

    select * from {{ ref('crm_marital_status_codes') }}

),

renamed as (

    select

        ----------  ids
        {{ c360_to_integer('source.client_id') }} as client_id,

        ----------  strings
        {{ c360_clean_text('source.occupation') }} as occupation,
        upper({{ c360_clean_text('source.home_ownership') }}) as home_ownership_code,
        home_ownership_codes.home_ownership,
        upper({{ c360_clean_text('source.marital_status') }}) as marital_status_code,
        marital_status_codes.marital_status,

        ----------  numerics
        {{ c360_to_integer('source.age') }} as reported_age_years,

        ----------  booleans
        case upper({{ c360_clean_text('source.head_of_household_flag') }})
            when 'Y' then true
            when 'N' then false
        end as is_head_of_household,

        ----------  dates
        {{ c360_try_cast("substring(" ~ c360_clean_text('source.birth_date') ~ ", 1, 10)", 'date') }} as birth_date,
        {{ c360_try_cast(c360_clean_text('source.client_created_date'), dbt.type_timestamp()) }} as client_created_at,
        {{ c360_try_cast(c360_clean_text('source.updated_at'), dbt.type_timestamp()) }} as updated_at,

        ----------  lineage
        source._batch_id as batch_id,
        source._ingested_at as ingested_at

    from source
    left join home_ownership_codes
        on upper({{ c360_clean_text('source.home_ownership') }}) = home_ownership_codes.home_ownership_code
    left join marital_status_codes
        on upper({{ c360_clean_text('source.marital_status') }}) = marital_status_codes.marital_status_code

)

select * from renamed
