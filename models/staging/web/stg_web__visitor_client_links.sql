{#- One row per distinct (visitor, client id) link; a re-delivered link counts once. -#}
with

source as (

    {{ c360_latest_delivery(c360_source('web', 'visitor_map'), ['fullVisitorId', 'client_id']) }}

),

renamed as (

    select

        ----------  ids
        {{ c360_clean_text('fullVisitorId') }} as full_visitor_id,
        {{ c360_to_integer('client_id') }} as client_id,

        ----------  lineage
        _batch_id as batch_id,
        _ingested_at as ingested_at

    from source

)

select * from renamed
