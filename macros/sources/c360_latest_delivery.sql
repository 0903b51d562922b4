{#-
    c360_latest_delivery(relation, key_columns)

    A select over `relation` keeping one row per business key: the record from the latest
    `_batch_id` wins, then the latest `_source_file`, then the latest `_source_line`. Batch ids
    are sortable by construction (see `c360 land`), so the choice is deterministic.
    `order_by` puts a business ordering first (CRM: latest `updated_at`); text keys are
    compared trimmed unless `trim_keys=false`.

    The ranking reads the key and lineage columns only, and the winners' rows are then joined
    back by their lineage (a landed row's batch, file and line name it): a window over whole
    rows would sort every column with them, which for a GA session means its nested hits.
    Plain `row_number()` in a subquery (no QUALIFY) so that it runs on Spark as well.
-#}
{% macro c360_latest_delivery(relation, key_columns, order_by=none, trim_keys=true) -%}
    {%- set partition = [] -%}
    {%- for column in key_columns -%}
        {%- do partition.append("trim(" ~ column ~ ")" if trim_keys else column) -%}
    {%- endfor -%}
    select delivered.*
    from {{ relation }} as delivered
    inner join (
        select _batch_id, _source_file, _source_line
        from (
            select
                _batch_id,
                _source_file,
                _source_line,
                row_number() over (
                    partition by {{ partition | join(', ') }}
                    order by
                        {%- if order_by %} {{ order_by }},{% endif %}
                        _batch_id desc,
                        _source_file desc,
                        _source_line desc
                ) as _delivery_rank
            from {{ relation }} as ranked_deliveries
        ) as ranked
        where _delivery_rank = 1
    ) as latest
        on delivered._batch_id = latest._batch_id
        and delivered._source_file = latest._source_file
        and delivered._source_line = latest._source_line
{%- endmacro %}
