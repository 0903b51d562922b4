{#-
    The identity rule. A visitor linked (visitor map) to exactly one client that exists in the
    client master is attributed to that client. A visitor linked to several existing clients is
    ambiguous and attributed to none. A visitor whose links all point to unknown client ids is
    `unknown_client`, attributed to none. Links to unknown client ids do not make a visitor
    ambiguous. Nothing is dropped silently: see the `identity_resolution` quality view.
-#}
with

links as (

    select distinct full_visitor_id, client_id
    from {{ ref('stg_web__visitor_client_links') }}
    where full_visitor_id is not null

),

clients as (

    select client_id from {{ ref('stg_mainframe__clients') }}

),

links_checked as (

    select
        links.full_visitor_id,
        links.client_id,
        clients.client_id is not null as is_known_client
    from links
    left join clients
        on links.client_id = clients.client_id

),

resolved as (

    select
        full_visitor_id,
        count(*) as n_links,
        sum(case when is_known_client then 1 else 0 end) as n_known_clients,
        min(case when is_known_client then client_id end) as min_known_client_id,
        max(case when is_known_client then client_id end) as max_known_client_id
    from links_checked
    group by full_visitor_id

),

final as (

    select
        full_visitor_id,
        case when n_known_clients = 1 then min_known_client_id end as client_id,
        case
            when n_known_clients = 1 then 'attributed'
            when n_known_clients > 1 then 'ambiguous'
            else 'unknown_client'
        end as resolution_status,
        n_links,
        n_known_clients,
        min_known_client_id,
        max_known_client_id
    from resolved

)

select * from final
