{#-
    GA session custom dimensions pivoted into named columns, dbt-ga4 style: only the indexes
    mapped in the seed `ga_custom_dimension_indexes` become columns (index 4 -> sales_region);
    the others stay in the long staging table. The column list is read from the seed when the
    model runs.
-#}
{%- set dimensions = [] -%}
{%- if execute -%}
    {%- set mapped = run_query("select custom_dimension_index, custom_dimension_name from "
                               ~ ref('ga_custom_dimension_indexes') ~ " order by custom_dimension_index") -%}
    {%- for row in mapped.rows -%}
        {%- do dimensions.append((row[0], row[1])) -%}
    {%- endfor -%}
{%- endif %}
-- depends_on: {{ ref('ga_custom_dimension_indexes') }}

with

sessions as (

    select session_key from {{ ref('stg_ga__sessions') }}

),

custom_dimensions as (

    select * from {{ ref('stg_ga__session_custom_dimensions') }}

),

pivoted as (

    select
        sessions.session_key
        {%- for index, name in dimensions %},
        max(case when custom_dimensions.custom_dimension_index = {{ index }}
                 then custom_dimensions.custom_dimension_value end) as {{ name }}
        {%- endfor %}
    from sessions
    left join custom_dimensions
        on sessions.session_key = custom_dimensions.session_key
    group by sessions.session_key

)

select * from pivoted
