{#-
    Incremental loading of the high-volume staging models (transactions, GA sessions and what
    hangs off them). The bank delivers deltas: new days, and every night the last two days
    again (missed records, corrected amounts). An incremental run of such a model:

    1. reads only the raw batches newer than the newest batch the model holds
       (`c360_new_deliveries`); among them the latest delivery of a key wins, as in a full
       build (`c360_latest_delivery`);
    2. accepts them only within the look-back window, the last `incremental_lookback_days`
       days before the newest date the model holds: the delivery contract re-delivers at most
       the last two days, and older records are final. A new batch delivering a record dated
       before the window stops the model with a message (`c360_refuse_outside_lookback`):
       run `c360 run --full-refresh`, or widen the window, to take it;
    3. replaces by business key: on DuckDB `delete+insert` on the model's `unique_key`, so a
       re-delivered record replaces its earlier version (wherever that version was dated) and
       an identical one rewrites the same values. The delete finds the keys in one scan of
       the key column; no date predicate is needed to keep it cheap.

    Per adapter (`c360_incremental_strategy`): DuckDB replaces by key (delete+insert). Spark
    on Parquet cannot delete rows; there the models are partitioned by their date and the
    strategy is `insert_overwrite`: `spark__c360_new_deliveries` then selects every row (from
    every batch) of each date a new batch delivers, so each overwritten date partition is
    complete; the look-back window bounds those dates the same way.
-#}

{#- The incremental strategy of the keyed staging models, per adapter. -#}
{% macro c360_incremental_strategy() -%}
    {{- return(adapter.dispatch('c360_incremental_strategy', 'c360')()) -}}
{%- endmacro %}

{% macro default__c360_incremental_strategy() -%}
    {{- return('delete+insert') -}}
{%- endmacro %}

{% macro spark__c360_incremental_strategy() -%}
    {{- return('insert_overwrite') -}}
{%- endmacro %}


{#-
    The raw relation to read: all of it on a full build; on an incremental run only the batches
    newer than the newest `batch_id` in the model (batch ids sort in landing order).
    `raw_date_column` names the raw date text column (Spark: whole dates are re-read).
-#}
{% macro c360_new_deliveries(relation, raw_date_column) -%}
    {%- if not is_incremental() -%}
        {{- return(relation) -}}
    {%- endif -%}
    {{- return(adapter.dispatch('c360_new_deliveries', 'c360')(relation, raw_date_column)) -}}
{%- endmacro %}

{% macro default__c360_new_deliveries(relation, raw_date_column) -%}
    {%- set subquery -%}
    (select * from {{ relation }} where _batch_id > {{ c360_batch_watermark() }})
    {%- endset -%}
    {{- return(subquery) -}}
{%- endmacro %}

{% macro spark__c360_new_deliveries(relation, raw_date_column) -%}
    {%- set subquery -%}
    (select * from {{ relation }}
     where {{ raw_date_column }} in (
         select {{ raw_date_column }} from {{ relation }} where _batch_id > {{ c360_batch_watermark() }}))
    {%- endset -%}
    {{- return(subquery) -}}
{%- endmacro %}

{#-
    The newest landing batch the model holds ('' when it holds none), read when the model runs
    and written as a literal: DuckDB then reads only the new batches' Parquet row groups (a
    subquery in the filter would make it read the whole raw table).
-#}
{% macro c360_batch_watermark(batch_column='batch_id') -%}
    {%- set sql = "select coalesce(max(" ~ batch_column ~ "), '') from " ~ this -%}
    {{- return(c360_literal(sql) if execute else '(' ~ sql ~ ')') -}}
{%- endmacro %}


{#- The first date of the look-back window: the newest date the model holds minus the var. -#}
{% macro c360_lookback_start(date_column) -%}
    {%- set newest = '(select max(' ~ date_column ~ ') from ' ~ this ~ ')' -%}
    {%- if execute -%}
        {#- a literal, like the watermark; a model without rows yet accepts any date -#}
        {%- set value = run_query('select max(' ~ date_column ~ ') from ' ~ this).columns[0].values()[0] -%}
        {%- if value is none -%}
            {{- return("cast('0001-01-01' as date)") -}}
        {%- endif -%}
        {%- set newest = "cast('" ~ value ~ "' as date)" -%}
    {%- endif -%}
    {{- return(dbt.dateadd('day', -(var('incremental_lookback_days') | int), newest)) -}}
{%- endmacro %}

{#-
    A where-clause condition, true for every row dated inside the window, that stops the model
    (an error naming the var and the remedy) on a row dated before it.
-#}
{% macro c360_refuse_outside_lookback(date_column) -%}
    {%- set message = "c360: " ~ this ~ " received a record dated before its look-back window (var"
        ~ " incremental_lookback_days = " ~ var('incremental_lookback_days') ~ " days before its newest "
        ~ date_column ~ "); older records are final in an incremental run: run c360 run --full-refresh"
        ~ " (or widen the window) to take it" -%}
    case
        when {{ date_column }} <= {{ c360_lookback_start(date_column) }}
            then {{ c360_raise(message) }}
        else true
    end
{%- endmacro %}

{#- An expression that fails the query with `message` when evaluated. -#}
{% macro c360_raise(message) -%}
    {{- return(adapter.dispatch('c360_raise', 'c360')(message)) -}}
{%- endmacro %}

{% macro default__c360_raise(message) -%}
    error({{ dbt.string_literal(message) }})
{%- endmacro %}

{% macro spark__c360_raise(message) -%}
    raise_error({{ dbt.string_literal(message) }})
{%- endmacro %}
