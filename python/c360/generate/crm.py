"""CRM exports: crm/crm_<YYYYMMDD>.json, newline-delimited (valid) JSON.

A first full export covers most clients; each later export repeats a few of them with
changed attributes and a later updated_at (the feed a snapshot has to track). Value sets
and frequencies are the real CRM sample's; birth dates come from the clients' birth
numbers and `age` is whole years at export time, computed like the sample's.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from c360.generate import calibration as cal
from c360.generate.bank import Bank
from c360.generate.formats import open_output, select_lines, write_lines
from c360.generate.sampling import Columns, from_counts

# Design choices (the sample has a single export): a full export half a year after the
# last account opened, then one delta export at the end of the bank's horizon.
FULL_EXPORT = np.datetime64("1998-06-30")
DELTA_EXPORTS = (np.datetime64("1998-12-31"),)
COVERAGE = 0.9         # share of clients the CRM knows
UPDATE_SHARE = 0.05    # share of known clients changed before each later export
# Which attributes an update changes (at least one: marital status otherwise).
CHANGE_SHARES = {"marital_status": 0.6, "occupation": 0.3, "home_ownership": 0.3}
ATTRIBUTES = {
    "home_ownership": cal.CRM_HOME_OWNERSHIP,
    "occupation": cal.CRM_OCCUPATIONS,
    "marital_status": cal.CRM_MARITAL_STATUS,
    "head_of_household_flag": cal.CRM_HEAD_OF_HOUSEHOLD,
}
WORKDAY = (np.timedelta64(8, "h"), np.timedelta64(17, "h"))  # when records are created


def write_crm(con: duckdb.DuckDBPyConnection, out_dir: Path, bank: Bank, rng: np.random.Generator) -> dict[str, int]:
    clients = bank.clients
    n = len(clients["client_id"])
    known = np.flatnonzero(rng.random(n) < COVERAGE)
    # A client enters the CRM when their account opens, during working hours.
    opened = bank.accounts["date"][bank.dispositions["account_index"][known]]
    records = {
        "client_index": known,
        "client_created_date": _time_between(rng, opened + WORKDAY[0], opened + WORKDAY[1]),
        **{name: from_counts(rng, counts, len(known)) for name, counts in ATTRIBUTES.items()},
    }
    records["updated_at"] = _time_between(rng, records["client_created_date"], FULL_EXPORT.astype("M8[us]"))
    files = {_name(FULL_EXPORT): _write_export(con, out_dir, bank, records, FULL_EXPORT)}
    previous = FULL_EXPORT
    for export in DELTA_EXPORTS:
        records = _updated(rng, records, previous, export)
        files[_name(export)] = _write_export(con, out_dir, bank, records, export)
        previous = export
    return files


def _name(export: np.datetime64) -> str:
    return f"crm/crm_{export.astype(object):%Y%m%d}.json"


def _time_between(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Uniform microsecond timestamps in [start, end)."""
    start, end = start.astype("M8[us]"), end.astype("M8[us]")
    span = np.maximum((end - start).astype(np.int64), 1)
    return start + (rng.random(len(start)) * span).astype(np.int64).astype("m8[us]")


def _updated(rng: np.random.Generator, records: Columns, since: np.datetime64, export: np.datetime64) -> Columns:
    """A few records with changed attributes, updated after the previous export."""
    n = len(records["client_index"])
    picked = np.sort(rng.choice(n, max(1, round(n * UPDATE_SHARE)), replace=False))
    delta = {k: v[picked].copy() for k, v in records.items()}
    changes = {name: rng.random(len(picked)) < share for name, share in CHANGE_SHARES.items()}
    changes["marital_status"] |= ~np.any(list(changes.values()), axis=0)
    for name, change in changes.items():
        delta[name][change] = _different(rng, delta[name][change], ATTRIBUTES[name])
    after = np.full(len(picked), since + np.timedelta64(1, "D"), dtype="M8[D]")
    delta["updated_at"] = _time_between(rng, after, np.full(len(picked), export + np.timedelta64(1, "D")))
    return delta


def _different(rng: np.random.Generator, current: np.ndarray, counts: dict[str, int]) -> np.ndarray:
    """New values drawn from the calibrated frequencies, never equal to the current one."""
    new = from_counts(rng, counts, len(current))
    same = new == current
    while same.any():  # a few redraws per attribute, never per row
        new[same] = from_counts(rng, counts, int(same.sum()))
        same = new == current
    return new


def _write_export(con: duckdb.DuckDBPyConnection, out_dir: Path, bank: Bank, records: Columns,
                  export: np.datetime64) -> int:
    clients = bank.clients
    index = records["client_index"]
    birth = clients["birth_date"][index]
    table = pa.table({
        "client_id": clients["client_id"][index],
        "birth_date": birth,
        # Whole years as days / 365.25, like the sample's ages.
        "age": ((export - birth).astype(np.int64) // 365.25).astype(np.int64),
        **{name: records[name] for name in ATTRIBUTES},
        "client_created_date": records["client_created_date"],
        "updated_at": records["updated_at"],
    })
    lines = select_lines(con, table, """
        select to_json(struct_pack(
            client_id := client_id,
            birth_date := strftime(birth_date, '%Y-%m-%d'),
            age := age,
            home_ownership := home_ownership,
            occupation := occupation,
            marital_status := marital_status,
            head_of_household_flag := head_of_household_flag,
            client_created_date := strftime(client_created_date, '%Y-%m-%dT%H:%M:%S.%f'),
            updated_at := strftime(updated_at, '%Y-%m-%dT%H:%M:%S.%f'))) || chr(10) as line
        from rows""")
    with open_output(out_dir / _name(export)) as handle:
        write_lines(handle, lines["line"])
    return lines.num_rows
