-- The floor: customer_360's contract columns in one hand-written DuckDB script, straight
-- from the raw Parquet zone (no dbt, no gates, no intermediate tables). `{raw}` is the raw
-- root (<home>/raw); the script leaves the result in the temp table `customer_360`.
-- Written from the contract (bench/README.md), not from the dbt models.

-- text as delivered -> value; blank, `?` or unparsable -> null
create or replace temp macro txt(x) as nullif(trim(x), '');
create or replace temp macro num(x) as try_cast(nullif(nullif(trim(x), ''), '?') as int);
create or replace temp macro czk(x) as try_cast(nullif(nullif(trim(x), ''), '?') as decimal(18, 2));
create or replace temp macro ymd(y, m, d) as
    try_cast(y::varchar || '-' || lpad(m::varchar, 2, '0') || '-' || lpad(d::varchar, 2, '0') as date);
-- `YYMMDD[ hh:mm:ss]` event dates: YY < 50 -> 20YY, else 19YY
create or replace temp macro yymmdd(x) as ymd(
    case when num(substr(trim(x), 1, 2)) < 50 then 2000 else 1900 end + num(substr(trim(x), 1, 2)),
    num(substr(trim(x), 3, 2)), num(substr(trim(x), 5, 2)));

create or replace temp table customer_360 as
with
-- one row per business key: the latest batch wins (then the latest file, then line)
client as (
    select num(client_id) as client_id, txt(birth_number) as birth_number, num(district_id) as district_id
    from read_parquet('{raw}/mainframe/client/batch=*/*.parquet')
    qualify row_number() over (partition by trim(client_id) order by _batch_id desc, _source_file desc, _source_line desc) = 1
),
district as (
    select num(A1) as district_id, txt(A2) as district_name, czk(A11) as avg_salary_czk
    from read_parquet('{raw}/reference/district/batch=*/*.parquet')
    qualify row_number() over (partition by trim(A1) order by _batch_id desc, _source_file desc, _source_line desc) = 1
),
account as (
    select num(account_id) as account_id, yymmdd(date) as opened_date
    from read_parquet('{raw}/mainframe/account/batch=*/*.parquet')
    qualify row_number() over (partition by trim(account_id) order by _batch_id desc, _source_file desc, _source_line desc) = 1
),
disp as (
    select num(disp_id) as disp_id, num(client_id) as client_id, num(account_id) as account_id,
           upper(txt(type)) as disp_type
    from read_parquet('{raw}/mainframe/disp/batch=*/*.parquet')
    qualify row_number() over (partition by trim(disp_id) order by _batch_id desc, _source_file desc, _source_line desc) = 1
),
card as (
    select num(disp_id) as disp_id, yymmdd(issued) as issued_date
    from read_parquet('{raw}/mainframe/card/batch=*/*.parquet')
    qualify row_number() over (partition by trim(card_id) order by _batch_id desc, _source_file desc, _source_line desc) = 1
),
loan as (
    select num(account_id) as account_id, yymmdd(date) as granted_date
    from read_parquet('{raw}/mainframe/loan/batch=*/*.parquet')
    qualify row_number() over (partition by trim(loan_id) order by _batch_id desc, _source_file desc, _source_line desc) = 1
),
trans as (
    select num(account_id) as account_id, yymmdd(date) as trans_date, txt(type) as trans_type,
           czk(amount) as amount
    from read_parquet('{raw}/mainframe/trans/batch=*/*.parquet')
    qualify row_number() over (partition by trim(trans_id) order by _batch_id desc, _source_file desc, _source_line desc) = 1
),
ga_session as (
    select fullVisitorId as visitor_id, ymd(num(substr(date, 1, 4)), num(substr(date, 5, 2)),
           num(substr(date, 7, 2))) as session_date, coalesce(totals.pageviews, 0) as pageviews
    from read_parquet('{raw}/ga/session/batch=*/*.parquet')
    qualify row_number() over (partition by fullVisitorId, visitId, date order by _batch_id desc, _source_file desc, _source_line desc) = 1
),
visitor_link as (
    select distinct txt(fullVisitorId) as visitor_id, num(client_id) as client_id
    from read_parquet('{raw}/web/visitor_map/batch=*/*.parquet')
    where txt(fullVisitorId) is not null
),

