{#-
    State of the incremental intermediate models over transactions (see
    models/intermediate/transactions/): what changed since the newest landing batch a model
    reflects, read from the model itself (`this`) at the start of its run.
-#}

{#- int_transactions_joined_to_owners reflects every batch up to this one. -#}
{% macro c360_owner_watermark() -%}
    (select coalesce(max(greatest(batch_id, owner_batch_id)), '') from {{ this }})
{%- endmacro %}

{#- Accounts whose disposition (any type) or account record came in a batch after `watermark`. -#}
{% macro c360_accounts_changed_since(watermark) -%}
    select account_id from {{ ref('stg_mainframe__dispositions') }} where batch_id > {{ watermark }}
    union
    select account_id from {{ ref('stg_mainframe__accounts') }} where batch_id > {{ watermark }}
{%- endmacro %}


{#-
    The clients whose transaction figures an incremental run of
    int_transactions_aggregated_to_clients recomputes, kept in a temporary table (the pre-hook
    fills it before deleting their rows; the model's select reads it):

    - every client, when as_of_date moved (each window and month count shifts for everyone),
      or when a disposition or account record of an account that already had transactions
      changed (its owner may have changed: the previous owner must lose those transactions,
      and nothing left in the tables says who that was);
    - otherwise the owners of the transactions that changed since the batch the figures were
      built from (new days, re-deliveries, corrections, new accounts).
-#}
{% macro c360_transaction_clients_to_rebuild_table() -%}
    c360_transaction_clients_to_rebuild
{%- endmacro %}

{#- In an incremental run, a where-clause continuation keeping the clients being recomputed. -#}
{% macro c360_only_clients_to_rebuild(client_column) -%}
    {%- if is_incremental() %}
        and {{ client_column }} in (select client_id from {{ c360_transaction_clients_to_rebuild_table() }})
    {%- endif -%}
{%- endmacro %}

{% macro c360_stage_transaction_clients_to_rebuild() -%}
    {%- set joined = ref('int_transactions_joined_to_owners') -%}
    create or replace temporary table {{ c360_transaction_clients_to_rebuild_table() }} as
    with

    previous as (
        select max(as_of_date) as as_of_date, coalesce(max(built_from_batch_id), '') as batch_id
        from {{ this }}
    ),

    rebuild_all as (
        select
            (select as_of_date from {{ ref('int_as_of_date') }}) is distinct from previous.as_of_date
            or exists (
                select 1
                from ({{ c360_accounts_changed_since('previous.batch_id') }}) as changed_accounts
                inner join {{ joined }} as joined
                    on changed_accounts.account_id = joined.account_id
                    and joined.batch_id <= previous.batch_id
            ) as is_rebuilding_all
        from previous
    )

    select joined.client_id
    from {{ joined }} as joined
    cross join previous
    cross join rebuild_all
    where rebuild_all.is_rebuilding_all
        or joined.batch_id > previous.batch_id
        or joined.owner_batch_id > previous.batch_id
    union
    select built.client_id
    from {{ this }} as built
    cross join rebuild_all
    where rebuild_all.is_rebuilding_all
{%- endmacro %}
