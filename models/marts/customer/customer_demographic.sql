with

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

clients as (

    select * from {{ ref('stg_mainframe__clients') }}

),

districts as (

    select * from {{ ref('stg_reference__districts') }}

),

crm_clients as (

    {#- the CRM record in force at the end of as_of_date (snapshots/_snapshots.yml) -#}
    select crm_versions.*
    from {{ ref('crm_clients_snapshot') }} as crm_versions
    cross join as_of
    where crm_versions.dbt_valid_from < {{ dbt.dateadd('day', 1, 'as_of.as_of_date') }}
        and (crm_versions.dbt_valid_to is null
             or crm_versions.dbt_valid_to >= {{ dbt.dateadd('day', 1, 'as_of.as_of_date') }})

),

aged as (

    select
        clients.client_id,
        as_of.as_of_date,
        clients.gender,
        clients.birth_date,
        {{ c360_age_in_years('clients.birth_date', 'as_of.as_of_date') }} as age_years,
        clients.district_id
    from clients
    cross join as_of

),

final as (

    select
        ----------  ids
        aged.client_id,

        ----------  person
        aged.gender,
        aged.birth_date,
        aged.age_years,
        {{ c360_age_band('aged.age_years') }} as age_band,
        {{ c360_life_stage('aged.age_years') }} as life_stage,

        ----------  district of the client's address
        aged.district_id,
        districts.district_name,
        districts.region,
        districts.n_inhabitants as district_n_inhabitants,
        districts.avg_salary_czk as district_avg_salary_czk,
        districts.unemployment_rate_1995_pct as district_unemployment_rate_1995_pct,
        districts.unemployment_rate_1996_pct as district_unemployment_rate_1996_pct,
        districts.urban_inhabitants_pct as district_urban_inhabitants_pct,
        districts.n_cities as district_n_cities,
        districts.n_entrepreneurs_per_1000 as district_entrepreneurs_per_1000,

        ----------  CRM, where the client has a CRM record
        crm_clients.client_id is not null as has_crm_record,
        crm_clients.occupation,
        crm_clients.marital_status,
        crm_clients.home_ownership,
        crm_clients.is_head_of_household,
        crm_clients.updated_at as crm_updated_at,

        ----------  point in time
        aged.as_of_date

    from aged
    left join districts
        on aged.district_id = districts.district_id
    left join crm_clients
        on aged.client_id = crm_clients.client_id

)

select * from final
