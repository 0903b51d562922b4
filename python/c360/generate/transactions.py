"""Transactions, one trans_YYYYMM.asc per calendar month, balances following from amounts.

Per month and per active account (opened on or before the month's end):
- the account's first row is its opening VKLAD deposit, on the opening day;
- cash deposits and withdrawals are Poisson draws at the calibrated per-account-month
  rates (times a per-account activity level and VOLUME_FACTOR);
- salary or pension arrives monthly from a partner bank; standing orders pay monthly
  (loan orders for the loan's duration); card holders withdraw by card;
- at month end: UROK interest on a positive balance, the SLUZBY statement fee, and
  SANKC. UROK penalty interest when the balance went below zero during the month.
Withdrawals are rescaled each month so balances revert towards a per-account target (the
real balances hover around ~30,000 CZK rather than drifting), and cut where they would
overdraw; an account that cannot cover its standing orders gets a covering cash deposit.
Balances are the running sum per account in (date, trans_id) order: cumsums over the
month's rows sorted by account, starting from each account's closing balance.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from c360.generate import calibration as cal
from c360.generate.bank import PARTNER_ACCOUNT_LIMIT, Bank
from c360.generate.formats import dictionary, write_berka
from c360.generate.sampling import (
    MONTHS, Columns, amounts_in_cents, days_in_month, from_counts, from_quantiles, lookup, month_index, sparse_ids,
)

KINDS = tuple(cal.TRANS_KINDS)
KIND = {name: i for i, name in enumerate(KINDS)}
IS_CREDIT = np.array([cal.TRANS_KINDS[k]["type"] == "PRIJEM" for k in KINDS])
# Debits that follow the account's means, rescaled monthly (orders and fees do not).
DISCRETIONARY = np.array([(k in cal.POISSON_KINDS or k == "card_withdrawal") and not IS_CREDIT[i]
                          for i, k in enumerate(KINDS)])
SYMBOLS = tuple(sorted({v["k_symbol"] for v in cal.TRANS_KINDS.values()} | set(cal.ORDER_PAYMENT_SYMBOLS)))
SYMBOL = {s: i for i, s in enumerate(SYMBOLS)}
BANKS = ("", *cal.BANK_CODES)  # index 0: the blank bank of "";"0" rows
NO_PARTNER = -1

# Same-day rows of one account: opening and covering deposits first, month-end items last.
RANK_FIRST, RANK_REGULAR, RANK_INTEREST, RANK_FEE, RANK_PENALTY = range(5)
REVERSION = 0.5              # share of the gap to the target balance closed each month
TARGET_NOISE_SIGMA = 0.3     # month-to-month spread of the balance an account settles at
MIN_WITHDRAWAL_SCALE = 0.1   # withdrawals shrink to a tenth when money is short
MAX_WITHDRAWAL_SCALE = 3.0   # and grow at most threefold when it piles up
LARGEST_WITHDRAWAL = round(cal.TRANS_KINDS["cash_withdrawal"]["amount"]["quantiles"][-1] * 100)
PAYMENT_DAYS = 28            # incomes and orders keep a fixed day, at most the 28th
_GROUP_STRIDE = 1 << 42      # > any deficit in cents, and accounts * stride still fits int64

TRANS_COLUMNS = (("trans_id", "int"), ("account_id", "int"), ("date", "date"), ("type", "text"),
                 ("operation", "text"), ("amount", "money"), ("balance", "money"), ("k_symbol", "text"),
                 ("bank", "text"), ("account", "text"))


@dataclass(frozen=True)
class _Schedule:
    """Per-account and per-entity facts that drive every month."""
    open_month: np.ndarray
    open_day: np.ndarray            # 0-based day of the opening month
    activity: np.ndarray            # Poisson rate multiplier, mean 1
    target: np.ndarray              # balance (cents) the account reverts to
    fee: np.ndarray                 # statement fee (cents) by statement frequency
    income_kind: np.ndarray         # kind index, or -1
    income_amount: np.ndarray
    income_day: np.ndarray
    income_bank: np.ndarray
    income_partner: np.ndarray
    order_first: np.ndarray         # first and last month an order pays
    order_last: np.ndarray
    order_day: np.ndarray
    order_symbol: np.ndarray
    order_bank: np.ndarray
    card_first: np.ndarray          # first month a card withdraws


def write_transactions(con: duckdb.DuckDBPyConnection, out_dir: Path, bank: Bank,
                       rng: np.random.Generator) -> dict[str, int]:
    schedule = _schedule(rng, bank)
    balance = np.zeros(len(bank.accounts["account_id"]), dtype=np.int64)
    last_id, files = None, {}
    for m, month in enumerate(MONTHS):
        rows = _month_rows(rng, m, bank, schedule, balance)
        rows["trans_id"] = sparse_ids(rng, "trans", len(rows["account"]), after=last_id)
        last_id = int(rows["trans_id"][-1]) if len(rows["trans_id"]) else last_id
        name = f"mainframe/trans_{month.astype(object):%Y%m}.asc"
        files[name] = write_berka(con, out_dir / name, _arrow(rows, bank, month), TRANS_COLUMNS)
    return files


def _schedule(rng: np.random.Generator, bank: Bank) -> _Schedule:
    accounts, orders = bank.accounts, bank.orders
    n = len(accounts["account_id"])
    opened = accounts["date"]
    owner_birth = bank.clients["birth_date"][bank.dispositions["is_owner"]]
    owner_age = (opened - owner_birth).astype(np.int64) / 365.25
    income_kind = np.where(
        owner_age >= cal.PENSION_MIN_AGE,
        np.where(rng.random(n) < cal.PENSION_SHARE, KIND["pension"], -1),
        np.where(rng.random(n) < cal.SALARY_SHARE, KIND["salary"], -1),
    )
    income_amount = np.where(income_kind == KIND["pension"],
                             amounts_in_cents(rng, cal.INCOME_AMOUNTS["pension"], n)[0],
                             amounts_in_cents(rng, cal.INCOME_AMOUNTS["salary"], n)[0])
    loan = orders["loan_index"]
    start = np.where(loan >= 0, month_index(bank.loans["date"][loan]), month_index(opened[orders["account_index"]])) + 1
    last = np.where(loan >= 0, start + bank.loans["duration"][loan] - 1, len(MONTHS) - 1)
    # Orders whose purpose has no transaction-level code (blank, LEASING) pay with " " or "".
    blank = from_counts(rng, {s: cal.ORDER_PAYMENT_SYMBOLS[s] for s in ("", " ")}, len(start))
    symbol = np.where(np.isin(orders["k_symbol"], list(cal.ORDER_PAYMENT_SYMBOLS)), orders["k_symbol"], blank)
    return _Schedule(
        open_month=month_index(opened),
        open_day=(opened - opened.astype("M8[M]").astype("M8[D]")).astype(np.int64),
        activity=rng.gamma(cal.ACTIVITY_SHAPE, 1 / cal.ACTIVITY_SHAPE, n),
        target=np.round(from_quantiles(rng, cal.TARGET_BALANCE, n) * 100).astype(np.int64),
        fee=lookup({f: round(fee * 100) for f, fee in cal.STATEMENT_FEES.items()}, accounts["frequency"], np.int64),
        income_kind=income_kind,
        income_amount=income_amount,
        income_day=np.where(income_kind == KIND["pension"], _days(rng, "pension", np.zeros(n, np.int64), PAYMENT_DAYS),
                            _days(rng, "salary", np.zeros(n, np.int64), PAYMENT_DAYS)),
        income_bank=rng.integers(1, len(BANKS), n),
        income_partner=rng.integers(1, PARTNER_ACCOUNT_LIMIT, n),
        order_first=start,
        order_last=last,
        order_day=_days(rng, "order_payment", np.zeros(len(start), np.int64), PAYMENT_DAYS),
        order_symbol=lookup(SYMBOL, symbol, np.int64),
        order_bank=lookup({b: i for i, b in enumerate(BANKS)}, orders["bank_to"], np.int64),
        card_first=month_index(bank.cards["issued"]) + 1,
    )


def _month_rows(rng: np.random.Generator, m: int, bank: Bank, s: _Schedule, balance: np.ndarray) -> Columns:
    """All rows of month m in (day, account, rank) order with their balances.

    `balance` holds every account's balance at the month's start and is advanced in place.
    """
    n_days = int(days_in_month(MONTHS[m]))
    active = np.flatnonzero(s.open_month <= m)
    from_day = np.where(s.open_month[active] == m, s.open_day[active], 0)
    exposure = (n_days - from_day) / n_days  # the opening month counts from the opening day
    rows = _concat([
        _openings(rng, m, s),
        *_poisson_rows(rng, active, from_day, exposure, n_days, s),
        *_income_rows(m, s),
        _order_rows(m, bank, s),
        _card_rows(rng, m, n_days, bank, s),
    ])
    rows = _by_account(_revert_to_target(rng, rows, balance, s, n_days))
    rows = _without_overdrafts(rows, _running_balance(rows, balance))
    month_end = _month_end_rows(rng, active, exposure, n_days, rows, _running_balance(rows, balance), balance, s)
    # Month-end rows are each account's last, interest before fee before penalty: a
    # stable sort on the account alone puts them in place.
    rows = _concat([rows, month_end])
    rows = {k: v[np.argsort(rows["account"], kind="stable")] for k, v in rows.items()}
    rows["balance"] = _running_balance(rows, balance)
    balance += np.bincount(rows["account"], weights=_signed(rows), minlength=len(balance)).astype(np.int64)
    order = np.lexsort((np.arange(len(rows["account"])), rows["rank"], rows["account"], rows["day"]))
    return {k: v[order] for k, v in rows.items()}


def _rows(kind: str, account: np.ndarray, day: np.ndarray, amount: np.ndarray, *, rank: int = RANK_REGULAR,
          unit: np.ndarray | None = None, symbol: np.ndarray | None = None, bank: np.ndarray | None = None,
          partner: np.ndarray | None = None) -> Columns:
    """Rows of one kind; codes default to the kind's, partner fields to its bank form."""
    n = len(account)
    codes = cal.TRANS_KINDS[kind]
    blank = codes["bank_form"] == "blank"  # written as bank "" and account "0"
    return {
        "account": account.astype(np.int64),
        "day": day.astype(np.int64),
        "kind": np.full(n, KIND[kind]),
        "rank": np.full(n, rank),
        "amount": amount.astype(np.int64),
        "unit": np.ones(n, np.int64) if unit is None else unit,
        "symbol": np.full(n, SYMBOL[codes["k_symbol"]]) if symbol is None else symbol,
        "bank": np.full(n, 0 if blank else NO_PARTNER) if bank is None else bank,
        "partner": np.full(n, 0 if blank else NO_PARTNER) if partner is None else partner,
    }


