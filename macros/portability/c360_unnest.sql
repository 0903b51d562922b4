{#-
    c360_unnest(list_expression, alias, element, index=none)

    A join clause turning each element of a LIST column into a row (rows whose list is empty
    or null disappear). Reference the element as `<alias>.<element>` (a STRUCT's fields as
    `<alias>.<element>.<field>`), and, when `index` is given, its 1-based position through
    c360_unnest_position(alias, index) (which hides the 0-based position of Spark's
    posexplode). DuckDB: `unnest ... with ordinality`; Spark: `lateral view posexplode`.

        from sessions
        {{ c360_unnest('sessions.hits', 'hits', 'hit', index='hit_index') }}
-#}
{% macro c360_unnest(list_expression, alias, element, index=none) -%}
    {{- return(adapter.dispatch('c360_unnest', 'c360')(list_expression, alias, element, index)) -}}
{%- endmacro %}

{% macro duckdb__c360_unnest(list_expression, alias, element, index) -%}
    {%- if index -%}
    cross join unnest({{ list_expression }}) with ordinality as {{ alias }}({{ element }}, {{ index }})
    {%- else -%}
    cross join unnest({{ list_expression }}) as {{ alias }}({{ element }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__c360_unnest(list_expression, alias, element, index) -%}
    {%- if index -%}
    lateral view posexplode({{ list_expression }}) {{ alias }} as {{ index }}, {{ element }}
    {%- else -%}
    lateral view explode({{ list_expression }}) {{ alias }} as {{ element }}
    {%- endif -%}
{%- endmacro %}

{#- The 1-based position of the element produced by c360_unnest(..., index=...). -#}
{% macro c360_unnest_position(alias, index) -%}
    {{- return(adapter.dispatch('c360_unnest_position', 'c360')(alias, index)) -}}
{%- endmacro %}

{% macro default__c360_unnest_position(alias, index) -%}
    {{ alias }}.{{ index }}
{%- endmacro %}

{% macro spark__c360_unnest_position(alias, index) -%}
    ({{ alias }}.{{ index }} + 1)
{%- endmacro %}
