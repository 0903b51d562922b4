{#-
    The GA key hierarchy (after dbt-ga4), built once and reused by every GA staging model:
    visitor (`fullVisitorId`) -> session (visitor + `visitId` + `date`) -> hit (session +
    `hitNumber`) -> product (hit + position in the hit's product list). Keys are readable
    text: `<fullVisitorId>-<visitId>-<YYYYMMDD>[-<hitNumber>[-<product position>]]`.
-#}
{% macro c360_ga_session_key(full_visitor_id, visit_id, date) -%}
    {%- set text = dbt.type_string() -%}
    {{ full_visitor_id }} || '-' || cast({{ visit_id }} as {{ text }}) || '-' || {{ date }}
{%- endmacro %}

{% macro c360_ga_hit_key(session_key, hit_number) -%}
    {%- set text = dbt.type_string() -%}
    {{ session_key }} || '-' || cast({{ hit_number }} as {{ text }})
{%- endmacro %}

{#- GA `YYYYMMDD` text -> date. -#}
{% macro c360_yyyymmdd_to_date(column) -%}
    {{- c360_date_from_parts(
        c360_to_integer("substring(" ~ column ~ ", 1, 4)"),
        c360_to_integer("substring(" ~ column ~ ", 5, 2)"),
        c360_to_integer("substring(" ~ column ~ ", 7, 2)")) -}}
{%- endmacro %}
