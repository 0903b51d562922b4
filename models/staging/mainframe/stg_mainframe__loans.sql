with

source as (

    {{ c360_latest_delivery(c360_source('mainframe', 'loan'), ['loan_id']) }}

),

loan_statuses as (

    select * from {{ ref('mainframe_loan_statuses') }}

),

renamed as (

    select

        ----------  ids
        {{ c360_to_integer('source.loan_id') }} as loan_id,
        {{ c360_to_integer('source.account_id') }} as account_id,

        ----------  strings
        {{ c360_clean_text('source.status') }} as loan_status_code,
        loan_statuses.loan_status,

        ----------  numerics
        {{ c360_to_czk('source.amount') }} as amount_czk,
        {{ c360_to_integer('source.duration') }} as duration_months,
        {{ c360_to_czk('source.payments') }} as monthly_payment_czk,

        ----------  booleans
        loan_statuses.is_loan_running,
        loan_statuses.is_loan_in_good_standing,

        ----------  dates
        {{ c360_yymmdd_to_date('source.date') }} as granted_date,

        ----------  lineage
        source._batch_id as batch_id,
        source._ingested_at as ingested_at

    from source
    left join loan_statuses
        on upper({{ c360_clean_text('source.status') }}) = loan_statuses.status_code

)

select * from renamed
