{#-
    balances_reconcile: credits minus debits reconcile to the balances the bank reports.
    For every account and booking day, the running sum of signed amounts up to the end of
    that day must equal (within `tolerance`, the bank's rounding of interest postings) the
    balance after one of that day's transactions (the order of transactions within a day
    is not delivered). The latest booking day of the data is left out: a delivery can stop
    in the middle of a day (the public trans.asc is truncated).
-#}
{% test balances_reconcile(model, account_column, date_column, signed_amount_column, balance_column, tolerance=0) %}

with

days as (

    select
        {{ account_column }} as account_id,
        {{ date_column }} as booking_date,
        sum({{ signed_amount_column }}) as day_movement
    from {{ model }}
    group by {{ account_column }}, {{ date_column }}

),

running as (

    select
        account_id,
        booking_date,
        sum(day_movement) over (
            partition by account_id
            order by booking_date
            rows between unbounded preceding and current row
        ) as running_balance
    from days

),

checked as (

    select
        running.account_id,
        running.booking_date,
        running.running_balance,
        min(abs(movements.{{ balance_column }} - running.running_balance)) as closest_gap
    from running
    inner join {{ model }} as movements
        on movements.{{ account_column }} = running.account_id
        and movements.{{ date_column }} = running.booking_date
    where running.booking_date < (select max({{ date_column }}) from {{ model }})
    group by running.account_id, running.booking_date, running.running_balance

)

select *
from checked
where closest_gap > {{ tolerance }}

{% endtest %}
