{#-
    dbt's `where` config for data tests, plus one policy (set for the whole project in
    dbt_project.yml: `data_tests: +where: c360_changed_rows`):

    In an incremental `c360 run` the var `changed_since_batch` names the newest landing batch of
    the version the build started from. A data test on a model with landing lineage columns
    (`batch_id`, `owner_batch_id`) then checks only the rows that changed after it: the rows
    the run added or replaced. The other rows were checked by the run that wrote them, and the
    incremental models replace by the very key their uniqueness tests check, so a new row
    cannot duplicate an old one. Without the var (a full build, `dbt build` by hand) or on a
    model without lineage (seeds, marts, per-client tables), a test reads every row, as usual.
    This keeps a one-day delta's tests proportional to the day, not to the history. A test that
    needs more than the changed rows opts out with `config: {where: ""}` (balances_reconcile).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == 'c360_changed_rows' -%}
        {%- set where = c360_changed_rows_condition(relation) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro c360_changed_rows_condition(relation) -%}
    {%- set since = var('changed_since_batch', none) -%}
    {%- if not since or not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- set conditions = [] -%}
    {%- for column in ('batch_id', 'owner_batch_id') if column in names -%}
        {%- do conditions.append(column ~ " > '" ~ since ~ "'") -%}
    {%- endfor -%}
    {{- return(conditions | join(' or ')) -}}
{%- endmacro %}
