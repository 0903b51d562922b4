"""The mainframe's entity tables: accounts, clients, dispositions, cards, loans, orders.

Every table is a dict of numpy columns. Besides the delivered columns, rows carry the
positions of the rows they refer to (`account_index`, ...) so later steps join by array
indexing; the writers pick only the delivered columns.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from c360.generate import calibration as cal
from c360.generate.formats import write_berka, write_district
from c360.generate.sampling import (
    HORIZON_END, Columns, amounts_in_cents, days_in_month, from_counts, from_quantiles, month_index,
    scaled_count, sparse_ids, whole_years_between, years_to_days,
)

# Partner accounts at other banks are up to 8 digits, like order.account_to.
PARTNER_ACCOUNT_LIMIT = 100_000_000
BIRTH_FLOOR = np.datetime64("1900-01-01")  # birth numbers hold two-digit years


@dataclass(frozen=True)
class Bank:
    accounts: Columns      # account_id, district_id, frequency, date
    clients: Columns       # client_id, birth_date, is_woman, district_id
    dispositions: Columns  # disp_id, client_id, account_id, type; account_index, is_owner
    cards: Columns         # card_id, disp_id, type, issued; account_index
    loans: Columns         # loan_id, account_id, date, amount, duration, payments; account_index
    orders: Columns        # order_id, account_id, bank_to, account_to, amount, k_symbol; account_index, loan_index


def generate_bank(rng: np.random.Generator, scale: float) -> Bank:
    accounts = _accounts(rng, scale)
    clients, dispositions = _clients_and_dispositions(rng, accounts, scale)
    loans = _loans(rng, accounts, scale)
    return Bank(
        accounts=accounts,
        clients=clients,
        dispositions=dispositions,
        cards=_cards(rng, accounts, clients, dispositions, scale),
        loans=loans,
        orders=_orders(rng, accounts, loans),
    )


def _accounts(rng: np.random.Generator, scale: float) -> Columns:
    n = scaled_count(cal.ROW_COUNTS["account"], scale)
    months = from_counts(rng, cal.ACCOUNT_OPEN_MONTHS, n).astype("M8[M]")
    opened = months.astype("M8[D]") + (rng.random(n) * days_in_month(months)).astype("m8[D]")
    return {
        "account_id": sparse_ids(rng, "account", n),
        "district_id": from_counts(rng, cal.ACCOUNT_DISTRICTS, n),
        "frequency": from_counts(rng, cal.ACCOUNT_FREQUENCIES, n),
        "date": opened,
    }


def _clients_and_dispositions(rng: np.random.Generator, accounts: Columns, scale: float) -> tuple[Columns, Columns]:
    """One owner per account; some accounts add a disponent, a spouse of the other sex.

    Each client holds exactly one disposition, as in the real data.
    """
    n_accounts = len(accounts["account_id"])
    opened = accounts["date"]
    owner_birth = opened - years_to_days(from_quantiles(rng, cal.OWNER_AGE_AT_OPEN, n_accounts))
    owner_woman = rng.random(n_accounts) < cal.OWNER_WOMAN_SHARE

    n_disponents = min(n_accounts, scaled_count(cal.ROW_COUNTS["disp"] - cal.ROW_COUNTS["account"], scale))
    shared = np.sort(rng.choice(n_accounts, n_disponents, replace=False))
    youngest = opened[shared] - years_to_days(cal.OWNER_AGE_AT_OPEN[0])
    spouse_birth = np.minimum(owner_birth[shared] + years_to_days(from_quantiles(rng, cal.DISPONENT_AGE_GAP, n_disponents)),
                              youngest)
    opposite = rng.random(n_disponents) < cal.DISPONENT_OPPOSITE_SEX_SHARE
    spouse_woman = np.where(opposite, ~owner_woman[shared], owner_woman[shared])

    account_index = np.concatenate([np.arange(n_accounts), shared])
    is_owner = np.concatenate([np.ones(n_accounts, bool), np.zeros(n_disponents, bool)])
    order = np.lexsort((~is_owner, account_index))  # per account: owner first, like disp.asc
    account_index, is_owner = account_index[order], is_owner[order]
    n = len(order)
    home = accounts["district_id"][account_index]
    clients = {
        "client_id": sparse_ids(rng, "client", n),
        "birth_date": np.maximum(np.concatenate([owner_birth, spouse_birth])[order], BIRTH_FLOOR),
        "is_woman": np.concatenate([owner_woman, spouse_woman])[order],
        "district_id": np.where(rng.random(n) < cal.CLIENT_HOME_DISTRICT_SHARE, home,
                                from_counts(rng, cal.ACCOUNT_DISTRICTS, n)),
    }
    dispositions = {
        "disp_id": sparse_ids(rng, "disp", n),
        "client_id": clients["client_id"],
        "account_id": accounts["account_id"][account_index],
        "type": np.where(is_owner, "OWNER", "DISPONENT"),
        "account_index": account_index,
        "is_owner": is_owner,
    }
    return clients, dispositions


def _position_dates(rng: np.random.Generator, opened: np.ndarray, min_delay_days: int,
                    positions: tuple[float, ...]) -> np.ndarray:
    """A date between opening + the real minimum delay and the horizon end, placed by the
    real position quantiles (which skew cards and loans towards the later years)."""
    start = opened + np.timedelta64(min_delay_days, "D")
    span = (HORIZON_END - start).astype(np.int64)
    return start + np.round(from_quantiles(rng, positions, len(opened)) * span).astype("m8[D]")


def _cards(rng: np.random.Generator, accounts: Columns, clients: Columns, dispositions: Columns,
           scale: float) -> Columns:
    """Cards go to owners (as in the real data): junior cards to owners aged 12-20 at issue."""
    owners = np.flatnonzero(dispositions["is_owner"])  # one per account, in account order
    issued = _position_dates(rng, accounts["date"], cal.CARD_MIN_DELAY_DAYS, cal.CARD_ISSUE_POSITION)
    age = whole_years_between(clients["birth_date"][owners], issued)
    junior_min, junior_max = cal.JUNIOR_CARD_AGE
    n_junior = scaled_count(cal.CARD_TYPES["junior"], scale)
    adult_types = np.repeat(["classic", "gold"], [scaled_count(cal.CARD_TYPES[t], scale) for t in ("classic", "gold")])
    juniors = _pick(rng, np.flatnonzero((age >= junior_min) & (age <= junior_max)), n_junior)
    adults = _pick(rng, np.flatnonzero(age > junior_max), len(adult_types))
    account_index = np.concatenate([juniors, adults])
    card_type = np.concatenate([np.full(len(juniors), "junior"), rng.permutation(adult_types)[: len(adults)]])
    order = np.lexsort((account_index, issued[account_index]))
    account_index, card_type = account_index[order], card_type[order]
    return {
        "card_id": sparse_ids(rng, "card", len(order)),
        "disp_id": dispositions["disp_id"][owners[account_index]],
        "type": card_type,
        "issued": issued[account_index],
        "account_index": account_index,
    }


def _pick(rng: np.random.Generator, candidates: np.ndarray, size: int) -> np.ndarray:
    """Up to `size` distinct candidates (fewer only when a tiny scale has too few)."""
    return rng.choice(candidates, min(size, len(candidates)), replace=False)


def _loans(rng: np.random.Generator, accounts: Columns, scale: float) -> Columns:
    """At most one loan per account; A/B (finished) vs C/D (running) follows from the dates."""
    n_accounts = len(accounts["account_id"])
    account_index = rng.choice(n_accounts, min(n_accounts, scaled_count(cal.ROW_COUNTS["loan"], scale)), replace=False)
    n = len(account_index)
    granted = _position_dates(rng, accounts["date"][account_index], cal.LOAN_MIN_DELAY_DAYS, cal.LOAN_DATE_POSITION)
    duration = from_counts(rng, cal.LOAN_DURATIONS, n)
    payments = np.round(from_quantiles(rng, cal.LOAN_PAYMENTS, n)).astype(np.int64)  # whole crowns, as real
    finished = month_index(granted) + duration <= month_index(np.array([HORIZON_END]))[0]
    status = np.where(finished, from_counts(rng, cal.LOAN_FINISHED_STATUSES, n),
                      from_counts(rng, cal.LOAN_RUNNING_STATUSES, n))
    order = np.lexsort((account_index, granted))
    return {
        "loan_id": sparse_ids(rng, "loan", n),
        "account_id": accounts["account_id"][account_index[order]],
        "date": granted[order],
        "amount": (duration * payments)[order],
        "duration": duration[order],
        "payments": payments[order] * 100,
        "status": status[order],
        "account_index": account_index[order],
    }


def _orders(rng: np.random.Generator, accounts: Columns, loans: Columns) -> Columns:
    """Standing orders: household, insurance and leasing payments, plus one per loan (UVER)."""
    n_accounts = len(accounts["account_id"])
    per_account = from_counts(rng, cal.ORDERS_PER_ACCOUNT, n_accounts)
    other_accounts = np.repeat(np.arange(n_accounts), per_account)
    symbols = from_counts(rng, cal.ORDER_SYMBOLS, len(other_accounts))
    amounts = np.zeros(len(other_accounts), dtype=np.int64)
    for symbol, model in cal.ORDER_AMOUNTS.items():
        mask = symbols == symbol
        amounts[mask] = amounts_in_cents(rng, model, int(mask.sum()))[0]
    n_loans = len(loans["loan_id"])
    account_index = np.concatenate([other_accounts, loans["account_index"]])
    loan_index = np.concatenate([np.full(len(other_accounts), -1), np.arange(n_loans)])
    n = len(account_index)
    order = np.lexsort((rng.random(n), account_index))
    account_to = rng.integers(1, PARTNER_ACCOUNT_LIMIT, n)  # written as text, like the real file
    return {
        "order_id": sparse_ids(rng, "order", n),
        "account_id": accounts["account_id"][account_index[order]],
        "bank_to": from_counts(rng, cal.BANK_CODES, n),
        "account_to": account_to,
        "amount": np.concatenate([amounts, loans["payments"]])[order],
        "k_symbol": np.concatenate([symbols, np.full(n_loans, "UVER")])[order],
        "account_index": account_index[order],
        "loan_index": loan_index[order],
    }


def birth_numbers(birth_date: np.ndarray, is_woman: np.ndarray) -> pa.Array:
    """YYMMDD with 50 added to the month for women (706213 = a woman born 1970-12-13)."""
    months = birth_date.astype("M8[M]")
    year = months.astype("M8[Y]").astype(np.int64) + 1970
    month = (months - months.astype("M8[Y]")).astype(np.int64) + 1 + 50 * is_woman
    day = (birth_date - months.astype("M8[D]")).astype(np.int64) + 1
    number = (year % 100) * 10_000 + month * 100 + day
    return pc.utf8_lpad(pa.array(number).cast(pa.string()), 6, "0")


def write_mainframe(con: duckdb.DuckDBPyConnection, out_dir: Path, bank: Bank) -> dict[str, int]:
    """The entity tables as the mainframe exports them, plus the district reference table."""
    c, a, d = bank.clients, bank.accounts, bank.dispositions
    tables = {
        "mainframe/client.asc": (pa.table({"client_id": c["client_id"], "birth_number": birth_numbers(c["birth_date"], c["is_woman"]),
                                           "district_id": c["district_id"]}),
                                 (("client_id", "int"), ("birth_number", "text"), ("district_id", "int"))),
        "mainframe/account.asc": (pa.table({k: a[k] for k in ("account_id", "district_id", "frequency", "date")}),
                                  (("account_id", "int"), ("district_id", "int"), ("frequency", "text"), ("date", "date"))),
        "mainframe/disp.asc": (pa.table({k: d[k] for k in ("disp_id", "client_id", "account_id", "type")}),
                               (("disp_id", "int"), ("client_id", "int"), ("account_id", "int"), ("type", "text"))),
        "mainframe/card.asc": (pa.table({k: bank.cards[k] for k in ("card_id", "disp_id", "type", "issued")}),
                               (("card_id", "int"), ("disp_id", "int"), ("type", "text"), ("issued", "datetime"))),
        "mainframe/loan.asc": (pa.table({k: bank.loans[k] for k in ("loan_id", "account_id", "date", "amount", "duration", "payments", "status")}),
                               (("loan_id", "int"), ("account_id", "int"), ("date", "date"), ("amount", "int"),
                                ("duration", "int"), ("payments", "money"), ("status", "text"))),
        "mainframe/order.asc": (pa.table({k: bank.orders[k] for k in ("order_id", "account_id", "bank_to", "account_to", "amount", "k_symbol")}),
                                (("order_id", "int"), ("account_id", "int"), ("bank_to", "text"), ("account_to", "text"),
                                 ("amount", "money"), ("k_symbol", "text"))),
    }
    files = {name: write_berka(con, out_dir / name, table, columns) for name, (table, columns) in tables.items()}
    files["reference/district.asc"] = write_district(out_dir / "reference/district.asc", cal.DISTRICTS)
    return files
