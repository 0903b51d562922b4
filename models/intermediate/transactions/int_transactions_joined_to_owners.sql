{#-
    Transactions of every owned account, with the owning client and a signed amount.

    Incremental, keyed on trans_id (one row per transaction: an account has one owner). A run
    takes what changed since the newest batch this table reflects (its watermark):
    - the transactions staging took from newer batches (new days, re-deliveries, corrections);
    - every transaction of an account whose disposition or account record came in a newer
      batch (a new account, or an owner that may have changed). The pre-hook first removes
      those accounts' rows, so an account left without an owner keeps no stale row.
    `batch_id` is the transaction's delivery, `owner_batch_id` the newer of its owner's
    disposition and account records: together they are the watermark.
-#}
{{ config(
    materialized='incremental',
    unique_key='trans_id',
    incremental_strategy=c360_incremental_strategy(),
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}
        delete from {{ this }} where account_id in ({{ c360_accounts_changed_since(c360_owner_watermark()) }})
        {% endif %}"
) }}

with

transactions as (

    select * from {{ ref('stg_mainframe__transactions') }}

),

dispositions as (

    select * from {{ ref('stg_mainframe__dispositions') }}

),

accounts as (

    select * from {{ ref('stg_mainframe__accounts') }}

),

owners as (

    select
        dispositions.account_id,
        dispositions.client_id,
        greatest(dispositions.batch_id, accounts.batch_id) as owner_batch_id
    from dispositions
    inner join accounts
        on dispositions.account_id = accounts.account_id
    where dispositions.is_owner

),

{%- if is_incremental() %}

{%- set watermark = c360_owner_watermark() %}

changed as (

    {#-
        Two parts, not one `or`: the first reads only the newest row groups. Both read the
        table itself, not the `transactions` CTE: a CTE read twice is materialised whole.
    -#}
    select transactions.*
    from {{ ref('stg_mainframe__transactions') }} as transactions
    where transactions.batch_id > {{ watermark }}
    union all
    select transactions.*
    from {{ ref('stg_mainframe__transactions') }} as transactions
    where transactions.batch_id <= {{ watermark }}
        and transactions.account_id in ({{ c360_accounts_changed_since(watermark) }})

),
{%- endif %}

joined as (

    select
        transactions.trans_id,
        owners.client_id,
        transactions.account_id,
        transactions.transaction_date,
        transactions.transaction_direction,
        transactions.operation,
        transactions.interaction_channel,
        transactions.payment_purpose,
        transactions.amount_czk,
        case transactions.transaction_direction
            when 'credit' then transactions.amount_czk
            when 'debit' then -transactions.amount_czk
        end as signed_amount_czk,
        transactions.balance_czk,
        transactions.batch_id,
        owners.owner_batch_id
    from {{ 'changed' if is_incremental() else 'transactions' }} as transactions
    inner join owners
        on transactions.account_id = owners.account_id

)

select * from joined
