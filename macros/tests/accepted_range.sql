{#-
    accepted_range: a column's non-null values lie within [min_value, max_value] (either bound
    optional; `inclusive: false` makes the bounds strict). Counts never negative:
    `accepted_range: {arguments: {min_value: 0}}`.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

select *
from {{ model }}
where {{ column_name }} is not null
  and (
    1 = 0
    {%- if min_value is not none %}
    or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
    {%- endif %}
  )

{% endtest %}
