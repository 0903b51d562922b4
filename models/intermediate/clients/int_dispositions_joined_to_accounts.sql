with

dispositions as (

    select * from {{ ref('stg_mainframe__dispositions') }}

),

accounts as (

    select * from {{ ref('stg_mainframe__accounts') }}

),

joined as (

    select
        dispositions.disp_id,
        dispositions.client_id,
        dispositions.account_id,
        dispositions.disposition_type,
        dispositions.is_owner,
        accounts.district_id as account_district_id,
        accounts.statement_frequency,
        accounts.opened_date as account_opened_date
    from dispositions
    inner join accounts
        on dispositions.account_id = accounts.account_id

)

select * from joined
