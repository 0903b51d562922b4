{#- Decoding helpers for the mainframe's text columns. Portable: substring / concat / cast. -#}

{#- Text as delivered -> trimmed text, blank -> null. -#}
{% macro c360_clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- Text number -> typed number; blank, `?` or unparsable -> null. -#}
{% macro c360_to_number(column, data_type) -%}
    {{ dbt.safe_cast("nullif(nullif(trim(" ~ column ~ "), ''), '?')", data_type) }}
{%- endmacro %}

{% macro c360_to_integer(column) -%}
    {{ c360_to_number(column, dbt.type_int()) }}
{%- endmacro %}

{% macro c360_to_bigint(column) -%}
    {{ c360_to_number(column, dbt.type_bigint()) }}
{%- endmacro %}

{#- Money in CZK (two decimals, as the bank books it). -#}
{% macro c360_to_czk(column) -%}
    {{ c360_to_number(column, c360_type_money()) }}
{%- endmacro %}

{% macro c360_type_money() -%}
    {{ return(dbt.type_numeric() if target.type != 'duckdb' else 'decimal(18,2)') }}
{%- endmacro %}

{#-
    `YYMMDD` (optionally followed by a time, as in `card.issued`) -> date. Years below the
    `yymmdd_century_pivot` var are 20YY, the others 19YY. Impossible dates -> null.
-#}
{% macro c360_yymmdd_to_date(column) -%}
    {%- set yymmdd = "substring(trim(" ~ column ~ "), 1, 6)" -%}
    {%- set yy = dbt.safe_cast("substring(" ~ yymmdd ~ ", 1, 2)", dbt.type_int()) -%}
    {{ c360_date_from_parts(
        "(case when " ~ yy ~ " < " ~ var('yymmdd_century_pivot') ~ " then 2000 else 1900 end + " ~ yy ~ ")",
        dbt.safe_cast("substring(" ~ yymmdd ~ ", 3, 2)", dbt.type_int()),
        dbt.safe_cast("substring(" ~ yymmdd ~ ", 5, 2)", dbt.type_int())) }}
{%- endmacro %}

{#-
    Czech birth number `YYMMDD` where women have month + 50 (`706213` = woman born
    1970-12-13). Years are always 19YY: the bank's clients were born in the 1900s.
-#}
{% macro c360_birth_number_month(column) -%}
    {{ dbt.safe_cast("substring(trim(" ~ column ~ "), 3, 2)", dbt.type_int()) }}
{%- endmacro %}

{% macro c360_birth_number_to_date(column) -%}
    {%- set month = c360_birth_number_month(column) -%}
    {{ c360_date_from_parts(
        "(1900 + " ~ dbt.safe_cast("substring(trim(" ~ column ~ "), 1, 2)", dbt.type_int()) ~ ")",
        "(case when " ~ month ~ " > 50 then " ~ month ~ " - 50 else " ~ month ~ " end)",
        dbt.safe_cast("substring(trim(" ~ column ~ "), 5, 2)", dbt.type_int())) }}
{%- endmacro %}

{% macro c360_birth_number_to_gender(column) -%}
    {%- set month = c360_birth_number_month(column) -%}
    case
        when {{ month }} between 51 and 62 then 'female'
        when {{ month }} between 1 and 12 then 'male'
    end
{%- endmacro %}

{#- Integer year, month, day -> date (null when impossible, e.g. 1994-02-30). -#}
{% macro c360_date_from_parts(year, month, day) -%}
    {{ return(adapter.dispatch('c360_date_from_parts', 'c360')(year, month, day)) }}
{%- endmacro %}

{% macro default__c360_date_from_parts(year, month, day) -%}
    {{ dbt.safe_cast(
        dbt.concat([
            "cast(" ~ year ~ " as " ~ dbt.type_string() ~ ")", "'-'",
            "lpad(cast(" ~ month ~ " as " ~ dbt.type_string() ~ "), 2, '0')", "'-'",
            "lpad(cast(" ~ day ~ " as " ~ dbt.type_string() ~ "), 2, '0')"]),
        "date") }}
{%- endmacro %}

{#- Epoch seconds -> UTC timestamp. -#}
{% macro c360_epoch_seconds_to_timestamp(column) -%}
    {{ return(adapter.dispatch('c360_epoch_seconds_to_timestamp', 'c360')(column)) }}
{%- endmacro %}

{% macro default__c360_epoch_seconds_to_timestamp(column) -%}
    timestamp_seconds({{ column }})
{%- endmacro %}

{% macro duckdb__c360_epoch_seconds_to_timestamp(column) -%}
    cast(to_timestamp({{ column }}) at time zone 'UTC' as timestamp)
{%- endmacro %}

{#- GA money: micros -> currency units. -#}
{% macro c360_micros_to_units(column) -%}
    cast({{ column }} as {{ dbt.type_numeric() if target.type != 'duckdb' else 'decimal(18,6)' }}) / 1000000
{%- endmacro %}
