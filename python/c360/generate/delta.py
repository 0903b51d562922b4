"""`c360 generate --delta-days N`: the next N days of an existing drop, as new files only.

The state of the bank is read back from the files already in the folder (nothing else is
kept between runs): the last booking day, every account's balance after its last
transaction, the largest keys, the CRM's latest record per client and the web visitors.
Where a record was delivered more than once, the later file wins; the file names below
sort in delivery order, so "later" is simply the larger path, as landing's tie-break has it.

For each new day d (L = the last booking day before the delta, W = its last two days):

    mainframe/trans_<d>_delta.asc          that day's transactions as the day's feed
                                           delivered them (a few records missed: see W)
    mainframe/{account,client,disp,card}_<d>_delta.asc
                                           accounts opened that day (owner, sometimes a
                                           disponent), cards issued that day
    crm/crm_<d>_delta.json                 CRM updates of existing clients (changed marital
                                           status, occupation, home ownership) and the
                                           records of that day's new clients
    ga/ga_sessions_<d>.json                that day's web sessions

and once per delta, the nightly job's re-delivery of W (the delta's last two days; with
one new day, that is L and the new day):

    mainframe/trans_<last day>_redelivery.asc
                                           every record of W again: the records the day
                                           feed missed, a few corrected ones (same trans_id,
                                           changed amount) and, for the accounts they
                                           touch, every later balance of W recomputed
    ga/ga_sessions_<last day>_redelivery.json
                                           the sessions of W again, unchanged

Transactions continue each account's balance: cash deposits and withdrawals at the
calibrated rates, card withdrawals by card holders, the salaries, pensions and standing
orders the account paid on the same day of the previous month, and at month end interest
and the statement fee; a withdrawal never overdraws the account (it is cut, as in the
base drop). A delta never rewrites a file: it refuses to start when a name it would write
exists (the benchmark hard-links the base files into its delta folder).
"""
from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from c360.generate import calibration as cal
from c360.generate.bank import birth_numbers
from c360.generate.crm import ATTRIBUTES, CHANGE_SHARES, WORKDAY, _different
from c360.generate.formats import select_lines, write_berka, write_lines
from c360.generate.ga import (
    ANONYMOUS_SESSIONS_PER_VISITOR, CLIENT_SESSION_SHARE, HOUR_WEIGHTS, LOCATIONS, Visitors, _rank_within,
    write_ga_sessions,
)
from c360.generate.sampling import (
    amounts_in_cents, from_counts, from_quantiles, indices_from_counts, sparse_ids, years_to_days,
)
from c360.generate.transactions import TRANS_COLUMNS

REDELIVERED_DAYS = 2          # the nightly job re-delivers the last two days
MISSED_SHARE = 0.01           # records of those days the day feed missed (at least one)
CORRECTION_SHARE = 0.01       # cash records of those days corrected on re-delivery (at least one)
CRM_DAILY_UPDATE_SHARE = 0.002  # known clients whose CRM record changes on a given day
CRM_COVERAGE = 0.9            # new clients the CRM knows
DISPONENT_SHARE = (cal.ROW_COUNTS["disp"] - cal.ROW_COUNTS["account"]) / cal.ROW_COUNTS["account"]
RATE_WINDOW_DAYS = 365        # account openings and card issues per day: over the last year
GA_RATE_WINDOW_DAYS = 28      # sessions per day: over the last four weeks
RECURRING_OPERATIONS = ("PREVOD Z UCTU", "PREVOD NA UCET")  # incomes and standing orders
CASH_OPERATIONS = ("VKLAD", "VYBER")
# Ranks of one account's rows within a day: opening deposit, the day's items, month end.
RANK_OPENING, RANK_REGULAR, RANK_INTEREST, RANK_FEE = range(4)
DAYS_PER_MONTH = 365.25 / 12


class DeltaError(RuntimeError):
    """The folder holds no drop to continue, or a delta would overwrite a delivered file."""


@dataclass(frozen=True)
class DeltaSummary:
    out_dir: Path
    first_day: date
    last_day: date
    files: dict[str, int]  # path relative to out_dir -> rows written
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def describe(self) -> str:
        days = (self.last_day - self.first_day).days + 1
        lines = [f"Generated a {days}-day delta ({self.first_day} .. {self.last_day}) into {self.out_dir}"
                 f" in {self.seconds:.1f} s: {len(self.files)} new files, {sum(self.files.values()):,} rows"]
        lines += [f"  {name:<44}{rows:>10,} rows" for name, rows in sorted(self.files.items())]
        lines += [f"  {what}: {n:,}" for what, n in self.counts.items()]
        return "\n".join(lines)


