{#-
    Point-in-time transaction figures per client (transactions on owned accounts dated on or
    before as_of_date). Windows end at as_of_date: "last N days" = transaction_date >
    as_of_date - N days (vars window_short_days / window_medium_days / window_long_days).
    "Months active" counts the calendar months, among the `activity_months` months ending with
    as_of_date's month, that have at least one transaction.
-#}
{%- set short = var('window_short_days') -%}
{%- set medium = var('window_medium_days') -%}
{%- set long = var('window_long_days') -%}

with

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

transactions as (

    select * from {{ ref('int_transactions_joined_to_owners') }}

),

flagged as (

    select
        transactions.*,
        transactions.transaction_date > {{ dbt.dateadd('day', -short, 'as_of.as_of_date') }} as is_in_short_window,
        transactions.transaction_date > {{ dbt.dateadd('day', -medium, 'as_of.as_of_date') }} as is_in_medium_window,
        transactions.transaction_date > {{ dbt.dateadd('day', -long, 'as_of.as_of_date') }} as is_in_long_window,
        case
            when {{ dbt.date_trunc('month', 'transactions.transaction_date') }}
                > {{ dbt.dateadd('month', -var('activity_months'), dbt.date_trunc('month', 'as_of.as_of_date')) }}
            then {{ dbt.date_trunc('month', 'transactions.transaction_date') }}
        end as active_month
    from transactions
    cross join as_of
    where transactions.transaction_date <= as_of.as_of_date

),

aggregated as (

    select
        client_id,

        count(*) as n_transactions,
        min(transaction_date) as first_transaction_date,
        max(transaction_date) as last_transaction_date,
        count(distinct active_month) as n_active_months,

        {%- for window, days in [('short', short), ('medium', medium)] %}

        -- last {{ days }} days
        sum(case when is_in_{{ window }}_window then 1 else 0 end) as n_transactions_last_{{ days }}d,
        sum(case when is_in_{{ window }}_window and transaction_direction = 'credit' then 1 else 0 end) as n_credits_last_{{ days }}d,
        sum(case when is_in_{{ window }}_window and transaction_direction = 'debit' then 1 else 0 end) as n_debits_last_{{ days }}d,
        coalesce(sum(case when is_in_{{ window }}_window and transaction_direction = 'credit' then amount_czk end), 0) as credit_amount_czk_last_{{ days }}d,
        coalesce(sum(case when is_in_{{ window }}_window and transaction_direction = 'debit' then amount_czk end), 0) as debit_amount_czk_last_{{ days }}d,
        avg(case when is_in_{{ window }}_window and transaction_direction = 'credit' then amount_czk end) as avg_credit_amount_czk_last_{{ days }}d,
        avg(case when is_in_{{ window }}_window and transaction_direction = 'debit' then amount_czk end) as avg_debit_amount_czk_last_{{ days }}d,
        {%- endfor %}

        -- last {{ long }} days: how the client banks (card vs cash vs transfer)
        sum(case when is_in_long_window then 1 else 0 end) as n_transactions_last_{{ long }}d,
        sum(case when is_in_long_window and interaction_channel = 'card' then 1 else 0 end) as n_card_transactions_last_{{ long }}d,
        sum(case when is_in_long_window and interaction_channel = 'cash' then 1 else 0 end) as n_cash_transactions_last_{{ long }}d,
        sum(case when is_in_long_window and interaction_channel = 'transfer' then 1 else 0 end) as n_transfer_transactions_last_{{ long }}d

    from flagged
    group by client_id

)

select * from aggregated
