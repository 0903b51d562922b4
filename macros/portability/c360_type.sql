{#-
    c360_type(data_type): a column type written as in the YAML (DuckDB names: `varchar`,
    `bigint`, `timestamp`, `decimal(18,2)`) -> the adapter's name for it. Used where a declared
    type becomes SQL (the typed empty relation of an `allow_empty` source). Spark has no
    length-less `varchar` (outside table schemas) and names text `string`.
    Marts contracts and seed column types use `string`, which both engines accept.
-#}
{% macro c360_type(data_type) -%}
    {{- return(adapter.dispatch('c360_type', 'c360')(data_type)) -}}
{%- endmacro %}

{% macro default__c360_type(data_type) -%}
    {{- return(data_type) -}}
{%- endmacro %}

{% macro spark__c360_type(data_type) -%}
    {%- set name = (data_type or '') | trim | lower -%}
    {%- if modules.re.fullmatch('(varchar|text|char|bpchar)([(][0-9]+[)])?', name) -%}
        {{- return('string') -}}
    {%- elif name in ('timestamp without time zone', 'datetime') -%}
        {{- return('timestamp') -}}
    {%- elif name in ('double precision', 'float8') -%}
        {{- return('double') -}}
    {%- elif name in ('hugeint',) -%}
        {{- return('decimal(38,0)') -}}
    {%- endif -%}
    {{- return(data_type) -}}
{%- endmacro %}
