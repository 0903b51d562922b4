{#-
    c360_source(source_name, table_name)

    The raw zone's tables are globs of Parquet files (`<raw_root>/<source>/<table>/batch=*/
    *.parquet`, see the sources YAML). A glob that matches no file is an error in DuckDB, but
    some feeds may legitimately deliver nothing yet (the CRM sample, for instance, is
    quarantined whole). This macro is the one way staging models read a source:

    * it always calls `source()` (so lineage and `dbt source freshness` work as usual);
    * on DuckDB, at run time, when the source's glob matches no file and the source table is
      marked `meta: {allow_empty: true}`, it returns an empty relation typed from the
      columns declared in the sources YAML instead of failing;
    * when such a source is not marked `allow_empty`, it fails with a message naming the
      glob (a missing mainframe table is never silently empty).

    Other adapters (Spark later) read their sources as tables and get `source()` unchanged.
-#}
{% macro c360_source(source_name, table_name) -%}
    {{- return(adapter.dispatch('c360_source', 'c360')(source_name, table_name)) -}}
{%- endmacro %}

{% macro default__c360_source(source_name, table_name) -%}
    {{- return(source(source_name, table_name)) -}}
{%- endmacro %}

{% macro duckdb__c360_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set external = relation.external if relation.external is defined else none -%}
    {%- if not execute or not external -%}
        {{- return(relation) -}}
    {%- endif -%}

    {%- set match = modules.re.search("read_parquet\(\s*'([^']+)'", external) -%}
    {%- if not match -%}
        {{- return(relation) -}}
    {%- endif -%}
    {%- set pattern = match.group(1) -%}
    {%- set n_files = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
    {%- if n_files > 0 -%}
        {{- return(relation) -}}
    {%- endif -%}

    {%- set node = c360_source_node(source_name, table_name) -%}
    {%- if not node.meta.get('allow_empty', false) -%}
        {{ exceptions.raise_compiler_error(
            "Source " ~ source_name ~ "." ~ table_name ~ " has no raw file matching " ~ pattern
            ~ " (is raw_root / C360_RAW_ROOT right, and did `c360 land` run?)") }}
    {%- endif -%}
    {{ log("c360_source: no raw file for " ~ source_name ~ "." ~ table_name ~ " at " ~ pattern
           ~ "; reading it as an empty table", info=true) }}
    {{- return(c360_empty_relation(node)) -}}
{%- endmacro %}


{#- The graph node of a source table (meta and declared columns). -#}
{% macro c360_source_node(source_name, table_name) -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {{- return(node) -}}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("Unknown source " ~ source_name ~ "." ~ table_name) }}
{%- endmacro %}


{#- A zero-row subquery with the columns (and data types) declared for a source table. -#}
{% macro c360_empty_relation(node) -%}
    {%- set columns = node.columns.values() | list -%}
    {%- if columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("Source " ~ node.unique_id ~ " declares no columns to build an empty relation from") }}
    {%- endif -%}
    (
        select
        {%- for column in columns %}
            cast(null as {{ column.data_type or dbt.type_string() }}) as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0
    )
{%- endmacro %}
