{#-
    dbt.listagg on Spark, honouring `order_by_clause` (dbt-spark's own version ignores it and
    warns). Spark 4 has the standard `listagg(...) within group (order by ...)`, so both
    engines give the same, deterministic text (identity_resolution.candidate_client_ids).
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("c360: listagg with limit_num is not implemented for Spark") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