as_of as (
    select greatest((select max(trans_date) from trans), (select max(session_date) from ga_session)) as as_of_date
),
-- a client's dispositions on accounts that exist, with the account's opening date
holding as (
    select disp.disp_id, disp.client_id, disp.account_id, disp.disp_type, account.opened_date
    from disp join account using (account_id)
),
accounts_held as (
    select client_id,
           count(*) filter (where disp_type = 'OWNER') as n_accounts_owned,
           count(*) filter (where disp_type = 'DISPONENT') as n_accounts_disponent,
           min(opened_date) as customer_since_date
    from holding, as_of
    where opened_date <= as_of_date and disp_type in ('OWNER', 'DISPONENT')
    group by client_id
),
cards_held as (
    select holding.client_id, count(*) as n_cards
    from card join holding using (disp_id), as_of
    where issued_date <= as_of_date
    group by holding.client_id
),
owned as (
    select client_id, account_id from holding where disp_type = 'OWNER'
),
loans_held as (
    select owned.client_id, count(*) as n_loans
    from loan join owned using (account_id), as_of
    where granted_date <= as_of_date
    group by owned.client_id
),
trans_agg as (
    select owned.client_id,
           count(*) as n_transactions,
           max(trans_date) as last_transaction_date,
           count(*) filter (where trans_date > as_of_date - interval 90 day) as n_transactions_last_90d,
           coalesce(sum(amount) filter (where trans_date > as_of_date - interval 90 day and trans_type = 'PRIJEM'), 0)
               as credit_amount_czk_last_90d,
           coalesce(sum(amount) filter (where trans_date > as_of_date - interval 90 day and trans_type in ('VYDAJ', 'VYBER')), 0)
               as debit_amount_czk_last_90d
    from trans join owned using (account_id), as_of
    where trans_date <= as_of_date
    group by owned.client_id
),
-- a visitor linked to exactly one existing client is that client's; to several, nobody's
visitor_client as (
    select visitor_id, min(client_id) as client_id
    from visitor_link semi join client using (client_id)
    group by visitor_id
    having count(*) = 1
),
web as (
    select visitor_client.client_id, count(*) as web_sessions, sum(pageviews)::bigint as web_pageviews,
           max(session_date) as last_visit_date
    from ga_session join visitor_client using (visitor_id), as_of
    where session_date <= as_of_date
    group by visitor_client.client_id
)

select
    client.client_id,
    case when num(substr(birth_number, 3, 2)) between 51 and 62 then 'female'
         when num(substr(birth_number, 3, 2)) between 1 and 12 then 'male' end as gender,
    ymd(1900 + num(substr(birth_number, 1, 2)),
        num(substr(birth_number, 3, 2)) - case when num(substr(birth_number, 3, 2)) > 50 then 50 else 0 end,
        num(substr(birth_number, 5, 2))) as birth_date,
    date_part('year', as_of_date) - date_part('year', birth_date)
        - case when strftime(as_of_date, '%m%d') < strftime(birth_date, '%m%d') then 1 else 0 end as age_years,
    district.district_name,
    district.avg_salary_czk as district_avg_salary_czk,
    coalesce(n_accounts_owned, 0) as n_accounts_owned,
    coalesce(n_accounts_disponent, 0) as n_accounts_disponent,
    coalesce(n_cards, 0) as n_cards,
    coalesce(n_loans, 0) as n_loans,
    customer_since_date,
    coalesce(n_transactions, 0) as n_transactions,
    last_transaction_date,
    coalesce(n_transactions_last_90d, 0) as n_transactions_last_90d,
    coalesce(credit_amount_czk_last_90d, 0)::decimal(18, 2) as credit_amount_czk_last_90d,
    coalesce(debit_amount_czk_last_90d, 0)::decimal(18, 2) as debit_amount_czk_last_90d,
    coalesce(web_sessions, 0) as web_sessions,
    coalesce(web_pageviews, 0) as web_pageviews,
    last_visit_date
from client
cross join as_of
left join district using (district_id)
left join accounts_held using (client_id)
left join cards_held using (client_id)
left join loans_held using (client_id)
left join trans_agg using (client_id)
left join web using (client_id);
