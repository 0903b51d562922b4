with

source as (

    {{ c360_latest_delivery(c360_source('mainframe', 'order'), ['order_id']) }}

),

payment_purposes as (

    select * from {{ ref('mainframe_payment_purposes') }}

),

renamed as (

    select

        ----------  ids
        {{ c360_to_integer('source.order_id') }} as standing_order_id,
        {{ c360_to_integer('source.account_id') }} as account_id,

        ----------  strings
        {{ c360_clean_text('source.bank_to') }} as recipient_bank_code,
        {{ c360_clean_text('source.account_to') }} as recipient_account_number,
        {{ c360_clean_text('source.k_symbol') }} as k_symbol_code,
        payment_purposes.payment_purpose,

        ----------  numerics
        {{ c360_to_czk('source.amount') }} as amount_czk,

        ----------  lineage
        source._batch_id as batch_id,
        source._ingested_at as ingested_at

    from source
    left join payment_purposes
        on {{ c360_clean_text('source.k_symbol') }} = payment_purposes.k_symbol_code

)

select * from renamed