def _concat(pieces: list[Columns]) -> Columns:
    return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}


def _openings(rng: np.random.Generator, m: int, s: _Schedule) -> Columns:
    account = np.flatnonzero(s.open_month == m)
    amount = amounts_in_cents(rng, cal.TRANS_KINDS["opening_deposit"]["amount"], len(account))[0]
    return _rows("opening_deposit", account, s.open_day[account], amount, rank=RANK_FIRST)


def _poisson_rows(rng: np.random.Generator, active: np.ndarray, from_day: np.ndarray, exposure: np.ndarray,
                  n_days: int, s: _Schedule) -> list[Columns]:
    pieces = []
    for kind in cal.POISSON_KINDS:
        rate = cal.TRANS_KINDS[kind]["per_account_month"] * cal.VOLUME_FACTOR
        counts = rng.poisson(rate * s.activity[active] * exposure)
        first = np.repeat(from_day, counts)
        amount, unit = amounts_in_cents(rng, cal.TRANS_KINDS[kind]["amount"], len(first))
        pieces.append(_rows(kind, np.repeat(active, counts), _days(rng, kind, first, n_days), amount, unit=unit))
    return pieces


def _income_rows(m: int, s: _Schedule) -> list[Columns]:
    """Salaries and pensions from the month after opening, same day and payer every month."""
    pieces = []
    for kind in ("salary", "pension"):
        account = np.flatnonzero((s.income_kind == KIND[kind]) & (s.open_month < m))
        pieces.append(_rows(kind, account, s.income_day[account], s.income_amount[account],
                            bank=s.income_bank[account], partner=s.income_partner[account]))
    return pieces


