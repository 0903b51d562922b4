{#-
    Incremental (macros/incremental/c360_incremental.sql): a run reads only the raw batches newer
    than the newest one this table holds and replaces those transactions by trans_id, within the
    look-back window (var incremental_lookback_days).
-#}
{{ config(
    materialized='incremental',
    unique_key='trans_id',
    incremental_strategy=c360_incremental_strategy(),
    partition_by=['transaction_date'] if target.type == 'spark' else none,
    on_schema_change='fail'
) }}

with

source as (

    {{ c360_latest_delivery(c360_new_deliveries(c360_source('mainframe', 'trans'), 'date'), ['trans_id']) }}

),

transaction_types as (

    select * from {{ ref('mainframe_transaction_types') }}

),

operations as (

    select * from {{ ref('mainframe_transaction_operations') }}

),

payment_purposes as (

    select * from {{ ref('mainframe_payment_purposes') }}

),

renamed as (

    select

        ----------  ids
        {{ c360_to_bigint('source.trans_id') }} as trans_id,
        {{ c360_to_integer('source.account_id') }} as account_id,

        ----------  strings
        {{ c360_clean_text('source.type') }} as transaction_type_code,
        transaction_types.transaction_direction,
        {{ c360_clean_text('source.operation') }} as operation_code,
        operations.operation,
        operations.interaction_channel,
        {{ c360_clean_text('source.k_symbol') }} as k_symbol_code,
        payment_purposes.payment_purpose,
        {{ c360_clean_text('source.bank') }} as partner_bank_code,
        {{ c360_clean_text('source.account') }} as partner_account_number,

        ----------  numerics
        {{ c360_to_czk('source.amount') }} as amount_czk,
        {{ c360_to_czk('source.balance') }} as balance_czk,

        ----------  dates
        {{ c360_yymmdd_to_date('source.date') }} as transaction_date,

        ----------  lineage
        source._batch_id as batch_id,
        source._ingested_at as ingested_at

    from source
    left join transaction_types
        on {{ c360_clean_text('source.type') }} = transaction_types.type_code
    left join operations
        on {{ c360_clean_text('source.operation') }} = operations.operation_code
    left join payment_purposes
        on {{ c360_clean_text('source.k_symbol') }} = payment_purposes.k_symbol_code

)

select * from renamed
{%- if is_incremental() %}
where {{ c360_refuse_outside_lookback('transaction_date') }}
{%- endif %}
