{#-
    Point-in-time transaction figures per client (transactions on owned accounts dated on or
    before as_of_date). Windows end at as_of_date: "last N days" = transaction_date >
    as_of_date - N days (vars window_short_days / window_medium_days / window_long_days).
    "Months active" counts the calendar months, among the `activity_months` months ending with
    as_of_date's month, that have at least one transaction.

    Incremental, by client. This is the one per-client table whose cost grows with the whole
    history (every transaction of every client), so it is the one that recomputes only the
    clients a delta touched: the pre-hook lists them (macros/incremental/c360_client_rebuilds.sql)
    and deletes their rows, the select below recomputes those clients from all their
    transactions, and `append` adds them back. Which clients:
    - when as_of_date is unchanged (pinned with --as-of, or a delta of corrections), the owners
      of the transactions that changed since the batch the figures were built from
      (`built_from_batch_id`): a one-day correction recomputes a handful of clients;
    - when as_of_date moved (by default it is the newest event date, so a delta with a new day
      moves it), every client: every window, month count and age shifts with it, so there is
      nothing to reuse, and one aggregation pass over the transactions (no raw parsing, no
      join rebuilt) is the cheapest correct answer. Sliding each window by the days that left
      it would read less, but its sums and averages would drift from a full refresh in the
      last floating digit: the marts must be identical to a full refresh.
    The marts built on it are rebuilt whole: one row per client from per-client tables, their
    cost grows with the number of clients, not with history (see dbt_project.yml, marts).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{% if is_incremental() %}{{ c360_stage_transaction_clients_to_rebuild() }}{% endif %}",
        "{% if is_incremental() %}delete from {{ this }} where client_id in
            (select client_id from {{ c360_transaction_clients_to_rebuild_table() }}){% endif %}",
    ]
) }}
{%- set short = var('window_short_days') -%}
{%- set medium = var('window_medium_days') -%}
{%- set long = var('window_long_days') -%}

with

-- depends_on: {{ ref('stg_mainframe__dispositions') }}, {{ ref('stg_mainframe__accounts') }} (read by the pre-hook)
as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

transactions as (

    select * from {{ ref('int_transactions_joined_to_owners') }}
    {%- if is_incremental() %}
    where client_id in (select client_id from {{ c360_transaction_clients_to_rebuild_table() }})
    {%- endif %}

),

built_from as (

    {#- the newest batch behind these figures: the next run recomputes what came after it -#}
    select max(greatest(batch_id, owner_batch_id)) as batch_id
    from {{ ref('int_transactions_joined_to_owners') }}

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

),

final as (

    select
        aggregated.*,
        as_of.as_of_date,
        built_from.batch_id as built_from_batch_id
    from aggregated
    cross join as_of
    cross join built_from

)

select * from final
