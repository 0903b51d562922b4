"""c360 generate --delta-days: the next days of a drop, as new files only, consistent with it
(balances continue, keys continue, corrections keep balances right), on a tiny bank."""
from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from c360.cli import main
from c360.generate import DeltaError, generate_dataset, generate_delta
from c360.land.sources import match_source_table

SCALE = 0.01
BASE_LAST_DAY = date(1998, 12, 31)


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _link_copy(source: Path, target: Path) -> Path:
    """The way the benchmark builds its delta folder: hard links to the base files."""
    for path in source.rglob("*"):
        if path.is_file():
            (target / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target / path.relative_to(source))
    return target


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("base")
    generate_dataset(out, SCALE, seed=7)
    return out


@pytest.fixture(scope="module")
def deltas(base: Path, tmp_path_factory: pytest.TempPathFactory):
    """The base drop plus a one-day delta and then a three-day delta (hard-linked folder)."""
    out = _link_copy(base, tmp_path_factory.mktemp("deltas") / "landing")
    before = _digests(out)
    first = generate_delta(out, 1, seed=7)
    second = generate_delta(out, 3, seed=7)
    return out, before, first, second


@pytest.fixture(scope="module")
def con(deltas) -> duckdb.DuckDBPyConnection:
    """Every delivered version (`deliveries_*`) and the latest one per key (file names sort in
    delivery order), as landing's tie-break reads them."""
    out, *_ = deltas
    con = duckdb.connect()
    for table, key in (("trans", "trans_id"), ("account", "account_id"), ("client", "client_id"),
                       ("disp", "disp_id"), ("card", "card_id")):
        con.execute(f"""create view deliveries_{table} as select * from read_csv('{out}/mainframe/{table}*.asc',
                        sep=';', header=true, all_varchar=true, allow_quoted_nulls=false, filename=true)""")
        con.execute(f"""create view "{table}" as select * from deliveries_{table}
                        qualify row_number() over (partition by {key} order by filename desc) = 1""")
    return con


def _one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_a_delta_only_adds_files_that_landing_recognises(deltas):
    out, before, first, second = deltas
    after = _digests(out)
    assert {k: after[k] for k in before} == before, "a delta rewrote a delivered file"
    new = set(after) - set(before)
    assert new == set(first.files) | set(second.files)
    assert all(match_source_table(name) is not None for name in new), new


def test_the_days_follow_the_drop(deltas):
    _, _, first, second = deltas
    assert (first.first_day, first.last_day) == (date(1999, 1, 1), date(1999, 1, 1))
    assert (second.first_day, second.last_day) == (date(1999, 1, 2), date(1999, 1, 4))
    assert "mainframe/trans_19990101_delta.asc" in first.files
    assert "ga/ga_sessions_19990104_redelivery.json" in second.files or not any(
        name.startswith("ga/") for name in second.files)


def test_balances_continue_and_stay_consistent_with_the_corrections(con):
    """Over the latest version of every record: balance = running sum of signed amounts."""
    mismatches = _one(con, """
        select count(*) from (
            select balance::decimal(18, 2) balance,
                   sum(if(type = 'PRIJEM', amount::decimal(18, 2), -amount::decimal(18, 2)))
                       over (partition by account_id order by date, trans_id::bigint) running
            from "trans") where balance != running""")
    assert mismatches == 0
    assert _one(con, 'select count(*) from "trans" where amount::decimal(18, 2) <= 0') == 0


def test_the_redelivery_repeats_the_last_two_days_with_missed_and_corrected_records(con, deltas):
    out, *_ = deltas
    redelivery = "mainframe/trans_19990101_redelivery.asc"
    days = con.execute(f"""select distinct date from deliveries_trans where filename like '%{redelivery}'
                           order by 1""").fetchall()
    assert days == [("981231",), ("990101",)]
    # every record of those days, in its latest version, is in the re-delivery
    assert _one(con, f"""select count(*) from "trans" where date in ('981231', '990101')
                         and filename not like '%{redelivery}'""") == 0
    corrected = _one(con, f"""select count(*) from deliveries_trans r join deliveries_trans e using (trans_id)
                              where r.filename like '%{redelivery}' and e.filename < r.filename
                                and r.amount != e.amount""")
    missed = _one(con, f"""select count(*) from deliveries_trans r where r.filename like '%{redelivery}'
                           and not exists (select 1 from deliveries_trans e
                                           where e.trans_id = r.trans_id and e.filename < r.filename)""")
    assert corrected >= 1 and missed >= 1
    # a correction keeps the record's account and date
    assert _one(con, """select count(*) from deliveries_trans a join deliveries_trans b using (trans_id)
                        where a.account_id != b.account_id or a.date != b.date""") == 0


