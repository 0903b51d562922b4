with

products as (

    select * from {{ ref('int_client_products_unioned') }}

),

ranked as (

    select
        products.*,
        row_number() over (
            partition by client_id
            order by acquired_date asc, product_type asc, product_id asc
        ) as rank_first,
        row_number() over (
            partition by client_id
            order by acquired_date desc, product_type desc, product_id desc
        ) as rank_last
    from products
    where acquired_date is not null

),

first_and_last as (

    select
        client_id,
        max(case when rank_first = 1 then product_type end) as first_product_type,
        max(case when rank_first = 1 then acquired_date end) as first_product_acquired_date,
        max(case when rank_last = 1 then product_type end) as last_product_type,
        max(case when rank_last = 1 then acquired_date end) as last_product_acquired_date
    from ranked
    where rank_first = 1 or rank_last = 1
    group by client_id

),

counted as (

    select
        client_id,
        sum(case when product_type = 'account_owned' then 1 else 0 end) as n_accounts_owned,
        sum(case when product_type = 'account_disponent' then 1 else 0 end) as n_accounts_disponent,
        sum(case when product_type = 'card' then 1 else 0 end) as n_cards,
        sum(case when product_type = 'loan' then 1 else 0 end) as n_loans,
        sum(case when product_type = 'standing_order' then 1 else 0 end) as n_standing_orders,
        count(*) as n_products_held,
        min(case when product_type in ('account_owned', 'account_disponent') then acquired_date end)
            as customer_since_date
    from products
    group by client_id

),

aggregated as (

    select
        counted.*,
        first_and_last.first_product_type,
        first_and_last.first_product_acquired_date,
        first_and_last.last_product_type,
        first_and_last.last_product_acquired_date
    from counted
    left join first_and_last
        on counted.client_id = first_and_last.client_id

)

select * from aggregated
