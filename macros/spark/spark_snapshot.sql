{#-
    Snapshots on Spark with plain Parquet tables (an override of dbt-spark's snapshot
    materialization, which accepts only Delta, Iceberg and Hudi because it updates rows with
    MERGE). Parquet cannot update rows, so a snapshot run writes the whole new version of the
    table instead, with exactly MERGE's result:

      * the versions in the table, with `dbt_valid_to` set on those the source closed
        (dbt's own snapshot staging query says which: change type `update` / `delete`);
      * plus the new versions (change type `insert`) not in the table yet.

    It is written as a new table at the build's location (macros/spark/spark_storage.sql),
    then takes the snapshot's name; the table it was computed from is dropped from the catalog
    only (its files belong to the previous, published build). `c360 run --target spark`
    registers the published build's snapshot there before it builds (python/c360/spark/target.py),
    so the history carries over from build to build as in the DuckDB build.

    On Delta, Iceberg or Hudi, dbt-spark's own materialization applies unchanged.
-#}
{% materialization snapshot, adapter='spark' %}

  {%- set file_format = config.get('file_format') or var('spark_file_format', none) or 'parquet' -%}
  {%- if file_format in ['delta', 'iceberg', 'hudi'] -%}
    {{ return(dbt_spark_materialization_snapshot()) }}
  {%- endif -%}
  {%- if file_format != 'parquet' -%}
    {{ exceptions.raise_compiler_error("c360: snapshots on Spark need file_format parquet, delta, iceberg or hudi, not " ~ file_format) }}
  {%- endif -%}

  {%- set target_table = model.get('alias', model.get('name')) -%}
  {%- set strategy_name = config.get('strategy') -%}
  {%- set grant_config = config.get('grants') -%}
  {%- set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none, schema=model.schema, identifier=target_table, type='table') -%}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}
  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

  {% if not target_relation_exists %}

    {% set final_sql = create_table_as(False, target_relation, build_snapshot_table(strategy, model['compiled_code'])) %}
    {% call statement('main') %}
        {{ final_sql }}
    {% endcall %}

  {% else %}

    {{ adapter.valid_snapshot_target(target_relation, columns) }}
    {%- set target_columns = adapter.get_columns_in_relation(target_relation) | map(attribute='name') | list -%}
    {%- set new_relation = target_relation.incorporate(path={"identifier": target_table ~ '__dbt_new'}) -%}
    {% do adapter.drop_relation(new_relation) %}

    {% set rewritten_sql %}
      with

      staged as (
          {{ snapshot_staging_table(strategy, model['compiled_code'], target_relation) }}
      ),

      closed as (
          select {{ columns.dbt_scd_id }} as closed_scd_id, max({{ columns.dbt_valid_to }}) as closed_valid_to
          from staged
          where dbt_change_type in ('update', 'delete')
          group by {{ columns.dbt_scd_id }}
      )

      select
          {%- for column in target_columns %}
          {%- if column == columns.dbt_valid_to %}
          case
              when closed.closed_scd_id is not null and snapshotted.{{ columns.dbt_valid_to }} is null
                  then closed.closed_valid_to
              else snapshotted.{{ columns.dbt_valid_to }}
          end as {{ adapter.quote(column) }}
          {%- else %}
          snapshotted.{{ adapter.quote(column) }}
          {%- endif %}{{ "," if not loop.last }}
          {%- endfor %}
      from {{ target_relation }} as snapshotted
      left join closed
          on snapshotted.{{ columns.dbt_scd_id }} = closed.closed_scd_id

      union all

      select
          {%- for column in target_columns %}
          staged.{{ adapter.quote(column) }}{{ "," if not loop.last }}
          {%- endfor %}
      from staged
      left anti join {{ target_relation }} as snapshotted
          on snapshotted.{{ columns.dbt_scd_id }} = staged.{{ columns.dbt_scd_id }}
      where staged.dbt_change_type = 'insert'
    {% endset %}

    {% call statement('main') %}
        {{ create_table_as(False, new_relation, rewritten_sql) }}
    {% endcall %}
    {% do adapter.drop_relation(target_relation) %}
    {% do adapter.rename_relation(new_relation, target_relation) %}

  {% endif %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
