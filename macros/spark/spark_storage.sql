{#-
    Where and how dbt-spark stores the models (overrides of dbt-spark's own macros; the root
    project's `spark__` macros win over the adapter's). DuckDB never calls these.

    * Location: every table and seed of a build goes to
      `<var spark_location_root>/<schema>/<table>` (`c360 run --target spark` passes a new
      folder per build: the published output is those Parquet folders, see
      python/c360/spark/publish.py). A table created with a location is external: when dbt
      drops and recreates it in a later build, the earlier build's files stay where they are,
      so a published build is never deleted by the next one. Without the var, dbt-spark's
      own `location_root` config applies (managed tables in the metastore's warehouse).
    * Format: `file_format` config, else the `spark_file_format` var, else `parquet` (what
      DuckDB reads directly). dbt-spark treats a missing file_format as `delta` when it
      persists contract constraints, which plain Parquet tables cannot hold.
-#}
{% macro c360_spark_file_format() -%}
    {{- return(config.get('file_format') or var('spark_file_format', none) or 'parquet') -}}
{%- endmacro %}

{% macro spark__file_format_clause() -%}
    using {{ c360_spark_file_format() }}
{%- endmacro %}

{% macro spark__location_clause() -%}
    {%- set root = var('spark_location_root', none) -%}
    {%- if root -%}
    location '{{ root.rstrip("/") }}/{{ model['schema'] }}/{{ model['alias'] }}'
    {%- else -%}
        {%- set location_root = config.get('location_root', validator=validation.any[basestring]) -%}
        {%- if location_root is not none %}
    location '{{ location_root }}/{{ model['alias'] }}'
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Contract constraints (not_null) are persisted only on formats that can hold them. -#}
{% macro spark__persist_constraints(relation, model) -%}
    {%- set contract_config = config.get('contract') -%}
    {%- if contract_config.enforced and c360_spark_file_format() == 'delta' -%}
        {%- do alter_table_add_constraints(relation, model.constraints) -%}
        {%- do alter_column_set_constraints(relation, model.columns) -%}
    {%- endif -%}
{%- endmacro %}
