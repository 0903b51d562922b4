{#-
    c360_latest_delivery(relation, key_columns)

    A select over `relation` keeping one row per business key: the record from the latest
    `_batch_id` wins, then the latest `_source_file`, then the latest `_source_line`. Batch ids
    are sortable by construction (see `c360 land`), so the choice is deterministic.
    `order_by` puts a business ordering first (CRM: latest `updated_at`); text keys are
    compared trimmed unless `trim_keys=false`.
    Plain `row_number()` in a subquery (no QUALIFY) so that it runs on Spark as well.
-#}
{% macro c360_latest_delivery(relation, key_columns, order_by=none, trim_keys=true) -%}
    {%- set partition = [] -%}
    {%- for column in key_columns -%}
        {%- do partition.append("trim(" ~ column ~ ")" if trim_keys else column) -%}
    {%- endfor -%}
    select *
    from (
        select
            delivered.*,
            row_number() over (
                partition by {{ partition | join(', ') }}
                order by
                    {%- if order_by %} {{ order_by }},{% endif %}
                    _batch_id desc,
                    _source_file desc,
                    _source_line desc
            ) as _delivery_rank
        from {{ relation }} as delivered
    ) as ranked
    where _delivery_rank = 1
{%- endmacro %}
