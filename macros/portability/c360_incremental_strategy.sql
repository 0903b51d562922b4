{#-
    c360_incremental_strategy(): the incremental strategy that keeps "latest delivery wins"
    correct on the current adapter, for models that become incremental (issue 5):

        {{ config(materialized='incremental', unique_key='trans_id',
                  incremental_strategy=c360_incremental_strategy()) }}

    DuckDB: `delete+insert` on the unique key. Spark: `merge` needs a table format with
    row-level updates (Delta, Iceberg, Hudi); on plain Parquet, dbt-spark offers only `append`
    and `insert_overwrite` (whole partitions). `c360 run --target spark` builds every model
    into a fresh location with `--full-refresh`, so an incremental model is rebuilt whole
    there and `append` is only the strategy dbt-spark validates.
-#}
{% macro c360_incremental_strategy() -%}
    {{- return(adapter.dispatch('c360_incremental_strategy', 'c360')()) -}}
{%- endmacro %}

{% macro default__c360_incremental_strategy() -%}
    {{- return('delete+insert') -}}
{%- endmacro %}

{% macro spark__c360_incremental_strategy() -%}
    {%- if c360_spark_file_format() in ('delta', 'iceberg', 'hudi') -%}
        {{- return('merge') -}}
    {%- endif -%}
    {{- return('append') -}}
{%- endmacro %}
