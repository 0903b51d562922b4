{%- set short = var('window_short_days') -%}
{%- set medium = var('window_medium_days') -%}
{%- set long = var('window_long_days') -%}

with

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

clients as (

    select client_id from {{ ref('stg_mainframe__clients') }}

),

products as (

    select * from {{ ref('int_client_products_aggregated_to_clients') }}

),

transactions as (

    select * from {{ ref('int_transactions_aggregated_to_clients') }}

),

measured as (

    select
        clients.client_id,
        as_of.as_of_date,

        -- history
        products.customer_since_date,
        {{ c360_age_in_years('products.customer_since_date', 'as_of.as_of_date') }} as years_of_history,
        {{ dbt.datediff('products.customer_since_date', 'as_of.as_of_date', 'day') }} as days_as_customer,

        -- products held at as_of_date
        coalesce(products.n_accounts_owned, 0) as n_accounts_owned,
        coalesce(products.n_accounts_disponent, 0) as n_accounts_disponent,
        coalesce(products.n_cards, 0) as n_cards,
        coalesce(products.n_loans, 0) as n_loans,
        coalesce(products.n_standing_orders, 0) as n_standing_orders,
        coalesce(products.n_products_held, 0) as n_products_held,
        products.first_product_type,
        products.first_product_acquired_date,
        {{ dbt.datediff('products.first_product_acquired_date', 'as_of.as_of_date', 'day') }} as days_since_first_product,
        products.last_product_type,
        products.last_product_acquired_date,
        {{ dbt.datediff('products.last_product_acquired_date', 'as_of.as_of_date', 'day') }} as days_since_last_product,

        -- activity
        coalesce(transactions.n_transactions, 0) as n_transactions,
        coalesce(transactions.n_transactions_last_{{ long }}d, 0) as n_transactions_last_{{ long }}d,
        coalesce(transactions.n_active_months, 0) as n_active_months,
        transactions.last_transaction_date,
        {{ dbt.datediff('transactions.last_transaction_date', 'as_of.as_of_date', 'day') }} as days_since_last_transaction,

        {%- for days in [short, medium] %}

        -- the workshop's {{ days }}-day figures
        coalesce(transactions.n_credits_last_{{ days }}d, 0) as n_credits_last_{{ days }}d,
        coalesce(transactions.n_debits_last_{{ days }}d, 0) as n_debits_last_{{ days }}d,
        coalesce(transactions.credit_amount_czk_last_{{ days }}d, 0) as credit_amount_czk_last_{{ days }}d,
        coalesce(transactions.debit_amount_czk_last_{{ days }}d, 0) as debit_amount_czk_last_{{ days }}d,
        transactions.avg_credit_amount_czk_last_{{ days }}d,
        transactions.avg_debit_amount_czk_last_{{ days }}d{{ "," if not loop.last }}
        {%- endfor %}

    from clients
    cross join as_of
    left join products
        on clients.client_id = products.client_id
    left join transactions
        on clients.client_id = transactions.client_id

),

final as (

    select
        client_id,
        as_of_date,
        customer_since_date,
        years_of_history,
        cast(days_as_customer as {{ dbt.type_int() }}) as days_as_customer,
        cast(n_accounts_owned as {{ dbt.type_int() }}) as n_accounts_owned,
        cast(n_accounts_disponent as {{ dbt.type_int() }}) as n_accounts_disponent,
        cast(n_cards as {{ dbt.type_int() }}) as n_cards,
        cast(n_loans as {{ dbt.type_int() }}) as n_loans,
        cast(n_standing_orders as {{ dbt.type_int() }}) as n_standing_orders,
        cast(n_products_held as {{ dbt.type_int() }}) as n_products_held,
        first_product_type,
        first_product_acquired_date,
        cast(days_since_first_product as {{ dbt.type_int() }}) as days_since_first_product,
        last_product_type,
        last_product_acquired_date,
        cast(days_since_last_product as {{ dbt.type_int() }}) as days_since_last_product,
        cast(n_transactions as {{ dbt.type_int() }}) as n_transactions,
        cast(n_transactions_last_{{ long }}d as {{ dbt.type_int() }}) as n_transactions_last_{{ long }}d,
        cast(n_transactions_last_{{ long }}d * 30.4375 / {{ long }} as decimal(10,2)) as avg_monthly_transactions_last_{{ long }}d,
        cast(n_active_months as {{ dbt.type_int() }}) as n_active_months,
        last_transaction_date,
        cast(days_since_last_transaction as {{ dbt.type_int() }}) as days_since_last_transaction,
        {%- for days in [short, medium] %}
        cast(n_credits_last_{{ days }}d as {{ dbt.type_int() }}) as n_credits_last_{{ days }}d,
        cast(n_debits_last_{{ days }}d as {{ dbt.type_int() }}) as n_debits_last_{{ days }}d,
        cast(credit_amount_czk_last_{{ days }}d as {{ c360_type_czk() }}) as credit_amount_czk_last_{{ days }}d,
        cast(debit_amount_czk_last_{{ days }}d as {{ c360_type_czk() }}) as debit_amount_czk_last_{{ days }}d,
        cast(avg_credit_amount_czk_last_{{ days }}d as {{ c360_type_czk() }}) as avg_credit_amount_czk_last_{{ days }}d,
        cast(avg_debit_amount_czk_last_{{ days }}d as {{ c360_type_czk() }}) as avg_debit_amount_czk_last_{{ days }}d,
        {%- endfor %}
        {{ c360_loyalty_tier('years_of_history', 'n_products_held', 'n_active_months') }} as loyalty_tier
    from measured

)

select * from final
