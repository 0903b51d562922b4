-- The Customer 360 summarised by loyalty tier at the build's as_of_date.
select
    loyalty.loyalty_tier,
    count(*) as n_clients,
    round(avg(c360.age_years), 1) as avg_age_years,
    sum(c360.n_accounts_owned) as n_accounts_owned,
    sum(c360.n_cards) as n_cards,
    sum(c360.n_loans) as n_loans,
    sum(c360.credit_amount_czk_last_90d) as credit_amount_czk_last_90d,
    sum(c360.debit_amount_czk_last_90d) as debit_amount_czk_last_90d,
    round(avg(engagement.engagement_score), 1) as avg_engagement_score
from {{ ref('customer_360') }} as c360
inner join {{ ref('customer_loyalty') }} as loyalty
    on c360.client_id = loyalty.client_id
inner join {{ ref('customer_engagement') }} as engagement
    on c360.client_id = engagement.client_id
group by loyalty.loyalty_tier
order by n_clients desc
