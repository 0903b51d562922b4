{#-
    Custom schemas are used exactly as written (`staging`, `intermediate`, `marts`), not
    prefixed with the target schema, so analysts always query `marts.customer_360`.
    Nodes without a custom schema land in the target's default schema (`main`).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
