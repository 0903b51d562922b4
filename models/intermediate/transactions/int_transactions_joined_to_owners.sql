{#- Transactions of every owned account, with the owning client and a signed amount. -#}
with

transactions as (

    select * from {{ ref('stg_mainframe__transactions') }}

),

owners as (

    select * from {{ ref('int_dispositions_joined_to_accounts') }}
    where is_owner

),

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
        transactions.balance_czk
    from transactions
    inner join owners
        on transactions.account_id = owners.account_id

)

select * from joined
