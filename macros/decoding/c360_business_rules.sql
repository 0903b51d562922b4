{#- Business rules whose parameters live in dbt_project.yml vars (unit-tested in the marts). -#}

{#- loyalty tier: the first tier in var('loyalty_tiers') whose three minimums are met. -#}
{% macro c360_loyalty_tier(years_column, products_column, active_months_column) -%}
    case
    {%- for tier in var('loyalty_tiers') %}
        when {{ years_column }} >= {{ tier.min_years }}
            and {{ products_column }} >= {{ tier.min_products }}
            and {{ active_months_column }} >= {{ tier.min_active_months }}
            then '{{ tier.tier }}'
    {%- endfor %}
        else '{{ var("loyalty_tier_default") }}'
    end
{%- endmacro %}

{#- age band from var('age_band_bounds'): `under 18`, `18-24`, ..., `65+`, `unknown`. -#}
{% macro c360_age_band(age_column) -%}
    {%- set bounds = var('age_band_bounds') -%}
    case
        when {{ age_column }} is null then 'unknown'
        when {{ age_column }} < {{ bounds[0] }} then 'under {{ bounds[0] }}'
    {%- for lower in bounds[:-1] %}
        when {{ age_column }} < {{ bounds[loop.index] }} then '{{ lower }}-{{ bounds[loop.index] - 1 }}'
    {%- endfor %}
        else '{{ bounds[-1] }}+'
    end
{%- endmacro %}

{#- life stage: the first stage in var('life_stages') whose max_age is >= the age. -#}
{% macro c360_life_stage(age_column) -%}
    case
        when {{ age_column }} is null then 'unknown'
    {%- for stage in var('life_stages') %}
        when {{ age_column }} <= {{ stage.max_age }} then '{{ stage.stage }}'
    {%- endfor %}
        else 'unknown'
    end
{%- endmacro %}

{#- engagement score 0..100 from var('engagement_weights') (column -> weight, cap). -#}
{% macro c360_engagement_score() -%}
    {%- set weights = var('engagement_weights') -%}
    {%- set total = namespace(weight=0) -%}
    {%- for column, rule in weights.items() -%}
        {%- set total.weight = total.weight + rule.weight -%}
    {%- endfor -%}
    cast(100.0 * (
    {%- for column, rule in weights.items() %}
        {{ "+ " if not loop.first }}{{ rule.weight }} * least(cast(coalesce({{ column }}, 0) as {{ dbt.type_float() }}) / {{ rule.cap }}, 1.0)
    {%- endfor %}
    ) / {{ total.weight }} as decimal(5,1))
{%- endmacro %}
