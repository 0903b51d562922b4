{#-
    balances_reconcile: credits minus debits reconcile to the balances the bank reports.
    For every account and booking day, the running sum of signed amounts up to the end of
    that day must equal (within `tolerance`, the bank's rounding of interest postings) the
    balance after one of that day's transactions (the order of transactions within a day is
    not delivered). The latest booking day of the data is left out: a delivery can stop in
    the middle of a day (the public trans.asc is cut off on its last day).
    The running sum is a window ordered by day with the default RANGE frame, so it includes
    the whole day (all peers) at every row of that day.

    `changed_since` (with `batch_column`): check only the days from the earliest day a batch
    after it changed, on the accounts it changed, starting from each account's balance at the
    end of the day before (the sum of its earlier signed amounts): an incremental run checks
    what it loaded without re-reading every account's whole history through a window.
-#}
{% test balances_reconcile(model, account_column, date_column, signed_amount_column, balance_column, tolerance=0,
                           batch_column=none, changed_since=none) %}
{%- set incremental = batch_column is not none and changed_since not in (none, '', 'None') %}

with

{%- if incremental %}

changed_accounts as (

    select distinct {{ account_column }} as changed_account_id
    from {{ model }}
    where {{ batch_column }} > '{{ changed_since }}'

),

checked_from as (

    select min({{ date_column }}) as booking_date
    from {{ model }}
    where {{ batch_column }} > '{{ changed_since }}'

),

opening as (

    select {{ account_column }} as opening_account_id, sum({{ signed_amount_column }}) as opening_balance
    from (select * from {{ model }}) as delivered
    inner join changed_accounts
        on {{ account_column }} = changed_accounts.changed_account_id
    where {{ date_column }} < (select booking_date from checked_from)
    group by {{ account_column }}

),
{%- endif %}

movements as (

    select
        running.account_id,
        running.booking_date,
        running.balance,
        {%- if incremental %}
        coalesce(opening.opening_balance, 0) + running.balance_from_opening as balance_at_end_of_day
        {%- else %}
        running.balance_from_opening as balance_at_end_of_day
        {%- endif %}
    from (
        select
            {{ account_column }} as account_id,
            {{ date_column }} as booking_date,
            {{ balance_column }} as balance,
            sum({{ signed_amount_column }}) over (
                partition by {{ account_column }}
                order by {{ date_column }}
            ) as balance_from_opening
        from (select * from {{ model }}) as delivered
        {%- if incremental %}
        inner join changed_accounts
            on {{ account_column }} = changed_accounts.changed_account_id
        where {{ date_column }} >= (select booking_date from checked_from)
        {%- endif %}
    ) as running
    {%- if incremental %}
    left join opening
        on running.account_id = opening.opening_account_id
    {%- endif %}

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
