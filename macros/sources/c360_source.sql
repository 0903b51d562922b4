{#-
    c360_source(source_name, table_name)

    The raw zone's tables are globs of Parquet files (`<raw_root>/<source>/<table>/batch=*/
    *.parquet`, the `external_location` of the sources YAML). A glob that matches no file is an
    error in DuckDB, but some feeds may legitimately deliver nothing yet (the CRM sample, for
    instance, is quarantined whole). This macro is the one way staging models read a source:

    * it always calls `source()` (so lineage and `dbt source freshness` work as usual);
    * on DuckDB, at run time, when the source's glob matches no file and the source table is
      marked `meta: {allow_empty: true}`, it returns an empty relation typed from the
      columns declared in the sources YAML instead of failing;
    * when such a source is not marked `allow_empty`, it fails with a message naming the
      glob (a missing mainframe table is never silently empty).

    On Spark the on-run-start hook registers every raw table as a view over the same glob
    (`parquet.`<glob>``, or the typed empty relation), so `source()` is used as it is (quoted:
    `order` is an SQL keyword). Other adapters get `source()` unchanged.
-#}
{% macro c360_source(source_name, table_name) -%}
    {{- return(adapter.dispatch('c360_source', 'c360')(source_name, table_name)) -}}
{%- endmacro %}

{% macro default__c360_source(source_name, table_name) -%}
    {{- return(source(source_name, table_name)) -}}
{%- endmacro %}

{% macro spark__c360_source(source_name, table_name) -%}
    {{- return(source(source_name, table_name).quote(schema=true, identifier=true)) -}}
{%- endmacro %}

{% macro duckdb__c360_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {#- unit tests replace the source by a fixture: no external location then -#}
    {%- set external = relation.external if relation.external is defined else none -%}
    {%- if not execute or not external -%}
        {{- return(relation) -}}
    {%- endif -%}
    {%- set node = c360_source_node(source_name, table_name) -%}
    {%- set resolved = c360_resolve_raw_table(node) -%}
    {%- if resolved is none -%}
        {{- return(relation) -}}
    {%- endif -%}
    {{- return(resolved) -}}
{%- endmacro %}


{#-
    What a raw source table reads as, on DuckDB: its external location when its glob matches
    files; a typed empty relation when it matches none and the table is `allow_empty`; an
    error naming the glob otherwise. None when the node has no parquet external location.
-#}
{% macro c360_resolve_raw_table(node) -%}
    {%- set external = c360_external_location(node) -%}
    {%- set match = modules.re.search("read_parquet[(][ ]*'([^']+)'", external or '') -%}
    {%- if not match -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set pattern = match.group(1) -%}
    {%- set n_files = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
    {%- if n_files > 0 -%}
        {{- return(external) -}}
    {%- endif -%}
    {%- if not node.meta.get('allow_empty', false) -%}
        {{ exceptions.raise_compiler_error(
            "Source " ~ node.source_name ~ "." ~ node.name ~ " has no raw file matching " ~ pattern
            ~ " (is raw_root / C360_RAW_ROOT right, and did `c360 land` run?)") }}
    {%- endif -%}
    {{ log("c360: no raw file for " ~ node.source_name ~ "." ~ node.name ~ " at " ~ pattern
           ~ "; reading it as an empty table (allow_empty)", info=true) }}
    {{- return(c360_empty_relation(node)) -}}
{%- endmacro %}


{#- The external location of a source node, formatted as dbt-duckdb does ({identifier}, {name}). -#}
{% macro c360_external_location(node) -%}
    {%- set template = node.meta.get('external_location') or node.config.get('external_location') -%}
    {%- if not template -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(template.replace('{identifier}', node.identifier).replace('{name}', node.name)) -}}
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
    {%- set selected = [] -%}
    {%- for column in columns -%}
        {%- do selected.append("cast(null as " ~ c360_type(column.data_type or dbt.type_string()) ~ ") as " ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {{- return("(select " ~ selected | join(", ") ~ " where 1 = 0)") -}}
{%- endmacro %}


{#-
    on-run-start hook: register every raw source table as a view `<source schema>.<table>`
    (e.g. `raw_mainframe.client`) over what c360_source reads. The views make the raw zone
    queryable from the DuckDB file (gates, ad-hoc checks), and let dbt unit tests read the
    column types of source inputs, which it looks up in the catalog. A table that has no raw
    file and is not `allow_empty` gets no view (its staging model fails with the reason).
-#}
{% macro c360_register_raw_views() -%}
    {{- return(adapter.dispatch('c360_register_raw_views', 'c360')()) -}}
{%- endmacro %}

{% macro default__c360_register_raw_views() -%}
    {{- return('') -}}
{%- endmacro %}

{% macro duckdb__c360_register_raw_views() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for node in graph.sources.values() if node.package_name == project_name -%}
        {%- set external = c360_external_location(node) -%}
        {%- if external -%}
            {%- set match = modules.re.search("read_parquet[(][ ]*'([^']+)'", external) -%}
            {%- set n_files = run_query("select count(*) from glob('" ~ match.group(1) ~ "')").columns[0].values()[0] if match else 1 -%}
            {%- if n_files > 0 or node.meta.get('allow_empty', false) -%}
                {%- set body = external if n_files > 0 else c360_empty_relation(node) -%}
                {%- do statements.append("create schema if not exists " ~ adapter.quote(node.schema)) -%}
                {%- do statements.append("create or replace view " ~ adapter.quote(node.schema) ~ "." ~ adapter.quote(node.identifier)
                                         ~ " as select * from " ~ body) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(statements | join(";\n")) -}}
{%- endmacro %}


{#-
    Spark: the same views, `create or replace view raw_<source>.<table> as select * from
    parquet.`<glob>``, over the glob of the sources YAML (the raw zone's `batch=*` folders
    are matched by the glob, not read as a partition column; batches whose files differ in
    columns are merged by name with `spark.sql.parquet.mergeSchema`, the profile's
    server-side parameter).

    Spark SQL cannot ask the file system whether a glob matches anything, and a glob that
    matches nothing fails the view. The caller says which raw tables have files: the var
    `raw_tables_present` (list of `<source>.<table>`; `c360 run --target spark` lists them).
    A table not in the list reads as its typed empty relation when it is `allow_empty` and
    fails with the reason otherwise. Without the var, every table is expected to have files.
-#}
{% macro spark__c360_register_raw_views() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set present = var('raw_tables_present', none) -%}
    {%- set statements = [] -%}
    {%- set schemas = [] -%}
    {%- for node in graph.sources.values() if node.package_name == project_name -%}
        {%- set external = c360_external_location(node) -%}
        {%- set match = modules.re.search("read_parquet[(][ ]*'([^']+)'", external or '') -%}
        {%- if match -%}
            {%- set pattern = match.group(1) -%}
            {%- set name = node.source_name ~ '.' ~ node.name -%}
            {%- if present is none or name in present -%}
                {%- set body = "select * from parquet.`" ~ pattern ~ "`" -%}
            {%- elif node.meta.get('allow_empty', false) -%}
                {{ log("c360: no raw file for " ~ name ~ " at " ~ pattern
                       ~ "; reading it as an empty table (allow_empty)", info=true) }}
                {%- set body = "select * from " ~ c360_empty_relation(node) ~ " as empty" -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error(
                    "Source " ~ name ~ " has no raw file matching " ~ pattern
                    ~ " (is raw_root / C360_RAW_ROOT right, and did `c360 land` run?)") }}
            {%- endif -%}
            {%- if node.schema not in schemas -%}
                {%- do schemas.append(node.schema) -%}
                {%- do statements.append("create schema if not exists " ~ adapter.quote(node.schema)) -%}
            {%- endif -%}
            {%- do statements.append("create or replace view " ~ adapter.quote(node.schema) ~ "."
                                     ~ adapter.quote(node.identifier) ~ " as " ~ body) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- dbt-spark runs a hook as one statement: run them one by one, the hook itself is empty -#}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {{- return('') -}}
{%- endmacro %}