def generate_delta(out_dir: Path, days: int, seed: int = 42) -> DeltaSummary:
    """Write the next `days` days of the drop in `out_dir` (see the module docstring)."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    con = duckdb.connect()
    try:
        state = _read_state(con, out_dir)
        # One stream per delta: the same folder and seed give the same files; the next delta
        # (a later last day) draws other values.
        rng = np.random.default_rng(np.random.SeedSequence([seed, state.last_day.toordinal()]))
        plan = _Plan(state, days)
        plan.refuse_to_overwrite(out_dir)
        try:
            files, counts = _write_delta(con, out_dir, state, plan, rng)
        except BaseException:
            plan.remove_written(out_dir)  # all or nothing: every name it may write was new
            raise
    finally:
        con.close()
    return DeltaSummary(out_dir, plan.days[0], plan.days[-1], files, counts, time.perf_counter() - started)


# --- the state of the drop ------------------------------------------------------------------

@dataclass
class _State:
    last_day: date
    accounts: dict[str, np.ndarray]      # account_id, district_id, frequency, opened
    clients: dict[str, np.ndarray]       # client_id, birth_date
    dispositions: dict[str, np.ndarray]  # disp_id, client_id, account_id, is_owner
    cards: dict[str, np.ndarray]         # card_id, disp_id, issued, account_id
    balance: dict[int, int]              # account_id -> cents after its last transaction
    recent: dict[str, np.ndarray]        # latest versions of the last ~two months' rows
    max_ids: dict[str, int]
    crm: dict[str, np.ndarray]           # latest CRM record per client
    visitors: dict[str, np.ndarray]      # client visitors: id, visit count, device, location
    sessions_per_day: float


def _berka(out_dir: Path, pattern: str) -> str:
    """A DuckDB relation over every delivered file of one table: text as delivered (`""`
    stays '' and an empty field null), with the file it came from."""
    path = (out_dir / "mainframe" / pattern).as_posix().replace("'", "''")
    return (f"read_csv('{path}', delim=';', header=true, quote='\"', escape='\"', all_varchar=true,"
            " allow_quoted_nulls=false, filename=true)")


def _yymmdd(column: str) -> str:
    """YYMMDD text -> date, years below 50 in the 2000s (the project's century pivot)."""
    yy = f"cast(substr({column}, 1, 2) as int)"
    return (f"make_date(if({yy} < 50, 2000, 1900) + {yy}, cast(substr({column}, 3, 2) as int),"
            f" cast(substr({column}, 5, 2) as int))")


def _latest(relation: str, key: str) -> str:
    return f"select * from {relation} qualify row_number() over (partition by {key} order by filename desc) = 1"


def _read_state(con: duckdb.DuckDBPyConnection, out_dir: Path) -> _State:
    if not list((out_dir / "mainframe").glob("trans*.asc")):
        raise DeltaError(f"{out_dir} holds no mainframe/trans*.asc: generate a drop first"
                         " (`c360 generate --scale S --out DIR`), then a delta on top of it")
    con.execute(f"""
        create temp table trans as
        select cast(trans_id as bigint) as trans_id, cast(account_id as bigint) as account_id,
               {_yymmdd('date')} as day, type, operation,
               cast(round(cast(amount as decimal(18, 2)) * 100) as bigint) as amount,
               cast(round(cast(balance as decimal(18, 2)) * 100) as bigint) as balance,
               k_symbol, bank, account
        from ({_latest(_berka(out_dir, 'trans*.asc'), 'trans_id')})""")
    last_day = con.execute("select max(day) from trans").fetchone()[0]
    balance = dict(con.execute("select account_id, arg_max(balance, (day, trans_id)) from trans group by 1").fetchall())
    recent = _columns(con.execute(
        "select * from trans where day > ? order by day, account_id, trans_id",
        [last_day - timedelta(days=2 * 31)]).to_arrow_table())

    accounts = _columns(con.execute(f"""
        select cast(account_id as bigint) as account_id, cast(district_id as bigint) as district_id, frequency,
               {_yymmdd('date')} as opened
        from ({_latest(_berka(out_dir, 'account*.asc'), 'account_id')}) order by account_id""").to_arrow_table())
    clients = _columns(con.execute(f"""
        select cast(client_id as bigint) as client_id,
               make_date(1900 + cast(substr(birth_number, 1, 2) as int),
                         cast(substr(birth_number, 3, 2) as int) % 50, cast(substr(birth_number, 5, 2) as int))
                   as birth_date
        from ({_latest(_berka(out_dir, 'client*.asc'), 'client_id')}) order by client_id""").to_arrow_table())
    dispositions = _columns(con.execute(f"""
        select cast(disp_id as bigint) as disp_id, cast(client_id as bigint) as client_id,
               cast(account_id as bigint) as account_id, type = 'OWNER' as is_owner
        from ({_latest(_berka(out_dir, 'disp*.asc'), 'disp_id')}) order by disp_id""").to_arrow_table())
    con.register("dispositions", pa.table(dispositions))
    cards = _columns(con.execute(f"""
        select cast(card_id as bigint) as card_id, cast(c.disp_id as bigint) as disp_id,
               {_yymmdd('issued')} as issued, d.account_id
        from ({_latest(_berka(out_dir, 'card*.asc'), 'card_id')}) c
        join dispositions d on cast(c.disp_id as bigint) = d.disp_id order by card_id""").to_arrow_table())
    max_ids = {
        "trans": con.execute("select max(trans_id) from trans").fetchone()[0],
        "account": int(accounts["account_id"].max()), "client": int(clients["client_id"].max()),
        "disp": int(dispositions["disp_id"].max()), "card": int(cards["card_id"].max()) if len(cards["card_id"]) else 0,
    }
    con.execute("drop table trans")
    sessions_per_day, visitors = _read_web(con, out_dir, last_day)
    return _State(last_day, accounts, clients, dispositions, cards, balance, recent, max_ids,
                  _read_crm(con, out_dir), visitors, sessions_per_day)


def _columns(table: pa.Table) -> dict[str, np.ndarray]:
    return {name: np.array(table[name].to_numpy(zero_copy_only=False)) for name in table.column_names}


CRM_COLUMNS = ("client_id", "birth_date", "age", "home_ownership", "occupation", "marital_status",
               "head_of_household_flag", "client_created_date", "updated_at")


def _read_crm(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict[str, np.ndarray]:
    files = sorted((out_dir / "crm").glob("*.json"))
    if not files:
        return {name: np.array([], dtype=object) for name in CRM_COLUMNS}
    columns = {name: "VARCHAR" for name in CRM_COLUMNS}
    relation = con.read_json([str(p) for p in files], format="newline_delimited", columns=columns)
    con.register("crm_records", relation)
    return _columns(con.execute("""
        select * exclude (client_id), cast(client_id as bigint) as client_id from crm_records
        qualify row_number() over (partition by client_id order by updated_at desc) = 1
        order by client_id""").to_arrow_table())


def _read_web(con: duckdb.DuckDBPyConnection, out_dir: Path, last_day: date) -> tuple[float, dict[str, np.ndarray]]:
    """Sessions per day lately, and every mapped (client) visitor with its visit count, device
    and location (a visitor keeps one device and location, as in the base drop)."""
    files = sorted((out_dir / "ga").glob("ga_sessions_*.json"))
    mapped = sorted({line.split(",")[0].strip() for path in (out_dir / "web").glob("visitor_map*.csv")
                     for line in path.read_text().splitlines() if line.strip() and line[0].isdigit()})
    empty = {"full_visitor_id": np.array(mapped, dtype=object), "visits": np.zeros(len(mapped), np.int64),
             "device": np.full(len(mapped), -1), "location": np.full(len(mapped), -1)}
    if not files:
        return 0.0, empty
    columns = {"fullVisitorId": "VARCHAR", "visitNumber": "BIGINT", "visitId": "BIGINT", "date": "VARCHAR",
               "device": "STRUCT(deviceCategory VARCHAR, isMobile BOOLEAN, operatingSystem VARCHAR, browser VARCHAR)",
               "geoNetwork": "STRUCT(country VARCHAR, region VARCHAR, city VARCHAR)"}
    con.register("ga_sessions", con.read_json([str(p) for p in files], format="newline_delimited", columns=columns))
    since = (last_day - timedelta(days=GA_RATE_WINDOW_DAYS - 1)).strftime("%Y%m%d")
    n_recent = con.execute("select count(distinct (fullVisitorId, visitId, date)) from ga_sessions where date >= ?",
                           [since]).fetchone()[0]
    con.register("mapped", pa.table({"full_visitor_id": pa.array(mapped, pa.string())}))
    seen = _columns(con.execute("""
        select m.full_visitor_id, coalesce(max(s.visitNumber), 0) as visits,
               any_value(s.device.deviceCategory) as category, any_value(s.device.isMobile) as is_mobile,
               any_value(s.device.operatingSystem) as os, any_value(s.device.browser) as browser,
               any_value(s.geoNetwork.country) as country, any_value(s.geoNetwork.region) as region,
               any_value(s.geoNetwork.city) as city
        from mapped m left join ga_sessions s on s.fullVisitorId = m.full_visitor_id
        group by 1 order by 1""").to_arrow_table())
    devices = {d[:4]: i for i, d in enumerate(cal.GA_DEVICES)}
    locations = {(g[2], g[3], g[5]): i for i, g in enumerate(LOCATIONS)}
    visitors = {
        "full_visitor_id": seen["full_visitor_id"], "visits": seen["visits"].astype(np.int64),
        "device": np.array([devices.get(k, -1) for k in zip(seen["category"], seen["is_mobile"], seen["os"],
                                                             seen["browser"])], dtype=np.int64),
        "location": np.array([locations.get(k, -1) for k in zip(seen["country"], seen["region"], seen["city"])],
                             dtype=np.int64),
    }
    return n_recent / GA_RATE_WINDOW_DAYS, visitors


# --- what the delta writes --------------------------------------------------------------------

class _Plan:
    """The new days, the re-delivered window and every file name the delta may write."""

    def __init__(self, state: _State, n_days: int):
        self.days = [state.last_day + timedelta(days=i) for i in range(1, n_days + 1)]
        self.window = [self.days[-1] - timedelta(days=i) for i in range(REDELIVERED_DAYS - 1, -1, -1)]
        stamp = self.days[-1].strftime("%Y%m%d")
        self.trans_redelivery = f"mainframe/trans_{stamp}_redelivery.asc"
        self.ga_redelivery = f"ga/ga_sessions_{stamp}_redelivery.json"

    @staticmethod
    def day_file(kind: str, day: date) -> str:
        stamp = day.strftime("%Y%m%d")
        if kind == "ga":
            return f"ga/ga_sessions_{stamp}.json"
        if kind == "crm":
            return f"crm/crm_{stamp}_delta.json"
        return f"mainframe/{kind}_{stamp}_delta.asc"

    def names(self) -> list[str]:
        per_day = [self.day_file(kind, d) for d in self.days for kind in ("trans", "account", "client", "disp", "card",
                                                                        "crm", "ga")]
        return per_day + [self.trans_redelivery, self.ga_redelivery]

    def remove_written(self, out_dir: Path) -> None:
        for name in self.names():
            (out_dir / name).unlink(missing_ok=True)

    def refuse_to_overwrite(self, out_dir: Path) -> None:
        existing = [name for name in self.names() if (out_dir / name).exists()]
        if existing:
            raise DeltaError(f"{out_dir} already holds {', '.join(existing[:3])}: a delta adds files and never"
                             " rewrites one (was this delta generated already?)")


def _write_delta(con, out_dir: Path, state: _State, plan: _Plan, rng: np.random.Generator):
    files: dict[str, int] = {}
    counts = {"accounts opened": 0, "cards issued": 0, "CRM updates": 0, "records missed by the day feed": 0,
              "records corrected on re-delivery": 0}
    bank = _Bank(state)
    rates = bank.daily_rates(state.last_day)
    window_rows = [_subset(state.recent, np.isin(state.recent["day"], np.array(plan.window, dtype="M8[D]")))]
    for day in plan.days:
        opened = bank.open_accounts(rng, day, rates["accounts"])
        cards = bank.issue_cards(rng, day, rates["cards"])
        counts["accounts opened"] += len(opened["account_id"])
        counts["cards issued"] += len(cards["card_id"])
        files |= _write_entities(con, out_dir, plan, day, opened, cards)
        rows = bank.day_rows(rng, day, opened)
        rows["trans_id"] = sparse_ids(rng, "trans", len(rows["account_id"]), after=bank.max_ids["trans"])
        bank.max_ids["trans"] = int(rows["trans_id"][-1]) if len(rows["trans_id"]) else bank.max_ids["trans"]
        bank.book(rows)
        delivered = np.ones(len(rows["trans_id"]), bool)
        if day in plan.window:
            window_rows.append(rows)
            delivered = _feed_misses(rng, len(delivered))
            counts["records missed by the day feed"] += int((~delivered).sum())
        files[plan.day_file("trans", day)] = _write_trans(con, out_dir / plan.day_file("trans", day),
                                                          _subset(rows, delivered))
        updates, new_records = _crm_records(rng, state, bank, day, opened)
        counts["CRM updates"] += len(updates["client_id"])
        files |= _write_crm(con, out_dir, plan.day_file("crm", day), updates, new_records, day)
    files |= _write_ga_days(con, out_dir, state, plan, rng)
    redelivered = _concat(window_rows)
    corrected = _correct(rng, redelivered)
    counts["records corrected on re-delivery"] = int(corrected.sum())
    files[plan.trans_redelivery] = _write_trans(con, out_dir / plan.trans_redelivery, redelivered)
    files |= _redeliver_ga(out_dir, plan)
    return files, counts


def _subset(rows: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in rows.items()}


def _concat(pieces: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    pieces = [p for p in pieces if len(next(iter(p.values())))] or pieces[:1]
    return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}


def _feed_misses(rng: np.random.Generator, n: int) -> np.ndarray:
    """Which of a re-delivered day's records its day feed delivered (a share, at least one, missed)."""
    delivered = rng.random(n) >= MISSED_SHARE
    if n and delivered.all():
        delivered[rng.integers(n)] = False
    return delivered


# --- the bank going on ---------------------------------------------------------------------------

class _Bank:
    """Accounts, owners and card holders as of a day, and each account's running balance."""

    def __init__(self, state: _State):
        self.state = state
        self.accounts = {k: v.copy() for k, v in state.accounts.items()}
        self.card_accounts = {int(a): d for a, d in zip(state.cards["account_id"], state.cards["issued"])}
        self.balance = dict(state.balance)
        self.max_ids = dict(state.max_ids)
        self.history = state.recent
        self.new_clients: list[dict[str, np.ndarray]] = []
        owners = state.dispositions["is_owner"]
        self.owner_of = dict(zip(state.dispositions["account_id"][owners].tolist(),
                                 state.dispositions["client_id"][owners].tolist()))
        self.owner_disp = dict(zip(state.dispositions["account_id"][owners].tolist(),
                                   state.dispositions["disp_id"][owners].tolist()))
        self.birth = dict(zip(state.clients["client_id"].tolist(), state.clients["birth_date"].tolist()))

    def daily_rates(self, last_day: date) -> dict[str, float]:
        since = np.datetime64(last_day - timedelta(days=RATE_WINDOW_DAYS))
        return {"accounts": float((self.accounts["opened"] > since).sum()) / RATE_WINDOW_DAYS,
                "cards": float((self.state.cards["issued"] > since).sum()) / RATE_WINDOW_DAYS}

    # entities

    def open_accounts(self, rng: np.random.Generator, day: date, rate: float) -> dict[str, np.ndarray]:
        """Accounts opened on `day`, each with a new owner (some with a disponent spouse).
        The first day of a delta opens at least one, so a tiny bank's delta has one too."""
        n = int(rng.poisson(rate)) or int(day == self.state.last_day + timedelta(days=1))
        account_id = sparse_ids(rng, "account", n, after=self.max_ids["account"])
        self.max_ids["account"] = int(account_id[-1]) if n else self.max_ids["account"]
        # districts as the drop's accounts have them (its reference table may be a subset)
        district = self._districts(rng, n)
        frequency = from_counts(rng, cal.ACCOUNT_FREQUENCIES, n)
        opened = np.full(n, np.datetime64(day, "D"))
        owner_birth = np.maximum(opened - years_to_days(from_quantiles(rng, cal.OWNER_AGE_AT_OPEN, n)),
                                 np.datetime64("1900-01-01"))
        owner_woman = rng.random(n) < cal.OWNER_WOMAN_SHARE
        shared = rng.random(n) < DISPONENT_SHARE
        spouse_birth = owner_birth[shared] + years_to_days(from_quantiles(rng, cal.DISPONENT_AGE_GAP, int(shared.sum())))
        account_of_client = np.concatenate([np.arange(n), np.flatnonzero(shared)])
        order = np.argsort(account_of_client, kind="stable")  # per account: owner, then disponent
        is_owner = np.concatenate([np.ones(n, bool), np.zeros(int(shared.sum()), bool)])[order]
        account_of_client = account_of_client[order]
        m = len(order)
        client_id = sparse_ids(rng, "client", m, after=self.max_ids["client"])
        disp_id = sparse_ids(rng, "disp", m, after=self.max_ids["disp"])
        if m:
            self.max_ids["client"], self.max_ids["disp"] = int(client_id[-1]), int(disp_id[-1])
        birth = np.concatenate([owner_birth, spouse_birth])[order]
        woman = np.concatenate([owner_woman, ~owner_woman[shared]])[order]
        home = district[account_of_client]
        client_district = np.where(rng.random(m) < cal.CLIENT_HOME_DISTRICT_SHARE, home, self._districts(rng, m))
        for k, v in (("account_id", account_id), ("district_id", district), ("frequency", frequency),
                     ("opened", opened)):
            self.accounts[k] = np.concatenate([self.accounts[k], v])
        for a, c, d, owner in zip(account_id[account_of_client].tolist(), client_id.tolist(), disp_id.tolist(),
                                  is_owner.tolist()):
            if owner:
                self.owner_of[a], self.owner_disp[a] = c, d
        self.birth |= dict(zip(client_id.tolist(), birth.astype("M8[D]").astype(object).tolist()))
        self.balance |= {int(a): 0 for a in account_id}
        return {"account_id": account_id, "district_id": district, "frequency": frequency, "opened": opened,
                "client_id": client_id, "disp_id": disp_id, "birth_date": birth, "is_woman": woman,
                "client_district_id": client_district, "client_account_id": account_id[account_of_client],
                "is_owner": is_owner}

    def _districts(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(self.state.accounts["district_id"], n).astype(np.int64)

    def issue_cards(self, rng: np.random.Generator, day: date, rate: float) -> dict[str, np.ndarray]:
        """Cards issued on `day` to owners without one whose account is old enough (the real
        minimum delay); juniors to holders aged 12-20, else classic or gold. At least one on
        the delta's first day when anyone qualifies."""
        today = np.datetime64(day, "D")
        eligible = self.accounts["account_id"][
            self.accounts["opened"] <= today - np.timedelta64(cal.CARD_MIN_DELAY_DAYS, "D")]
        eligible = np.array([a for a in eligible.tolist() if a not in self.card_accounts and a in self.owner_of],
                            dtype=np.int64)
        n = min(len(eligible), int(rng.poisson(rate)) or int(day == self.state.last_day + timedelta(days=1)))
        account = np.sort(rng.choice(eligible, n, replace=False)) if n else np.zeros(0, np.int64)
        card_id = sparse_ids(rng, "card", n, after=self.max_ids["card"])
        self.max_ids["card"] = int(card_id[-1]) if n else self.max_ids["card"]
        ages = np.array([_age(self.birth[self.owner_of[a]], day) for a in account.tolist()], dtype=np.int64)
        junior_min, junior_max = cal.JUNIOR_CARD_AGE
        adult = from_counts(rng, {t: cal.CARD_TYPES[t] for t in ("classic", "gold")}, n)
        card_type = np.where((ages >= junior_min) & (ages <= junior_max), "junior", adult)
        self.card_accounts |= {int(a): today for a in account}
        return {"card_id": card_id, "disp_id": np.array([self.owner_disp[a] for a in account.tolist()], np.int64),
                "type": card_type, "issued": np.full(n, today), "account_id": account}

    # transactions

    def day_rows(self, rng: np.random.Generator, day: date, opened: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every transaction of `day` in (account, rank) order with its balance."""
        today = np.datetime64(day, "D")
        active = self.accounts["account_id"][self.accounts["opened"] < today]
        pieces = [_kind_rows(rng, "opening_deposit", opened["account_id"], today, RANK_OPENING)]
        n_days = calendar.monthrange(day.year, day.month)[1]
        for kind in cal.POISSON_KINDS:
            rate = cal.TRANS_KINDS[kind]["per_account_month"] * cal.VOLUME_FACTOR / DAYS_PER_MONTH
            pieces.append(_kind_rows(rng, kind, np.repeat(active, rng.poisson(rate, len(active))), today))
        holders = np.array([a for a, issued in self.card_accounts.items() if issued < today], dtype=np.int64)
        per_day = cal.CARD_WITHDRAWALS_PER_MONTH / DAYS_PER_MONTH
        pieces.append(_kind_rows(rng, "card_withdrawal", np.repeat(holders, rng.poisson(per_day, len(holders))), today))
        pieces.append(self._recurring(day))
        rows = _concat(pieces)
        order = np.lexsort((rng.random(len(rows["account_id"])), rows["rank"], rows["account_id"]))
        rows = self._without_overdrafts(_subset(rows, order))
        if day.day == n_days:
            rows = _concat([rows, self._month_end(rng, rows, active, today)])
            rows = _subset(rows, np.lexsort((rows["rank"], rows["account_id"])))
        rows["day"] = np.full(len(rows["account_id"]), today)
        return rows

    def _recurring(self, day: date) -> dict[str, np.ndarray]:
        """Incomes and standing orders the account had on this day of the previous month."""
        if day.day > 28:  # they keep a fixed day, at most the 28th (as in the base drop)
            return _kind_rows(None, "salary", np.zeros(0, np.int64), np.datetime64(day, "D"))  # none
        month_ago = np.datetime64((day.replace(day=1) - timedelta(days=1)).replace(day=day.day), "D")
        h = self.history
        mask = (h["day"] == month_ago) & np.isin(h["operation"], RECURRING_OPERATIONS)
        n = int(mask.sum())
        return {"account_id": h["account_id"][mask], "day": np.full(n, np.datetime64(day, "D")),
                "rank": np.full(n, RANK_REGULAR), "type": h["type"][mask], "operation": h["operation"][mask],
                "amount": h["amount"][mask], "k_symbol": h["k_symbol"][mask], "bank": h["bank"][mask],
                "account": h["account"][mask], "unit": np.ones(n, np.int64), "discretionary": np.zeros(n, bool)}

    def _without_overdrafts(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Cut cash and card withdrawals to what the account holds (orders may overdraw)."""
        amount = rows["amount"].copy()
        credit = rows["type"] == "PRIJEM"
        balance = dict(self.balance)
        for i, account in enumerate(rows["account_id"].tolist()):
            held = balance.get(account, 0)
            if rows["discretionary"][i] and amount[i] > held:
                unit = int(rows["unit"][i])
                amount[i] = max(held, 0) // unit * unit
            balance[account] = held + (amount[i] if credit[i] else -amount[i])
        return _subset(rows | {"amount": amount}, amount > 0)

    def _month_end(self, rng, rows, active, today) -> dict[str, np.ndarray]:
        closing = dict(self.balance)
        signed = np.where(rows["type"] == "PRIJEM", rows["amount"], -rows["amount"])
        for account, change in zip(rows["account_id"].tolist(), signed.tolist()):
            closing[account] = closing.get(account, 0) + change
        held = np.array([closing.get(a, 0) for a in active.tolist()], dtype=np.int64)
        interest = np.round(np.maximum(held, 0) * cal.INTEREST_MONTHLY_RATE).astype(np.int64)
        paid = interest > 0
        charged = rng.random(len(active)) < cal.TRANS_KINDS["statement_fee"]["per_account_month"]
        frequency = dict(zip(self.accounts["account_id"].tolist(), self.accounts["frequency"].tolist()))
        fee = np.array([round(cal.STATEMENT_FEES[frequency[a]] * 100) for a in active[charged].tolist()], np.int64)
        return _concat([
            _kind_rows(None, "interest", active[paid], today, RANK_INTEREST, interest[paid]),
            _kind_rows(None, "statement_fee", active[charged], today, RANK_FEE, fee),
        ])

    def book(self, rows: dict[str, np.ndarray]) -> None:
        """Give the rows (account, rank order) their balances and advance the accounts."""
        balance = np.empty(len(rows["account_id"]), np.int64)
        for i, (account, kind, amount) in enumerate(zip(rows["account_id"].tolist(), rows["type"].tolist(),
                                                        rows["amount"].tolist())):
            self.balance[account] = self.balance.get(account, 0) + (amount if kind == "PRIJEM" else -amount)
            balance[i] = self.balance[account]
        rows["balance"] = balance
        keep = {k: v for k, v in rows.items() if k in ("trans_id", "account_id", "day", "type", "operation", "amount",
                                                         "balance", "k_symbol", "bank", "account")}
        self.history = _concat([{k: self.history[k] for k in keep}, keep])


def _kind_rows(rng, kind: str, account: np.ndarray, day: np.datetime64, rank: int = RANK_REGULAR,
               amount: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Rows of one calibrated kind, codes as the kind writes them (see transactions.py)."""
    codes = cal.TRANS_KINDS[kind]
    n = len(account)
    if amount is None:
        amount, unit = amounts_in_cents(rng, codes["amount"], n) if n else (np.zeros(0, np.int64),) * 2
    else:
        unit = np.ones(n, np.int64)
    blank = codes["bank_form"] == "blank"   # bank "" and partner account "0"
    discretionary = codes["type"] != "PRIJEM" and (kind in cal.POISSON_KINDS or kind == "card_withdrawal")
    return {"account_id": account.astype(np.int64), "day": np.full(n, day), "rank": np.full(n, rank),
            "type": np.full(n, codes["type"], dtype=object), "operation": np.full(n, codes["operation"], dtype=object),
            "amount": np.asarray(amount, np.int64), "k_symbol": np.full(n, codes["k_symbol"], dtype=object),
            "bank": np.full(n, "" if blank else None, dtype=object),
            "account": np.full(n, "0" if blank else None, dtype=object),
            "unit": np.asarray(unit, np.int64), "discretionary": np.full(n, discretionary)}


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _correct(rng: np.random.Generator, rows: dict[str, np.ndarray]) -> np.ndarray:
    """Correct a share (at least one) of the re-delivered cash records in place: the amount
    changes by 10-50% (whole crowns), and every later balance of the account in the window
    follows. Returns which rows were corrected."""
    n = len(rows["account_id"])
    order = np.lexsort((rows["trans_id"], rows["day"], rows["account_id"]))
    for k in rows:
        rows[k] = rows[k][order]
    cash = np.flatnonzero(np.isin(rows["operation"], CASH_OPERATIONS))
    picked = cash[rng.random(len(cash)) < CORRECTION_SHARE]
    if len(cash) and not len(picked):
        picked = cash[[rng.integers(len(cash))]]
    corrected = np.zeros(n, bool)
    signed_before = np.where(rows["type"] == "PRIJEM", rows["amount"], -rows["amount"])
    for i in picked.tolist():
        factor = rng.uniform(0.5, 0.9) if rng.random() < 0.5 else rng.uniform(1.1, 1.5)
        new = max(100, int(round(rows["amount"][i] * factor / 100)) * 100)
        if new != rows["amount"][i]:
            rows["amount"][i] = new
            corrected[i] = True
    signed = np.where(rows["type"] == "PRIJEM", rows["amount"], -rows["amount"])
    first = np.r_[True, rows["account_id"][1:] != rows["account_id"][:-1]] if n else np.zeros(0, bool)
    start = np.flatnonzero(first)
    opening = np.repeat(rows["balance"][start] - signed_before[start], np.diff(np.r_[start, n]))
    running = np.cumsum(signed)
    before = np.repeat(running[start] - signed[start], np.diff(np.r_[start, n]))
    rows["balance"] = opening + running - before
    return corrected


# --- writers --------------------------------------------------------------------------------------

def _write_trans(con, path: Path, rows: dict[str, np.ndarray]) -> int:
    order = np.lexsort((rows["trans_id"], rows["day"]))
    table = pa.table({
        "trans_id": rows["trans_id"][order], "account_id": rows["account_id"][order],
        "date": rows["day"][order].astype("M8[D]"),
        **{k: pa.array(rows[k][order].tolist(), pa.string()) for k in ("type", "operation")},
        "amount": rows["amount"][order], "balance": rows["balance"][order],
        **{k: pa.array(rows[k][order].tolist(), pa.string()) for k in ("k_symbol", "bank", "account")},
    })
    return write_berka(con, path, table, TRANS_COLUMNS)


def _write_entities(con, out_dir: Path, plan: _Plan, day: date, opened, cards) -> dict[str, int]:
    files = {}
    if len(opened["account_id"]):
        tables = {
            "account": (pa.table({"account_id": opened["account_id"], "district_id": opened["district_id"],
                                  "frequency": opened["frequency"], "date": opened["opened"]}),
                        (("account_id", "int"), ("district_id", "int"), ("frequency", "text"), ("date", "date"))),
            "client": (pa.table({"client_id": opened["client_id"],
                                 "birth_number": birth_numbers(opened["birth_date"], opened["is_woman"]),
                                 "district_id": opened["client_district_id"]}),
                       (("client_id", "int"), ("birth_number", "text"), ("district_id", "int"))),
            "disp": (pa.table({"disp_id": opened["disp_id"], "client_id": opened["client_id"],
                               "account_id": opened["client_account_id"],
                               "type": np.where(opened["is_owner"], "OWNER", "DISPONENT")}),
                     (("disp_id", "int"), ("client_id", "int"), ("account_id", "int"), ("type", "text"))),
        }
        for kind, (table, columns) in tables.items():
            name = plan.day_file(kind, day)
            files[name] = write_berka(con, out_dir / name, table, columns)
    if len(cards["card_id"]):
        name = plan.day_file("card", day)
        files[name] = write_berka(con, out_dir / name, pa.table({k: cards[k] for k in ("card_id", "disp_id", "type",
                                                                                       "issued")}),
                                  (("card_id", "int"), ("disp_id", "int"), ("type", "text"), ("issued", "datetime")))
    return files


def _crm_records(rng, state: _State, bank: _Bank, day: date, opened) -> tuple[dict, dict]:
    """CRM updates of known clients on `day` (at least one on the delta's first day) and the
    records of the clients who opened an account that day."""
    crm = state.crm
    n_known = len(crm["client_id"])
    n_updates = min(n_known, int(rng.poisson(n_known * CRM_DAILY_UPDATE_SHARE))
                    or int(day == state.last_day + timedelta(days=1)))
    picked = np.sort(rng.choice(n_known, n_updates, replace=False)) if n_updates else np.zeros(0, np.int64)
    updates = {k: v[picked].copy() for k, v in crm.items()}
    changes = {name: rng.random(n_updates) < share for name, share in CHANGE_SHARES.items()}
    changes["marital_status"] |= ~np.any(list(changes.values()), axis=0) if n_updates else False
    for name, change in changes.items():
        if change.any():
            updates[name][change] = _different(rng, updates[name][change], ATTRIBUTES[name])
    start = np.datetime64(day, "us")
    updates["updated_at"] = _in_working_hours(rng, start, n_updates)
    for k in updates:      # the states of these clients for a later day of the same delta
        crm[k][picked] = updates[k]
    known = rng.random(len(opened["client_id"])) < CRM_COVERAGE
    n_new = int(known.sum())
    created = _in_working_hours(rng, start, n_new)
    new_records = {
        "client_id": opened["client_id"][known], "birth_date": opened["birth_date"][known],
        **{name: from_counts(rng, counts, n_new) for name, counts in ATTRIBUTES.items()},
        "client_created_date": created,
        "updated_at": created + (rng.random(n_new) * 3_600_000_000).astype("m8[us]"),
    }
    return updates, new_records


def _in_working_hours(rng, day_start: np.datetime64, n: int) -> np.ndarray:
    low, high = (day_start + WORKDAY[0]).astype("M8[us]"), (day_start + WORKDAY[1]).astype("M8[us]")
    return low + (rng.random(n) * (high - low).astype(np.int64)).astype(np.int64).astype("m8[us]")


def _write_crm(con, out_dir: Path, name: str, updates: dict, new_records: dict, day: date) -> dict[str, int]:
    """One newline-delimited JSON export, like crm.py writes (age: whole years at export)."""
    n = len(updates["client_id"]) + len(new_records["client_id"])
    if not n:
        return {}
    export = np.datetime64(day, "D")
    birth = np.concatenate([updates["birth_date"].astype("M8[D]"), new_records["birth_date"].astype("M8[D]")])
    text = lambda values: pa.array([None if v is None else str(v) for v in values], pa.string())  # noqa: E731
    table = pa.table({
        "client_id": np.concatenate([updates["client_id"], new_records["client_id"]]).astype(np.int64),
        "birth_date": birth,
        "age": ((export - birth).astype(np.int64) // 365.25).astype(np.int64),
        **{k: text(np.concatenate([updates[k], new_records[k]])) for k in ATTRIBUTES},
        "client_created_date": text(list(updates["client_created_date"]) + [
            _iso(v) for v in new_records["client_created_date"]]),
        "updated_at": text([_iso(v) for v in updates["updated_at"]] + [_iso(v) for v in new_records["updated_at"]]),
    })
    lines = select_lines(con, table, """
        select to_json(struct_pack(
            client_id := client_id, birth_date := strftime(birth_date, '%Y-%m-%d'), age := age,
            home_ownership := home_ownership, occupation := occupation, marital_status := marital_status,
            head_of_household_flag := head_of_household_flag, client_created_date := client_created_date,
            updated_at := updated_at)) || chr(10) as line
        from rows""")
    (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
    with (out_dir / name).open("xb") as handle:
        write_lines(handle, lines["line"])
    return {name: lines.num_rows}


def _iso(value: np.datetime64) -> str:
    return np.datetime_as_string(np.datetime64(value, "us"), unit="us")


# --- web sessions ---------------------------------------------------------------------------------

def _write_ga_days(con, out_dir: Path, state: _State, plan: _Plan, rng: np.random.Generator) -> dict[str, int]:
    """The new days' GA sessions: half from the mapped (client) visitors, who keep their device
    and location and count their visits on, half from new anonymous visitors."""
    days = np.array(plan.days, dtype="M8[D]")
    per_day = rng.poisson(max(state.sessions_per_day, 0.0), len(days))
    day = np.repeat(days, per_day)
    n = len(day)
    if not n:
        return {}
    second = indices_from_counts(rng, HOUR_WEIGHTS, n) * 3600 + rng.integers(0, 3600, n)
    start = (day - np.datetime64("1970-01-01")).astype(np.int64) * 86_400 + second
    order = np.argsort(start, kind="stable")
    start, day = start[order], day[order]
    known = state.visitors
    n_client = len(known["full_visitor_id"])
    from_client = (rng.random(n) < CLIENT_SESSION_SHARE) & (n_client > 0)
    n_anonymous = max(1, round((~from_client).sum() / ANONYMOUS_SESSIONS_PER_VISITOR))
    taken = {int(v) for v in known["full_visitor_id"]}
    anonymous_ids = np.array([v for v in rng.integers(0, 10**19, n_anonymous + 10, dtype=np.uint64).tolist()
                              if v not in taken][:n_anonymous], dtype=np.uint64)
    ids = np.concatenate([np.array([int(v) for v in known["full_visitor_id"]], dtype=np.uint64), anonymous_ids])
    visitor = np.where(from_client, rng.integers(0, max(n_client, 1), n),
                       n_client + rng.integers(0, len(anonymous_ids), n))
    device = np.concatenate([known["device"], np.full(len(anonymous_ids), -1)])
    location = np.concatenate([known["location"], np.full(len(anonymous_ids), -1)])
    missing = device < 0
    device[missing] = indices_from_counts(rng, [d[-1] for d in cal.GA_DEVICES], int(missing.sum()))
    missing = location < 0
    location[missing] = indices_from_counts(rng, [g[-1] for g in LOCATIONS], int(missing.sum()))
    previous = np.concatenate([known["visits"], np.zeros(len(anonymous_ids), np.int64)])
    sessions = {
        "start": start, "day": day, "visitor": visitor,
        "visit_number": previous[visitor] + _rank_within(visitor),
        "channel": indices_from_counts(rng, [c[-1] for c in cal.GA_CHANNELS], n),
        "device": device[visitor], "location": location[visitor],
        "n_hits": from_counts(rng, cal.GA_HITS_PER_SESSION, n),
        "quality": from_counts(rng, cal.GA_SESSION_QUALITY, n),
        "has_region_dimension": rng.random(n) < cal.GA_CUSTOM_DIMENSION_SHARE,
    }
    # Application ids continue after the base drop's (APP-<session number>): numbered from the day.
    first_number = int((days[0] - np.datetime64("1970-01-01")).astype(np.int64)) * 100_000
    return write_ga_sessions(con, out_dir, Visitors(ids, n_client), sessions, rng, first_session_number=first_number)


def _redeliver_ga(out_dir: Path, plan: _Plan) -> dict[str, int]:
    """The window's sessions again, byte for byte, in one file (a new checksum, so it lands)."""
    lines = b"".join((out_dir / plan.day_file("ga", d)).read_bytes() for d in plan.window
                     if (out_dir / plan.day_file("ga", d)).exists())
    if not lines:
        return {}
    with (out_dir / plan.ga_redelivery).open("xb") as handle:
        handle.write(lines)
    return {plan.ga_redelivery: lines.count(b"\n")}
