{#-
    State of the incremental intermediate models over transactions (see
    models/intermediate/transactions/): what changed since the newest landing batch a model
    reflects, read from the model itself (`this`) when its run starts. Values a run compares
    with are read once and written into the SQL as literals: DuckDB then skips unchanged row
    groups, where a subquery in the filter would make it read every row.
-#}

{#- A one-value query's result as a SQL literal ('' when null). -#}
{% macro c360_literal(sql) -%}
    {%- set value = run_query(sql).columns[0].values()[0] -%}
    {{- return("'" ~ ('' if value is none else value) ~ "'") -}}
{%- endmacro %}

{#- int_transactions_joined_to_owners reflects every batch up to this one. -#}
{% macro c360_owner_watermark() -%}
    {%- set sql = "select coalesce(max(greatest(batch_id, owner_batch_id)), '') from " ~ this -%}
    {{- return(c360_literal(sql) if execute else '(' ~ sql ~ ')') -}}
{%- endmacro %}

{#- Accounts whose disposition (any type) or account record came in a batch after `watermark`. -#}
{% macro c360_accounts_changed_since(watermark) -%}
    select account_id from {{ ref('stg_mainframe__dispositions') }} where batch_id > {{ watermark }}
    union
    select account_id from {{ ref('stg_mainframe__accounts') }} where batch_id > {{ watermark }}
{%- endmacro %}


{#-
    How an incremental run of int_transactions_aggregated_to_clients proceeds, decided from its
    previous state before anything changes (the model's select and its pre-hooks both ask):

    - `rebuild_all`: every client, when as_of_date moved (each window and month count shifts
      for everyone), or when a disposition or account record of an account that already had
      transactions changed (its owner may have changed: the previous owner must lose those
      transactions, and nothing left in the tables says who that was). The pre-hook empties the
      table, the select aggregates every client.
    - otherwise the owners of the transactions that changed since `watermark`, the batch the
      figures were built from (new days, re-deliveries, corrections, new accounts): the
      pre-hook lists them in a temporary table and deletes their rows, the select recomputes
      them from all their transactions.
-#}
{% macro c360_transaction_figures_plan() -%}
    {%- set joined = ref('int_transactions_joined_to_owners') -%}
    {%- set watermark = c360_literal("select coalesce(max(built_from_batch_id), '') from " ~ this) -%}
    {%- set as_of_moved = run_query(
        "select (select as_of_date from " ~ ref('int_as_of_date') ~ ") is distinct from"
        ~ " (select max(as_of_date) from " ~ this ~ ")").columns[0].values()[0] -%}
    {%- set owners_changed = false -%}
    {%- if not as_of_moved -%}
        {%- set owners_changed = run_query(
            "select exists (select 1 from (" ~ c360_accounts_changed_since(watermark) ~ ") as changed_accounts"
            ~ " inner join " ~ joined ~ " as joined on changed_accounts.account_id = joined.account_id"
            ~ " and joined.batch_id <= " ~ watermark ~ ")").columns[0].values()[0] -%}
    {%- endif -%}
    {{- return({'rebuild_all': as_of_moved or owners_changed, 'watermark': watermark}) -}}
{%- endmacro %}

{% macro c360_transaction_clients_to_rebuild_table() -%}
    c360_transaction_clients_to_rebuild
{%- endmacro %}

{#- The pre-hook of int_transactions_aggregated_to_clients (see c360_transaction_figures_plan). -#}
{% macro c360_clear_transaction_clients_to_rebuild() -%}
    {%- if not is_incremental() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set plan = c360_transaction_figures_plan() -%}
    {%- if plan.rebuild_all -%}
    delete from {{ this }}
    {%- else -%}
    create or replace temporary table {{ c360_transaction_clients_to_rebuild_table() }} as
    select distinct client_id
    from {{ ref('int_transactions_joined_to_owners') }}
    where batch_id > {{ plan.watermark }}
        or owner_batch_id > {{ plan.watermark }};
    delete from {{ this }}
    where client_id in (select client_id from {{ c360_transaction_clients_to_rebuild_table() }})
    {%- endif -%}
{%- endmacro %}

{#- In an incremental run that recomputes some clients only, a where-clause continuation keeping them. -#}
{% macro c360_only_clients_to_rebuild(plan, client_column) -%}
    {%- if plan and not plan.rebuild_all %}
        and {{ client_column }} in (select client_id from {{ c360_transaction_clients_to_rebuild_table() }})
    {%- endif -%}
{%- endmacro %}
