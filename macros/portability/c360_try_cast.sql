{#-
    c360_try_cast(expression, data_type): cast that yields null instead of failing.
    dbt.safe_cast is a plain `cast` on DuckDB (which fails on bad input), hence this macro:
    DuckDB and Spark (3.2+) both have `try_cast`; elsewhere fall back to dbt.safe_cast.
-#}
{% macro c360_try_cast(expression, data_type) -%}
    {{- return(adapter.dispatch('c360_try_cast', 'c360')(expression, data_type)) -}}
{%- endmacro %}

{% macro default__c360_try_cast(expression, data_type) -%}
    {{- dbt.safe_cast(expression, data_type) | trim -}}
{%- endmacro %}

{% macro duckdb__c360_try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro spark__c360_try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