def _order_rows(m: int, bank: Bank, s: _Schedule) -> Columns:
    paying = np.flatnonzero((s.order_first <= m) & (m <= s.order_last))
    orders = bank.orders
    return _rows("order_payment", orders["account_index"][paying], s.order_day[paying], orders["amount"][paying],
                 symbol=s.order_symbol[paying], bank=s.order_bank[paying], partner=orders["account_to"][paying])


def _card_rows(rng: np.random.Generator, m: int, n_days: int, bank: Bank, s: _Schedule) -> Columns:
    holders = np.flatnonzero(s.card_first <= m)
    counts = rng.poisson(cal.CARD_WITHDRAWALS_PER_MONTH, len(holders))
    account = np.repeat(bank.cards["account_index"][holders], counts)
    amount, unit = amounts_in_cents(rng, cal.TRANS_KINDS["card_withdrawal"]["amount"], len(account))
    day = _days(rng, "card_withdrawal", np.zeros(len(account), np.int64), n_days)
    return _rows("card_withdrawal", account, day, amount, unit=unit)


def _days(rng: np.random.Generator, kind: str, first: np.ndarray, n_days: int) -> np.ndarray:
    """0-based days of the month, placed like the kind's real ones; in an account's opening
    month (first > 0) spread evenly over the days left."""
    typical = np.floor(from_quantiles(rng, cal.TRANS_KINDS[kind]["day_of_month"], len(first))).astype(np.int64) - 1
    remaining = first + (rng.random(len(first)) * (n_days - first)).astype(np.int64)
    return np.where(first > 0, remaining, np.minimum(typical, n_days - 1))


