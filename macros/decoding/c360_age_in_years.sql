{#-
    Age in whole years at a date: the difference of the years, minus one when the birthday
    has not come yet that year (month-day compared as MMDD; someone born on 29 February turns
    a year older on 1 March in non-leap years). Portable: only `extract`.
-#}
{% macro c360_age_in_years(birth_date, at_date) -%}
    cast(extract(year from {{ at_date }}) - extract(year from {{ birth_date }})
        - case
            when extract(month from {{ at_date }}) * 100 + extract(day from {{ at_date }})
                < extract(month from {{ birth_date }}) * 100 + extract(day from {{ birth_date }})
            then 1 else 0
          end as {{ dbt.type_int() }})
{%- endmacro %}
