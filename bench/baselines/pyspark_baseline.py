"""Baseline 3: PySpark in local mode, the engine of the AWS reference architecture.

A Spark job as a data engineer would write it: DataFrame API, the raw Parquet zone read
directly, latest delivery by a window, explicit casts (`try_cast`: Spark 4 runs in ANSI mode,
where a plain cast of bad text fails). `local[*]` uses every core; the driver memory is a
flag; shuffle partitions are sized to the cores. The session's start-up (JVM) is timed apart
from the job.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pyarrow.parquet as pq

from contract import CONTRACT_COLUMNS, WINDOW_DAYS, report


def build(spark, raw: Path):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    def read(source: str, table: str, *columns: str):
        return spark.read.parquet(str(raw / source / table / "batch=*" / "*.parquet")).select(
            *columns, "_batch_id", "_source_file", "_source_line")

    def latest(df, *keys: str, trim: bool = True):
        by = [F.trim(F.col(k)) if trim else F.col(k) for k in keys]
        order = [F.col(c).desc() for c in ("_batch_id", "_source_file", "_source_line")]
        ranked = df.withColumn("_rank", F.row_number().over(Window.partitionBy(*by).orderBy(*order)))
        return ranked.where("_rank = 1").drop("_rank", "_batch_id", "_source_file", "_source_line")

    def txt(c: str):
        return F.expr(f"nullif(trim({c}), '')")

    def num(c: str, t: str = "int"):
        return F.expr(f"try_cast(nullif(nullif(trim({c}), ''), '?') as {t})")

    def ymd(y: str, m: str, d: str):
        return F.expr(f"try_cast(concat(cast({y} as string), '-', lpad(cast({m} as string), 2, '0'), '-',"
                      f" lpad(cast({d} as string), 2, '0')) as date)")

    def yymmdd(c: str):
        yy = f"try_cast(substring(trim({c}), 1, 2) as int)"
        return ymd(f"(case when {yy} < 50 then 2000 else 1900 end + {yy})",
                   f"try_cast(substring(trim({c}), 3, 2) as int)",
                   f"try_cast(substring(trim({c}), 5, 2) as int)")

    client = latest(read("mainframe", "client", "client_id", "birth_number", "district_id"), "client_id").select(
        num("client_id").alias("client_id"), txt("birth_number").alias("birth_number"),
        num("district_id").alias("district_id"))
    district = latest(read("reference", "district", "A1", "A2", "A11"), "A1").select(
        num("A1").alias("district_id"), txt("A2").alias("district_name"),
        num("A11", "decimal(18,2)").alias("district_avg_salary_czk"))
    account = latest(read("mainframe", "account", "account_id", "date"), "account_id").select(
        num("account_id").alias("account_id"), yymmdd("date").alias("opened_date"))
    disp = latest(read("mainframe", "disp", "disp_id", "client_id", "account_id", "type"), "disp_id").select(
        num("disp_id").alias("disp_id"), num("client_id").alias("client_id"),
        num("account_id").alias("account_id"), F.upper(txt("type")).alias("disp_type"))
    card = latest(read("mainframe", "card", "card_id", "disp_id", "issued"), "card_id").select(
        num("disp_id").alias("disp_id"), yymmdd("issued").alias("issued_date"))
    loan = latest(read("mainframe", "loan", "loan_id", "account_id", "date"), "loan_id").select(
        num("account_id").alias("account_id"), yymmdd("date").alias("granted_date"))
    trans = latest(read("mainframe", "trans", "trans_id", "account_id", "date", "type", "amount"), "trans_id").select(
        num("account_id").alias("account_id"), yymmdd("date").alias("trans_date"),
        txt("type").alias("trans_type"), num("amount", "decimal(18,2)").alias("amount")).cache()
    sessions = latest(read("ga", "session", "fullVisitorId", "visitId", "date", "totals"),
                      "fullVisitorId", "visitId", "date", trim=False).select(
        F.col("fullVisitorId").alias("visitor_id"),
        ymd("try_cast(substring(date, 1, 4) as int)", "try_cast(substring(date, 5, 2) as int)",
            "try_cast(substring(date, 7, 2) as int)").alias("session_date"),
        F.coalesce(F.col("totals.pageviews"), F.lit(0)).alias("pageviews")).cache()
    links = (spark.read.parquet(str(raw / "web" / "visitor_map" / "batch=*" / "*.parquet"))
             .select(txt("fullVisitorId").alias("visitor_id"), num("client_id").alias("client_id"))
             .where("visitor_id is not null").distinct())

    as_of = (trans.agg(F.max("trans_date").alias("d")).unionByName(sessions.agg(F.max("session_date").alias("d")))
             .agg(F.max("d").alias("as_of_date")))
    as_of_date = as_of.first()["as_of_date"]
    as_of_lit = F.lit(as_of_date)
    window_start = F.date_sub(as_of_lit, WINDOW_DAYS)

    holding = disp.join(account, "account_id")
    accounts = (holding.where((F.col("opened_date") <= as_of_lit) & F.col("disp_type").isin("OWNER", "DISPONENT"))
                .groupBy("client_id").agg(
                    F.count(F.when(F.col("disp_type") == "OWNER", 1)).alias("n_accounts_owned"),
                    F.count(F.when(F.col("disp_type") == "DISPONENT", 1)).alias("n_accounts_disponent"),
                    F.min("opened_date").alias("customer_since_date")))
    cards = (card.where(F.col("issued_date") <= as_of_lit).join(holding.select("disp_id", "client_id"), "disp_id")
             .groupBy("client_id").agg(F.count("*").alias("n_cards")))
    owned = holding.where(F.col("disp_type") == "OWNER").select("client_id", "account_id")
    loans = (loan.where(F.col("granted_date") <= as_of_lit).join(owned, "account_id")
             .groupBy("client_id").agg(F.count("*").alias("n_loans")))
    recent = F.col("trans_date") > window_start
    transactions = (trans.where(F.col("trans_date") <= as_of_lit).join(owned, "account_id")
                    .groupBy("client_id").agg(
                        F.count("*").alias("n_transactions"),
                        F.max("trans_date").alias("last_transaction_date"),
                        F.count(F.when(recent, 1)).alias("n_transactions_last_90d"),
                        F.sum(F.when(recent & (F.col("trans_type") == "PRIJEM"), F.col("amount")))
                        .alias("credit_amount_czk_last_90d"),
                        F.sum(F.when(recent & F.col("trans_type").isin("VYDAJ", "VYBER"), F.col("amount")))
                        .alias("debit_amount_czk_last_90d")))
    visitors = (links.join(client.select("client_id"), "client_id", "left_semi")
                .groupBy("visitor_id").agg(F.count("*").alias("n"), F.min("client_id").alias("client_id"))
                .where("n = 1").select("visitor_id", "client_id"))
    web = (sessions.where(F.col("session_date") <= as_of_lit).join(visitors, "visitor_id")
           .groupBy("client_id").agg(F.count("*").alias("web_sessions"),
                                     F.sum("pageviews").alias("web_pageviews"),
                                     F.max("session_date").alias("last_visit_date")))

    month = "try_cast(substring(birth_number, 3, 2) as int)"
    out = (client.join(district, "district_id", "left").join(accounts, "client_id", "left")
           .join(cards, "client_id", "left").join(loans, "client_id", "left")
           .join(transactions, "client_id", "left").join(web, "client_id", "left")
           .withColumn("gender", F.expr(f"case when {month} between 51 and 62 then 'female'"
                                        f" when {month} between 1 and 12 then 'male' end"))
           .withColumn("birth_date", ymd("1900 + try_cast(substring(birth_number, 1, 2) as int)",
                                         f"case when {month} > 50 then {month} - 50 else {month} end",
                                         "try_cast(substring(birth_number, 5, 2) as int)"))
           .withColumn("age_years", (F.year(as_of_lit) - F.year("birth_date")
                                     - F.when(F.month(as_of_lit) * 100 + F.dayofmonth(as_of_lit)
                                              < F.month("birth_date") * 100 + F.dayofmonth("birth_date"), 1)
                                     .otherwise(0)).cast("int")))
    for c in ("n_accounts_owned", "n_accounts_disponent", "n_cards", "n_loans", "n_transactions",
              "n_transactions_last_90d", "web_sessions", "web_pageviews"):
        out = out.withColumn(c, F.coalesce(F.col(c), F.lit(0)).cast("bigint"))
    for c in ("credit_amount_czk_last_90d", "debit_amount_czk_last_90d"):
        out = out.withColumn(c, F.coalesce(F.col(c), F.lit(0)).cast("decimal(18,2)"))
    return out.select(*CONTRACT_COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, required=True, help="<home>/raw")
    parser.add_argument("--out", type=Path, required=True, help="result Parquet file")
    parser.add_argument("--driver-memory", default=os.environ.get("C360_BENCH_SPARK_MEMORY", "6g"))
    args = parser.parse_args()

    started = time.perf_counter()
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[*]").appName("c360-bench-customer_360")
             .config("spark.driver.memory", args.driver_memory)
             # local tuning a data engineer would do: a few shuffle partitions per core
             # (the default 200 is sized for clusters; adaptive execution stays on)
             .config("spark.sql.shuffle.partitions", str(4 * (os.cpu_count() or 1)))
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    session_seconds = time.perf_counter() - started
    table = build(spark, args.raw.resolve()).toArrow()  # the whole result, on the driver
    computed = time.perf_counter()
    pq.write_table(table, args.out)
    spark.stop()
    report(read_seconds=None, session_seconds=session_seconds, compute_seconds=computed - started,
           job_seconds=computed - started - session_seconds,
           total_seconds=time.perf_counter() - started, rows=table.num_rows)


if __name__ == "__main__":
    main()