def _signed(rows: Columns) -> np.ndarray:
    return np.where(IS_CREDIT[rows["kind"]], rows["amount"], -rows["amount"])


def _revert_to_target(rng: np.random.Generator, rows: Columns, balance: np.ndarray, s: _Schedule,
                      n_days: int) -> Columns:
    """Rescale this month's withdrawals towards the account's target balance.

    An account above its target spends more (up to MAX_WITHDRAWAL_SCALE times what was
    drawn; beyond that, once the excess exceeds the target itself, in one extra cash
    withdrawal of at most the largest real one), an account below it spends less (down to MIN_WITHDRAWAL_SCALE); amounts keep their
    rounding unit. An
    account whose standing orders exceed its money gets a cash deposit on the month's first
    day that brings it back to its target (in whole hundreds).
    """
    n = len(balance)
    account, amount, kind = rows["account"], rows["amount"], rows["kind"]
    discretionary = DISCRETIONARY[kind]
    credits = np.bincount(account, weights=np.where(IS_CREDIT[kind], amount, 0), minlength=n)
    fixed = np.bincount(account, weights=np.where(IS_CREDIT[kind] | discretionary, 0, amount), minlength=n)
    drawn = np.bincount(account, weights=np.where(discretionary, amount, 0), minlength=n)
    available = balance + credits - fixed
    target = s.target * np.exp(rng.normal(0, TARGET_NOISE_SIGMA, n))
    surplus = available - target
    wanted = drawn + REVERSION * (surplus - drawn)
    factor = np.clip(wanted / np.maximum(drawn, 1), MIN_WITHDRAWAL_SCALE, MAX_WITHDRAWAL_SCALE)
    rescaled = np.floor(amount * factor[account] / rows["unit"]) * rows["unit"]
    rows = rows | {"amount": np.where(discretionary, rescaled, amount).astype(np.int64)}
    left = wanted - MAX_WITHDRAWAL_SCALE * drawn
    rich = np.flatnonzero(left >= target)  # only money piling up far beyond the target
    spend = np.minimum(left[rich], LARGEST_WITHDRAWAL) // 10_000 * 10_000
    short = np.flatnonzero(balance - fixed < 0)
    cover = np.ceil((target - balance + fixed)[short] / 10_000).astype(np.int64) * 10_000
    return _concat([
        rows,
        _rows("cash_withdrawal", rich, rng.integers(0, n_days, len(rich)), spend.astype(np.int64),
              unit=np.full(len(rich), 10_000)),
        _rows("cash_deposit", short, np.zeros(len(short)), cover, rank=RANK_FIRST),
    ])


