{#-
    Every product a client holds at as_of_date, one row each:
    - account_owned / account_disponent: a disposition on an account opened on or before as_of;
    - card: a card issued on or before as_of on one of the client's dispositions;
    - loan: a loan granted on or before as_of on an account the client owns;
    - standing_order: a standing order on an account the client owns, opened on or before
      as_of (standing orders carry no date of their own: acquired_date is null).
-#}
with

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

dispositions as (

    select * from {{ ref('int_dispositions_joined_to_accounts') }}

),

cards as (

    select * from {{ ref('stg_mainframe__cards') }}

),

loans as (

    select * from {{ ref('stg_mainframe__loans') }}

),

standing_orders as (

    select * from {{ ref('stg_mainframe__standing_orders') }}

),

accounts_held as (

    select
        dispositions.client_id,
        case when dispositions.is_owner then 'account_owned' else 'account_disponent' end as product_type,
        dispositions.account_id as product_id,
        dispositions.account_id,
        dispositions.account_opened_date as acquired_date
    from dispositions
    cross join as_of
    where dispositions.account_opened_date <= as_of.as_of_date

),

cards_held as (

    select
        dispositions.client_id,
        'card' as product_type,
        cards.card_id as product_id,
        dispositions.account_id,
        cards.issued_date as acquired_date
    from cards
    inner join dispositions
        on cards.disp_id = dispositions.disp_id
    cross join as_of
    where cards.issued_date <= as_of.as_of_date

),

loans_held as (

    select
        dispositions.client_id,
        'loan' as product_type,
        loans.loan_id as product_id,
        dispositions.account_id,
        loans.granted_date as acquired_date
    from loans
    inner join dispositions
        on loans.account_id = dispositions.account_id
        and dispositions.is_owner
    cross join as_of
    where loans.granted_date <= as_of.as_of_date

),

standing_orders_held as (

    select
        dispositions.client_id,
        'standing_order' as product_type,
        standing_orders.standing_order_id as product_id,
        dispositions.account_id,
        cast(null as date) as acquired_date
    from standing_orders
    inner join dispositions
        on standing_orders.account_id = dispositions.account_id
        and dispositions.is_owner
    cross join as_of
    where dispositions.account_opened_date <= as_of.as_of_date

),

unioned as (

    select * from accounts_held
    union all
    select * from cards_held
    union all
    select * from loans_held
    union all
    select * from standing_orders_held

)

select * from unioned
