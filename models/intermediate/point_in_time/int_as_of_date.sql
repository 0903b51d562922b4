{#-
    The point in time of every mart: the `as_of_date` var when given (YYYY-MM-DD), else the
    latest transaction or web-session date in the data. Marts cross join this single row;
    events, accounts, cards and loans dated after it do not count.
-#}
{%- set as_of_var = var('as_of_date', none) -%}
{%- if as_of_var is not none and as_of_var | string | trim != '' -%}
    {%- set as_of_text = as_of_var | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', as_of_text) -%}
        {{ exceptions.raise_compiler_error("var as_of_date must be YYYY-MM-DD, got '" ~ as_of_text ~ "'") }}
    {%- endif -%}
{%- else -%}
    {%- set as_of_text = none -%}
{%- endif -%}

with

latest_event_dates as (

    select max(transaction_date) as latest_event_date
    from {{ ref('stg_mainframe__transactions') }}

    union all

    select max(session_date) as latest_event_date
    from {{ ref('stg_ga__sessions') }}

),

resolved as (

    select
        {%- if as_of_text %}
        cast('{{ as_of_text }}' as date) as as_of_date,
        {%- else %}
        max(latest_event_date) as as_of_date,
        {%- endif %}
        max(latest_event_date) as latest_event_date,
        {{ 'true' if as_of_text else 'false' }} as is_as_of_date_given
    from latest_event_dates

)

select * from resolved
