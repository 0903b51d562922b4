{%- set short = var('window_short_days') -%}

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

products as (

    select * from {{ ref('int_client_products_aggregated_to_clients') }}

),

transactions as (

    select * from {{ ref('int_transactions_aggregated_to_clients') }}

),

web_sessions as (

    select * from {{ ref('int_web_sessions_aggregated_to_clients') }}

),

final as (

    select
        ----------  ids
        clients.client_id,

        ----------  person (decoded from the birth number, which stays in staging)
        clients.gender,
        clients.birth_date,
        {{ c360_age_in_years('clients.birth_date', 'as_of.as_of_date') }} as age_years,

        ----------  district of the client's address
        clients.district_id,
        districts.district_name,
        districts.region as district_region,
        districts.avg_salary_czk as district_avg_salary_czk,

        ----------  products held at as_of_date
        cast(coalesce(products.n_accounts_owned, 0) as {{ dbt.type_int() }}) as n_accounts_owned,
        cast(coalesce(products.n_accounts_disponent, 0) as {{ dbt.type_int() }}) as n_accounts_disponent,
        cast(coalesce(products.n_cards, 0) as {{ dbt.type_int() }}) as n_cards,
        cast(coalesce(products.n_loans, 0) as {{ dbt.type_int() }}) as n_loans,
        cast(coalesce(products.n_standing_orders, 0) as {{ dbt.type_int() }}) as n_standing_orders,
        products.customer_since_date,

        ----------  transactions on owned accounts up to as_of_date
        cast(coalesce(transactions.n_transactions, 0) as {{ dbt.type_int() }}) as n_transactions,
        transactions.last_transaction_date,
        cast(coalesce(transactions.n_transactions_last_{{ short }}d, 0) as {{ dbt.type_int() }}) as n_transactions_last_{{ short }}d,
        cast(coalesce(transactions.credit_amount_czk_last_{{ short }}d, 0) as {{ c360_type_czk() }}) as credit_amount_czk_last_{{ short }}d,
        cast(coalesce(transactions.debit_amount_czk_last_{{ short }}d, 0) as {{ c360_type_czk() }}) as debit_amount_czk_last_{{ short }}d,

        ----------  attributed web sessions up to as_of_date
        cast(coalesce(web_sessions.web_sessions, 0) as {{ dbt.type_int() }}) as web_sessions,
        cast(coalesce(web_sessions.web_pageviews, 0) as {{ dbt.type_int() }}) as web_pageviews,
        web_sessions.last_visit_date,

        ----------  point in time
        as_of.as_of_date

    from clients
    cross join as_of
    left join districts
        on clients.district_id = districts.district_id
    left join products
        on clients.client_id = products.client_id
    left join transactions
        on clients.client_id = transactions.client_id
    left join web_sessions
        on clients.client_id = web_sessions.client_id

)

select * from final
