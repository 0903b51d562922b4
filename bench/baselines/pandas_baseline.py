"""Baseline 2: pandas, the way an analyst writes customer_360 in a notebook.

Read each raw table's Parquet files with pyarrow (only the columns needed), keep the latest
delivery of every key, decode the text columns, then merges and groupbys. Money is summed
in integer cents (exact), as a careful analyst would; the result is written with the
contract's types.
"""
from __future__ import annotations

import argparse
import time
from glob import glob
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from decimal import Decimal

from contract import CONTRACT_COLUMNS, MONEY_COLUMNS, WINDOW_DAYS, report

LINEAGE = ["_batch_id", "_source_file", "_source_line"]


def read(raw: Path, source: str, table: str, columns: list[str]) -> pd.DataFrame:
    files = sorted(glob(str(raw / source / table / "batch=*" / "*.parquet")))
    if not files:
        raise FileNotFoundError(f"no Parquet files for {source}/{table} under {raw}")
    return pd.concat([pq.read_table(f, columns=columns).to_pandas() for f in files], ignore_index=True)


def latest(df: pd.DataFrame, key: list[str] | str, trim: bool = True) -> pd.DataFrame:
    """One row per business key: the latest batch, then file, then line wins."""
    keys = [key] if isinstance(key, str) else key
    by = [clean(df[k]) if trim else df[k] for k in keys]
    order = df.sort_values(LINEAGE, kind="stable")
    dedup_keys = pd.DataFrame({f"k{i}": k.loc[order.index] for i, k in enumerate(by)})
    keep = ~dedup_keys.duplicated(keep="last")
    return order[keep.values].drop(columns=LINEAGE)


def clean(s: pd.Series) -> pd.Series:
    """Text as delivered -> trimmed (spaces), blank -> missing."""
    s = s.str.strip(" ")
    return s.mask(s == "")


def to_int(s: pd.Series) -> pd.Series:
    s = clean(s)
    return pd.to_numeric(s.mask(s == "?"), errors="coerce").astype("Int64")


def to_cents(s: pd.Series) -> pd.Series:
    s = clean(s)
    return (pd.to_numeric(s.mask(s == "?"), errors="coerce") * 100).round().astype("Int64")


