{#-
    balances_reconcile: credits minus debits reconcile to the balances the bank reports.
    For every account and booking day, the running sum of signed amounts up to the end of
    that day must equal (within `tolerance`, the bank's rounding of interest postings) the
    balance after one of that day's transactions (the order of transactions within a day is
    not delivered). The latest booking day of the data is left out: a delivery can stop in
    the middle of a day (the public trans.asc is cut off on its last day).
    The running sum is a window ordered by day with the default RANGE frame, so it includes
    the whole day (all peers) at every row of that day.
-#}
{% test balances_reconcile(model, account_column, date_column, signed_amount_column, balance_column, tolerance=0) %}

with

movements as (

    select
        {{ account_column }} as account_id,
        {{ date_column }} as booking_date,
        {{ balance_column }} as balance,
        sum({{ signed_amount_column }}) over (
            partition by {{ account_column }}
            order by {{ date_column }}
        ) as balance_at_end_of_day
    from {{ model }}

),

checked as (

    select
        account_id,
        booking_date,
        min(abs(balance - balance_at_end_of_day)) as closest_gap
    from movements
    where booking_date < (select max({{ date_column }}) from {{ model }})
    group by account_id, booking_date

)

select *
from checked
where closest_gap > {{ tolerance }}

{% endtest %}
