"""What every baseline computes: the customer_360 contract columns, and how it reports.

A baseline is a script run as its own process (so that its wall time and memory are its
own): `python <baseline>.py --raw <home>/raw --out result.parquet`. It reads the raw Parquet
zone, computes the columns below, writes them to `--out` and prints one JSON line with its
own timings (`{"read_seconds": .., "compute_seconds": .., "rows": ..}`) as its last line.
"""
from __future__ import annotations

import json
import sys

CONTRACT_COLUMNS = (
    "client_id",
    "gender", "birth_date", "age_years",
    "district_name", "district_avg_salary_czk",
    "n_accounts_owned", "n_accounts_disponent", "n_cards", "n_loans", "customer_since_date",
    "n_transactions", "last_transaction_date",
    "n_transactions_last_90d", "credit_amount_czk_last_90d", "debit_amount_czk_last_90d",
    "web_sessions", "web_pageviews", "last_visit_date",
)
MONEY_COLUMNS = ("district_avg_salary_czk", "credit_amount_czk_last_90d", "debit_amount_czk_last_90d")
WINDOW_DAYS = 90


def report(**figures) -> None:
    print(json.dumps(figures), flush=True)
    sys.stdout.flush()