def make_date(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    parts = pd.DataFrame({"year": year, "month": month, "day": day}).astype("float64")
    return pd.to_datetime(parts, errors="coerce")


def yymmdd(s: pd.Series) -> pd.Series:
    """`YYMMDD[ hh:mm:ss]`: YY < 50 -> 20YY, else 19YY."""
    s = s.str.strip(" ")
    yy = pd.to_numeric(s.str.slice(0, 2), errors="coerce")
    year = np.where(yy < 50, 2000 + yy, 1900 + yy)
    return make_date(pd.Series(year, index=s.index), pd.to_numeric(s.str.slice(2, 4), errors="coerce"),
                     pd.to_numeric(s.str.slice(4, 6), errors="coerce"))


def customer_360(raw: Path) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    client = read(raw, "mainframe", "client", ["client_id", "birth_number", "district_id"] + LINEAGE)
    district = read(raw, "reference", "district", ["A1", "A2", "A11"] + LINEAGE)
    account = read(raw, "mainframe", "account", ["account_id", "date"] + LINEAGE)
    disp = read(raw, "mainframe", "disp", ["disp_id", "client_id", "account_id", "type"] + LINEAGE)
    card = read(raw, "mainframe", "card", ["card_id", "disp_id", "issued"] + LINEAGE)
    loan = read(raw, "mainframe", "loan", ["loan_id", "account_id", "date"] + LINEAGE)
    trans = read(raw, "mainframe", "trans", ["trans_id", "account_id", "date", "type", "amount"] + LINEAGE)
    sessions = read(raw, "ga", "session", ["fullVisitorId", "visitId", "date", "totals.pageviews"] + LINEAGE)
    visitor_map = read(raw, "web", "visitor_map", ["fullVisitorId", "client_id"])
    read_seconds = time.perf_counter() - started

    # --- the latest delivery of every record, decoded
    client = latest(client, "client_id")
    client = pd.DataFrame({"client_id": to_int(client.client_id),
                           "birth_number": clean(client.birth_number),
                           "district_id": to_int(client.district_id)})
    district = latest(district, "A1")
    district = pd.DataFrame({"district_id": to_int(district.A1), "district_name": clean(district.A2),
                             "district_avg_salary_czk": to_cents(district.A11)})
    account = latest(account, "account_id")
    account = pd.DataFrame({"account_id": to_int(account.account_id), "opened_date": yymmdd(account.date)})
    disp = latest(disp, "disp_id")
    disp = pd.DataFrame({"disp_id": to_int(disp.disp_id), "client_id": to_int(disp.client_id),
                         "account_id": to_int(disp.account_id), "disp_type": clean(disp.type).str.upper()})
    card = latest(card, "card_id")
    card = pd.DataFrame({"disp_id": to_int(card.disp_id), "issued_date": yymmdd(card.issued)})
    loan = latest(loan, "loan_id")
    loan = pd.DataFrame({"account_id": to_int(loan.account_id), "granted_date": yymmdd(loan.date)})
    trans = latest(trans, "trans_id")
    trans = pd.DataFrame({"account_id": to_int(trans.account_id), "trans_date": yymmdd(trans.date),
                          "trans_type": clean(trans.type), "cents": to_cents(trans.amount)})
    sessions = latest(sessions, ["fullVisitorId", "visitId", "date"], trim=False)
    sessions = pd.DataFrame({
        "visitor_id": sessions.fullVisitorId,
        "session_date": make_date(pd.to_numeric(sessions.date.str.slice(0, 4), errors="coerce"),
                                  pd.to_numeric(sessions.date.str.slice(4, 6), errors="coerce"),
                                  pd.to_numeric(sessions.date.str.slice(6, 8), errors="coerce")),
        "pageviews": sessions.pageviews.fillna(0).astype("int64"),
    })
    as_of = max(d for d in (trans.trans_date.max(), sessions.session_date.max()) if pd.notna(d))
    window_start = as_of - pd.Timedelta(days=WINDOW_DAYS)

    # --- products held at as_of
    holding = disp.merge(account, on="account_id", how="inner")
    held = holding[(holding.opened_date <= as_of) & holding.disp_type.isin(["OWNER", "DISPONENT"])]
    held = held.assign(owner=held.disp_type == "OWNER", disponent=held.disp_type == "DISPONENT")
    accounts = held.groupby("client_id").agg(
        n_accounts_owned=("owner", "sum"),
        n_accounts_disponent=("disponent", "sum"),
        customer_since_date=("opened_date", "min"),
    )
    cards = (card[card.issued_date <= as_of].merge(holding[["disp_id", "client_id"]], on="disp_id")
             .groupby("client_id").size().rename("n_cards"))
    owned = holding.loc[holding.disp_type == "OWNER", ["client_id", "account_id"]]
    loans = (loan[loan.granted_date <= as_of].merge(owned, on="account_id")
             .groupby("client_id").size().rename("n_loans"))

    # --- transactions on owned accounts up to as_of
    t = trans[trans.trans_date <= as_of].merge(owned, on="account_id")
    recent = t.trans_date > window_start
    t = t.assign(recent=recent,
                 credit=t.cents.where(recent & (t.trans_type == "PRIJEM")),
                 debit=t.cents.where(recent & t.trans_type.isin(["VYDAJ", "VYBER"])))
    transactions = t.groupby("client_id").agg(
        n_transactions=("trans_date", "size"),
        last_transaction_date=("trans_date", "max"),
        n_transactions_last_90d=("recent", "sum"),
        credit_amount_czk_last_90d=("credit", "sum"),
        debit_amount_czk_last_90d=("debit", "sum"),
    )

    # --- web sessions of visitors linked to exactly one existing client
    links = pd.DataFrame({"visitor_id": clean(visitor_map.fullVisitorId),
                          "client_id": to_int(visitor_map.client_id)}).dropna(subset=["visitor_id"])
    links = links.drop_duplicates()
    links = links[links.client_id.isin(client.client_id)]
    n_links = links.groupby("visitor_id").client_id.transform("size")
    visitors = links[n_links == 1]
    web = (sessions[sessions.session_date <= as_of].merge(visitors, on="visitor_id")
           .groupby("client_id").agg(web_sessions=("visitor_id", "size"),
                                     web_pageviews=("pageviews", "sum"),
                                     last_visit_date=("session_date", "max")))

    # --- one row per client
    out = (client.merge(district, on="district_id", how="left")
           .merge(accounts, on="client_id", how="left").merge(cards, on="client_id", how="left")
           .merge(loans, on="client_id", how="left").merge(transactions, on="client_id", how="left")
           .merge(web, on="client_id", how="left"))
    month = pd.to_numeric(out.birth_number.str.slice(2, 4), errors="coerce")
    out["gender"] = np.select([month.between(51, 62), month.between(1, 12)], ["female", "male"], None)
    out["birth_date"] = make_date(1900 + pd.to_numeric(out.birth_number.str.slice(0, 2), errors="coerce"),
                                  month.where(month <= 50, month - 50),
                                  pd.to_numeric(out.birth_number.str.slice(4, 6), errors="coerce"))
    birthday_to_come = (out.birth_date.dt.month * 100 + out.birth_date.dt.day) > as_of.month * 100 + as_of.day
    out["age_years"] = (as_of.year - out.birth_date.dt.year - birthday_to_come.astype(int)).astype("Int64")
    for column in ("n_accounts_owned", "n_accounts_disponent", "n_cards", "n_loans", "n_transactions",
                   "n_transactions_last_90d", "credit_amount_czk_last_90d", "debit_amount_czk_last_90d",
                   "web_sessions", "web_pageviews"):
        out[column] = out[column].fillna(0).astype("int64")
    return out, read_seconds


def to_arrow(df: pd.DataFrame) -> pa.Table:
    """The contract's types: dates as dates, money as decimal(18,2) from exact cents."""
    columns = {}
    for name in CONTRACT_COLUMNS:
        s = df[name]
        if name in MONEY_COLUMNS:
            cents = pa.array(s.astype("Int64"), pa.int64()).cast(pa.decimal128(19, 0))
            columns[name] = pc.multiply(cents, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2))).cast(pa.decimal128(18, 2))
        elif name.endswith("_date"):
            columns[name] = pa.array(s, pa.timestamp("ns")).cast(pa.date32())
        elif name in ("gender", "district_name"):
            columns[name] = pa.array(s.astype(object).where(s.notna(), None), pa.string())
        else:
            columns[name] = pa.array(s.astype("Int64"), pa.int64())
    return pa.table(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, required=True, help="<home>/raw")
    parser.add_argument("--out", type=Path, required=True, help="result Parquet file")
    args = parser.parse_args()
    started = time.perf_counter()
    df, read_seconds = customer_360(args.raw)
    table = to_arrow(df)
    computed = time.perf_counter()
    pq.write_table(table, args.out)
    report(read_seconds=read_seconds, compute_seconds=computed - started,
           total_seconds=time.perf_counter() - started, rows=table.num_rows)


if __name__ == "__main__":
    main()
