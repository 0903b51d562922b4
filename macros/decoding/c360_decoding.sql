{#- Decoding helpers for the raw zone's text columns. Portable: substring / concat / cast. -#}

{#- Text as delivered -> trimmed text, blank -> null. -#}
{% macro c360_clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- Text number -> typed number; blank, `?` or unparsable -> null. -#}
{% macro c360_to_number(column, data_type) -%}
    {{- c360_try_cast("nullif(nullif(trim(" ~ column ~ "), ''), '?')", data_type) -}}
{%- endmacro %}

{% macro c360_to_integer(column) -%}
    {{- c360_to_number(column, dbt.type_int()) -}}
{%- endmacro %}

{% macro c360_to_bigint(column) -%}
    {{- c360_to_number(column, dbt.type_bigint()) -}}
{%- endmacro %}

{#- Money in CZK, two decimals as the bank books it. -#}
{% macro c360_type_czk() -%}
    decimal(18,2)
{%- endmacro %}

{#- GA money from micros, in the GA view's currency: six decimals keep micros exact. -#}
{% macro c360_type_ga_money() -%}
    decimal(18,6)
{%- endmacro %}

{% macro c360_to_czk(column) -%}
    {{- c360_to_number(column, c360_type_czk()) -}}
{%- endmacro %}

{#- GA money: micros (16990000) -> currency units (16.99). -#}
{% macro c360_micros_to_amount(column) -%}
    cast(cast({{ column }} as decimal(24,6)) / 1000000 as {{ c360_type_ga_money() }})
{%- endmacro %}

{#-
    `YYMMDD` (optionally followed by a time, as in `card.issued`) -> date. Two-digit years
    below the `yymmdd_century_pivot` var are 20YY, the others 19YY. Impossible dates -> null.
-#}
{% macro c360_yymmdd_to_date(column) -%}
    {%- set yy = c360_to_integer("substring(trim(" ~ column ~ "), 1, 2)") -%}
    {%- set mm = c360_to_integer("substring(trim(" ~ column ~ "), 3, 2)") -%}
    {%- set dd = c360_to_integer("substring(trim(" ~ column ~ "), 5, 2)") -%}
    {{- c360_date_from_parts(
        "case when " ~ yy ~ " < " ~ var('yymmdd_century_pivot') ~ " then 2000 else 1900 end + " ~ yy,
        mm, dd) -}}
{%- endmacro %}

{#-
    Czech birth number `YYMMDD` where women have month + 50 (`706213` = a woman born on
    1970-12-13). Years are always 19YY: the bank's clients were born in the 1900s.
-#}
{% macro c360_birth_number_to_date(column) -%}
    {%- set yy = c360_to_integer("substring(trim(" ~ column ~ "), 1, 2)") -%}
    {%- set mm = c360_to_integer("substring(trim(" ~ column ~ "), 3, 2)") -%}
    {%- set dd = c360_to_integer("substring(trim(" ~ column ~ "), 5, 2)") -%}
    {{- c360_date_from_parts(
        "1900 + " ~ yy,
        "case when " ~ mm ~ " > 50 then " ~ mm ~ " - 50 else " ~ mm ~ " end",
        dd) -}}
{%- endmacro %}

{#- 'female' when the birth number's month is 51..62, 'male' for 01..12, else null. -#}
{% macro c360_birth_number_to_gender(column) -%}
    {%- set mm = c360_to_integer("substring(trim(" ~ column ~ "), 3, 2)") -%}
    case when {{ mm }} between 51 and 62 then 'female' when {{ mm }} between 1 and 12 then 'male' end
{%- endmacro %}

{#- Integer year, month, day (SQL expressions) -> date; null when impossible (1994-02-30). -#}
{% macro c360_date_from_parts(year, month, day) -%}
    {%- set text = dbt.type_string() -%}
    {{- c360_try_cast(
        "cast(" ~ year ~ " as " ~ text ~ ") || '-' || lpad(cast(" ~ month ~ " as " ~ text
        ~ "), 2, '0') || '-' || lpad(cast(" ~ day ~ " as " ~ text ~ "), 2, '0')",
        "date") -}}
{%- endmacro %}

{#- Epoch seconds -> timestamp (UTC, without time zone). -#}
{% macro c360_epoch_seconds_to_timestamp(column) -%}
    {{- return(adapter.dispatch('c360_epoch_seconds_to_timestamp', 'c360')(column)) -}}
{%- endmacro %}

{% macro default__c360_epoch_seconds_to_timestamp(column) -%}
    timestamp_seconds({{ column }})
{%- endmacro %}

{% macro duckdb__c360_epoch_seconds_to_timestamp(column) -%}
    make_timestamp(cast({{ column }} as bigint) * 1000000)
{%- endmacro %}