def _without_overdrafts(rows: Columns, running: np.ndarray) -> Columns:
    """Cut cash and card withdrawals that would overdraw the account (a teller or cash
    machine pays out only what is there); standing orders and fees may still overdraw.

    Rows are in (account, day, rank) order with their running balances. A cut at one row
    raises every later balance, so the cut needed by row i is the account's largest
    deficit so far minus the cuts already made: a cumulative max per account.
    """
    account, kind = rows["account"], rows["kind"]
    deficit = np.where(DISCRETIONARY[kind], np.maximum(-running, 0), 0)
    first = np.r_[True, account[1:] != account[:-1]] if len(account) else np.zeros(0, bool)
    group = np.cumsum(first) * _GROUP_STRIDE  # keeps the cumulative max inside each account
    needed = np.maximum.accumulate(group + deficit) - group
    cut = needed - np.where(first, 0, np.r_[0, needed[:-1]])
    amount = np.maximum(rows["amount"] - cut, 0) // rows["unit"] * rows["unit"]
    return {k: v[amount > 0] for k, v in (rows | {"amount": amount}).items()}


def _by_account(rows: Columns) -> Columns:
    """Rows in (account, day, rank) order, the order balances accumulate in."""
    order = np.lexsort((np.arange(len(rows["account"])), rows["rank"], rows["day"], rows["account"]))
    return {k: v[order] for k, v in rows.items()}


def _running_balance(rows: Columns, balance: np.ndarray) -> np.ndarray:
    """Each row's balance after it, for rows in account order: one cumsum, restarted per
    account at the account's opening balance."""
    account, signed = rows["account"], _signed(rows)
    total = np.cumsum(signed)
    starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]]) if len(account) else np.zeros(0, np.int64)
    before = np.repeat(total[starts] - signed[starts], np.diff(np.r_[starts, len(account)]))
    return balance[account] + total - before


def _month_end_rows(rng: np.random.Generator, active: np.ndarray, exposure: np.ndarray, n_days: int,
                    rows: Columns, running: np.ndarray, balance: np.ndarray, s: _Schedule) -> Columns:
    """Interest on a positive closing balance, the statement fee, and penalty interest for
    an account that was overdrawn at any point of the month."""
    n = len(balance)
    closing = balance + np.bincount(rows["account"], weights=_signed(rows), minlength=n).astype(np.int64)
    lowest = balance.copy()
    np.minimum.at(lowest, rows["account"], running)
    last_day = np.full(len(active), n_days - 1)
    interest = np.round(np.maximum(closing[active], 0) * cal.INTEREST_MONTHLY_RATE * exposure).astype(np.int64)
    charged = rng.random(len(active)) < cal.TRANS_KINDS["statement_fee"]["per_account_month"] * exposure
    overdrawn = active[lowest[active] < 0]
    penalty = amounts_in_cents(rng, cal.TRANS_KINDS["penalty_interest"]["amount"], len(overdrawn))[0]
    return _concat([
        _rows("interest", active[interest > 0], last_day[interest > 0], interest[interest > 0], rank=RANK_INTEREST),
        _rows("statement_fee", active[charged], last_day[charged], s.fee[active[charged]], rank=RANK_FEE),
        _rows("penalty_interest", overdrawn, np.full(len(overdrawn), n_days - 1), penalty, rank=RANK_PENALTY),
    ])


def _arrow(rows: Columns, bank: Bank, month: np.datetime64) -> pa.Table:
    kind = rows["kind"]
    columns = {}
    for code in ("type", "operation"):
        values = sorted({cal.TRANS_KINDS[k][code] for k in KINDS})
        per_kind = np.array([values.index(cal.TRANS_KINDS[k][code]) for k in KINDS])
        columns[code] = dictionary(per_kind[kind], values)
    return pa.table({
        "trans_id": rows["trans_id"],
        "account_id": bank.accounts["account_id"][rows["account"]],
        "date": month.astype("M8[D]") + rows["day"].astype("m8[D]"),
        "type": columns["type"],
        "operation": columns["operation"],
        "amount": rows["amount"],
        "balance": rows["balance"],
        "k_symbol": dictionary(rows["symbol"], list(SYMBOLS)),
        "bank": dictionary(rows["bank"], list(BANKS)),
        "account": pa.array(rows["partner"], mask=rows["partner"] < 0),
    })
