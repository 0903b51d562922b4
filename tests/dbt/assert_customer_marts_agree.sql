-- The customer marts describe the same clients at the same point in time: wherever two
-- marts carry the same measure, they agree. Returns the clients where they do not.
select
    c360.client_id
from {{ ref('customer_360') }} as c360
inner join {{ ref('customer_loyalty') }} as loyalty
    on c360.client_id = loyalty.client_id
inner join {{ ref('customer_demographic') }} as demographic
    on c360.client_id = demographic.client_id
inner join {{ ref('customer_engagement') }} as engagement
    on c360.client_id = engagement.client_id
where c360.as_of_date <> loyalty.as_of_date
   or c360.as_of_date <> demographic.as_of_date
   or c360.as_of_date <> engagement.as_of_date
   or c360.n_accounts_owned <> loyalty.n_accounts_owned
   or c360.n_accounts_disponent <> loyalty.n_accounts_disponent
   or c360.n_cards <> loyalty.n_cards
   or c360.n_loans <> loyalty.n_loans
   or c360.n_transactions <> loyalty.n_transactions
   or c360.credit_amount_czk_last_90d <> loyalty.credit_amount_czk_last_90d
   or c360.debit_amount_czk_last_90d <> loyalty.debit_amount_czk_last_90d
   or coalesce(c360.customer_since_date, date '1900-01-01') <> coalesce(loyalty.customer_since_date, date '1900-01-01')
   or coalesce(c360.age_years, -1) <> coalesce(demographic.age_years, -1)
   or c360.web_sessions <> engagement.web_sessions
   or c360.web_pageviews <> engagement.web_pageviews
   or coalesce(c360.last_visit_date, date '1900-01-01') <> coalesce(engagement.last_visit_date, date '1900-01-01')