def test_new_accounts_come_with_owners_opening_deposits_and_cards(con):
    new_accounts = con.execute("""select account_id, date from deliveries_account
                                  where filename like '%_delta.asc'""").fetchall()
    assert new_accounts and all(day >= "990101" for _, day in new_accounts)
    for account_id, day in new_accounts:
        assert _one(con, f"""select count(*) from "disp" d join "client" c using (client_id)
                             where d.account_id = '{account_id}' and d.type = 'OWNER'""") == 1
        first = con.execute(f"""select date, operation from "trans" where account_id = '{account_id}'
                                order by date, trans_id::bigint limit 1""").fetchone()
        assert first == (day, "VKLAD")
    assert _one(con, "select count(*) from deliveries_card where filename like '%_delta.asc'") >= 1
    assert _one(con, """select count(*) from deliveries_card c left join "disp" d using (disp_id)
                        where d.disp_id is null""") == 0
    for table, key in (("trans", "trans_id"), ("account", "account_id"), ("client", "client_id"),
                       ("disp", "disp_id"), ("card", "card_id")):
        assert _one(con, f'select count(*) - count(distinct {key}) from "{table}"') == 0, table


def test_crm_updates_change_attributes_of_existing_clients(deltas):
    out, *_ = deltas
    records = [json.loads(line) for path in sorted((out / "crm").glob("*.json"))
               for line in path.read_text().splitlines()]
    base = {r["client_id"]: r for r in records if r["updated_at"] < "1999"}
    updates = [r for r in records if r["updated_at"] >= "1999" and r["client_id"] in base]
    assert updates
    for update in updates:
        earlier = base[update["client_id"]]
        assert update["birth_date"] == earlier["birth_date"]
        assert update["client_created_date"] == earlier["client_created_date"]
        changed = [k for k in ("marital_status", "occupation", "home_ownership") if update[k] != earlier[k]]
        assert changed, update


def test_web_sessions_continue_on_the_new_days(deltas):
    out, *_ = deltas
    new_days = sorted(p.name for p in (out / "ga").glob("ga_sessions_1999*.json"))
    for name in new_days:
        for line in (out / "ga" / name).read_text().splitlines():
            session = json.loads(line)
            assert session["date"] == name[len("ga_sessions_"):len("ga_sessions_") + 8]
            assert session["hits"] and session["totals"]["hits"] == len(session["hits"])


def test_the_same_drop_and_seed_give_the_same_delta(base, deltas, tmp_path):
    out, *_ = deltas
    again = _link_copy(base, tmp_path / "again")
    generate_delta(again, 1, seed=7)
    generate_delta(again, 3, seed=7)
    assert _digests(again) == _digests(out)


def test_a_delta_refuses_to_overwrite_and_leaves_nothing_behind(base, tmp_path):
    out = _link_copy(base, tmp_path / "landing")
    header = (out / "mainframe" / "trans_199812.asc").read_bytes().split(b"\r\n")[0]
    (out / "mainframe" / "trans_19990101_delta.asc").write_bytes(header + b"\r\n")  # delivered, empty
    before = _digests(out)
    with pytest.raises(DeltaError, match="never rewrites"):
        generate_delta(out, 1)
    assert _digests(out) == before


def test_a_delta_needs_a_drop(tmp_path):
    with pytest.raises(DeltaError, match="generate a drop first"):
        generate_delta(tmp_path, 1)


def test_the_cli_writes_a_delta(base, tmp_path, capsys):
    out = _link_copy(base, tmp_path / "landing")
    assert main(["generate", "--scale", "0.01", "--out", str(out), "--delta-days", "1"]) == 0
    assert "1-day delta (1999-01-01 .. 1999-01-01)" in capsys.readouterr().out
    assert (out / "mainframe" / "trans_19990101_redelivery.asc").is_file()
