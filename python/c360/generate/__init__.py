"""Synthetic bank drops in the bank's native formats (`c360 generate`).

generate_dataset writes every source into the landing layout the README describes:
mainframe/ and reference/ Berka .asc tables (one trans file per month), crm/ JSON
exports, ga/ daily GA 360 session exports and web/visitor_map.csv. Sizes scale with
`scale` (1 = the real bank); values are calibrated on the real public data (see
calibrate.py); the same seed and scale give byte-identical files. `generate_delta` (delta.py)
adds the next days of such a drop as new files (`c360 generate --delta-days N`).
"""
from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from c360.generate.bank import generate_bank, write_mainframe
from c360.generate.crm import write_crm
from c360.generate.delta import DeltaError, DeltaSummary, generate_delta  # noqa: F401  (the public API)
from c360.generate.ga import plan_visits, write_ga_sessions
from c360.generate.transactions import write_transactions
from c360.generate.web import write_visitor_map

# What a run writes: files matching these (and only these) are replaced on a rerun, the files
# of deltas written on top of an earlier drop (c360.generate.delta) included.
OWN_FILES = re.compile(r"(mainframe/(client|account|disp|card|loan|order|trans_\d{6})\.asc|reference/district\.asc"
                       r"|crm/crm_\d{8}\.json|ga/ga_sessions_\d{8}\.json|web/visitor_map\.csv"
                       r"|mainframe/(client|account|disp|card|trans)_\d{8}_delta\.asc|mainframe/trans_\d{8}_redelivery\.asc"
                       r"|crm/crm_\d{8}_delta\.json|ga/ga_sessions_\d{8}_redelivery\.json)")


@dataclass(frozen=True)
class GenerationSummary:
    out_dir: Path
    scale: float
    seed: int
    files: dict[str, int]  # path relative to out_dir -> rows written
    seconds: float

    def describe(self) -> str:
        """Rows per file, dated series (trans months, GA days, CRM exports) folded into one line."""
        series: dict[str, list[int]] = defaultdict(list)
        for name, rows in self.files.items():
            series[re.sub(r"_\d{6,8}\.", "_*.", name)].append(rows)
        lines = [f"Generated a scale-{self.scale:g} bank (seed {self.seed}) into {self.out_dir} "
                 f"in {self.seconds:.1f} s: {len(self.files)} files, {sum(self.files.values()):,} rows"]
        for pattern, counts in series.items():
            files = f" ({len(counts)} files)" if len(counts) > 1 else ""
            lines.append(f"  {pattern:<28}{sum(counts):>12,} rows{files}")
        return "\n".join(lines)


def generate_dataset(out_dir: Path, scale: float, seed: int = 42) -> GenerationSummary:
    """Write a synthetic bank drop of the given scale into out_dir."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    _remove_previous_output(out_dir)
    # Independent streams, so a change in one source leaves the others' files unchanged.
    bank_rng, trans_rng, crm_rng, ga_rng, web_rng = (
        np.random.default_rng(stream) for stream in np.random.SeedSequence(seed).spawn(5))
    con = duckdb.connect()
    try:
        bank = generate_bank(bank_rng, scale)
        files = write_mainframe(con, out_dir, bank)
        files |= write_transactions(con, out_dir, bank, trans_rng)
        files |= write_crm(con, out_dir, bank, crm_rng)
        visitors, sessions = plan_visits(ga_rng, scale, len(bank.clients["client_id"]))
        files |= write_ga_sessions(con, out_dir, visitors, sessions, ga_rng)
        files |= write_visitor_map(con, out_dir, visitors, sessions, bank.clients["client_id"], web_rng)
    finally:
        con.close()
    return GenerationSummary(out_dir, scale, seed, files, time.perf_counter() - started)


def _remove_previous_output(out_dir: Path) -> None:
    """A rerun must not leave files of an earlier, larger run behind (a GA day, a month)."""
    if out_dir.is_dir():
        for path in out_dir.rglob("*"):
            if path.is_file() and OWN_FILES.fullmatch(path.relative_to(out_dir).as_posix()):
                path.unlink()
