-- How much web activity the identity rule leaves out of the customer marts, by reason.
-- `dbt compile --select identity_resolution_loss` prints the SQL to run on the published file.
select
    resolution_status,
    count(distinct full_visitor_id) as n_visitors,
    count(session_key) as n_sessions_not_attributed,
    coalesce(sum(n_pageviews), 0) as n_pageviews_not_attributed
from {{ ref('identity_resolution') }}
group by resolution_status
order by resolution_status
