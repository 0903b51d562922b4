{#-
    expression_is_true: every row (optionally only rows matching `where`) satisfies a SQL
    boolean expression. Use on a model (`data_tests:` of the model) or on a column, where
    the expression may use the column by name. Fails with the rows that break it.

        data_tests:
          - expression_is_true:
              arguments:
                expression: "n_transactions_last_90d <= n_transactions"
-#}
{% test expression_is_true(model, expression, column_name=none, where_clause=none) %}

select *
from {{ model }}
where not ({{ expression }})
{%- if where_clause %}
    and ({{ where_clause }})
{%- endif %}

{% endtest %}
