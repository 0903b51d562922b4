{#-
    The web activity the identity rule could not attribute, made visible: every visitor of the
    visitor map that is not attributed to exactly one client (ambiguous, or linked only to
    unknown client ids), with each of its GA sessions (all dates; a visitor without sessions
    has one row with a null session_key).
-#}
with

visitors as (

    select * from {{ ref('int_web_visitors_resolved_to_clients') }}
    where resolution_status <> 'attributed'

),

links as (

    select distinct
        links.full_visitor_id,
        links.client_id,
        clients.client_id is not null as is_known_client
    from {{ ref('stg_web__visitor_client_links') }} as links
    left join {{ ref('stg_mainframe__clients') }} as clients
        on links.client_id = clients.client_id

),

candidates as (

    select
        full_visitor_id,
        {{ dbt.listagg("cast(client_id as " ~ dbt.type_string() ~ ")", "', '", "order by client_id") }} as candidate_client_ids
    from links
    where is_known_client
    group by full_visitor_id

),

sessions as (

    select * from {{ ref('int_web_sessions_linked_to_clients') }}

),

final as (

    select
        visitors.full_visitor_id,
        sessions.session_key,
        visitors.resolution_status,
        visitors.n_links,
        visitors.n_known_clients,
        candidates.candidate_client_ids,
        sessions.session_date,
        sessions.n_pageviews,
        sessions.n_hits
    from visitors
    left join candidates
        on visitors.full_visitor_id = candidates.full_visitor_id
    left join sessions
        on visitors.full_visitor_id = sessions.full_visitor_id

)

select * from final
