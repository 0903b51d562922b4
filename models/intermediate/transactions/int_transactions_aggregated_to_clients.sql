{#-
    Point-in-time transaction figures per client (transactions on owned accounts dated on or
    before as_of_date). Windows end at as_of_date: "last N days" = transaction_date >
    as_of_date - N days (vars window_short_days / window_medium_days / window_long_days).
    "Months active" counts the calendar months, among the `activity_months` months ending with
    as_of_date's month, that have at least one transaction.

    Incremental, by client. This is the one per-client table whose cost grows with the whole
    history (every transaction of every client), so it is the one that recomputes only the
    clients a delta touched: the pre-hook deletes their rows (macros/incremental/
    c360_client_rebuilds.sql decides which), the select below recomputes those clients from all
    their transactions, and `append` adds them back. Which clients:
    - when as_of_date is unchanged (pinned with --as-of, or a delta of corrections), the owners
      of the transactions that changed since the batch the figures were built from
      (`built_from_batch_id`): a one-day correction recomputes a handful of clients;
    - when as_of_date moved (by default it is the newest event date, so a delta with a new day
      moves it), every client: every window and month count shifts with it, and as most
      accounts book something every day, the days leaving the windows touch most clients
      anyway. One aggregation pass is then the cheapest correct answer: counts and dates over
      all transactions, the window sums over the last year's only (`recent`). Sliding each
      window by the days that left it would read less, but its averages would drift from a
      full refresh in the last floating digit: the marts must be identical to a full refresh.
    The marts built on it are rebuilt whole: one row per client from per-client tables, their
    cost grows with the number of clients, not with history (see dbt_project.yml, marts).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ c360_clear_transaction_clients_to_rebuild() }}"
) }}
{%- set plan = c360_transaction_figures_plan() if is_incremental() and execute else none -%}
{%- set short = var('window_short_days') -%}
{%- set medium = var('window_medium_days') -%}
{%- set long = var('window_long_days') -%}

with

-- depends_on: {{ ref('stg_mainframe__dispositions') }}, {{ ref('stg_mainframe__accounts') }} (read by the pre-hook)
as_of as (

    {#-
        recent_from: the first day a window or the month count can see (the last {{ long }}
        days; the last {{ var('activity_months') }} calendar months). The windowed figures read
        only the rows from it on, a sixth of six years of history.
    -#}
    select
        as_of_date,
        least(
            {{ dbt.dateadd('day', -(long - 1), 'as_of_date') }},
            {{ dbt.dateadd('month', -(var('activity_months') - 1), dbt.date_trunc('month', 'as_of_date')) }}
        ) as recent_from
    from {{ ref('int_as_of_date') }}

),

built_from as (

    {#- the newest batch behind these figures: the next run recomputes what came after it -#}
    select max(greatest(batch_id, owner_batch_id)) as batch_id
    from {{ ref('int_transactions_joined_to_owners') }}

),

all_time as (

    select
        transactions.client_id,
        count(*) as n_transactions,
        min(transactions.transaction_date) as first_transaction_date,
        max(transactions.transaction_date) as last_transaction_date
    from {{ ref('int_transactions_joined_to_owners') }} as transactions
    cross join as_of
    where transactions.transaction_date <= as_of.as_of_date
        {{- c360_only_clients_to_rebuild(plan, 'transactions.client_id') }}
    group by transactions.client_id

),

recent as (

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
    from {{ ref('int_transactions_joined_to_owners') }} as transactions
    cross join as_of
    where transactions.transaction_date <= as_of.as_of_date
        and transactions.transaction_date >= as_of.recent_from
        {{- c360_only_clients_to_rebuild(plan, 'transactions.client_id') }}

),

windowed as (

    select
        client_id,

        count(distinct active_month) as n_active_months,

        {%- for window, days in [('short', short), ('medium', medium)] %}

        -- last {{ days }} days
        sum(case when is_in_{{ window }}_window then 1 else 0 end) as n_transactions_last_{{ days }}d,
        sum(case when is_in_{{ window }}_window and transaction_direction = 'credit' then 1 else 0 end) as n_credits_last_{{ days }}d,
        sum(case when is_in_{{ window }}_window and transaction_direction = 'debit' then 1 else 0 end) as n_debits_last_{{ days }}d,
        sum(case when is_in_{{ window }}_window and transaction_direction = 'credit' then amount_czk end) as credit_amount_czk_last_{{ days }}d,
        sum(case when is_in_{{ window }}_window and transaction_direction = 'debit' then amount_czk end) as debit_amount_czk_last_{{ days }}d,
        avg(case when is_in_{{ window }}_window and transaction_direction = 'credit' then amount_czk end) as avg_credit_amount_czk_last_{{ days }}d,
        avg(case when is_in_{{ window }}_window and transaction_direction = 'debit' then amount_czk end) as avg_debit_amount_czk_last_{{ days }}d,
        {%- endfor %}

        -- last {{ long }} days: how the client banks (card vs cash vs transfer)
        sum(case when is_in_long_window then 1 else 0 end) as n_transactions_last_{{ long }}d,
        sum(case when is_in_long_window and interaction_channel = 'card' then 1 else 0 end) as n_card_transactions_last_{{ long }}d,
        sum(case when is_in_long_window and interaction_channel = 'cash' then 1 else 0 end) as n_cash_transactions_last_{{ long }}d,
        sum(case when is_in_long_window and interaction_channel = 'transfer' then 1 else 0 end) as n_transfer_transactions_last_{{ long }}d

    from recent
    group by client_id

),

aggregated as (

    {#- a client without recent rows counts 0 in every window (amounts 0, averages null) -#}
    select
        all_time.client_id,
        all_time.n_transactions,
        all_time.first_transaction_date,
        all_time.last_transaction_date,
        coalesce(windowed.n_active_months, 0) as n_active_months,

        {%- for days in [short, medium] %}
        {%- for column in ['n_transactions', 'n_credits', 'n_debits', 'credit_amount_czk', 'debit_amount_czk'] %}
        coalesce(windowed.{{ column }}_last_{{ days }}d, 0) as {{ column }}_last_{{ days }}d,
        {%- endfor %}
        windowed.avg_credit_amount_czk_last_{{ days }}d,
        windowed.avg_debit_amount_czk_last_{{ days }}d,
        {%- endfor %}
        {%- for column in ['n_transactions', 'n_card_transactions', 'n_cash_transactions', 'n_transfer_transactions'] %}
        coalesce(windowed.{{ column }}_last_{{ long }}d, 0) as {{ column }}_last_{{ long }}d{{ ',' if not loop.last }}
        {%- endfor %}

    from all_time
    left join windowed
        on all_time.client_id = windowed.client_id

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
