"""web/visitor_map.csv: which GA visitors are which clients (fullVisitorId,client_id).

Like the real map: no header, LF line endings, many-to-many. Only client visitors that
appear in the GA export are mapped (anonymous traffic is not). Clients per visitor follow
the real map (most one, a few shared devices with up to 18); a few clients browse from
several devices, at the real map's share of repeated clients.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from c360.generate import calibration as cal
from c360.generate.formats import open_output, select_lines, write_lines
from c360.generate.ga import Visitors, visitor_id_strings
from c360.generate.sampling import Columns, from_counts

VISITOR_MAP = "web/visitor_map.csv"


def write_visitor_map(con: duckdb.DuckDBPyConnection, out_dir: Path, visitors: Visitors, sessions: Columns,
                      client_ids: np.ndarray, rng: np.random.Generator) -> dict[str, int]:
    seen = np.unique(sessions["visitor"])
    mapped = seen[seen < visitors.n_client]
    per_visitor = from_counts(rng, cal.VISITOR_MAP_CLIENTS_PER_VISITOR, len(mapped))
    visitor = np.repeat(mapped, per_visitor)
    n = len(visitor)
    client = rng.choice(len(client_ids), n, replace=n > len(client_ids))
    repeated = rng.random(n) < cal.VISITOR_MAP_REPEAT_CLIENT_SHARE
    client[repeated] = client[rng.integers(0, n, int(repeated.sum()))]
    pairs = np.unique(visitor * len(client_ids) + client)  # distinct links, by visitor
    visitor, client = pairs // len(client_ids), pairs % len(client_ids)
    table = pa.table({"full_visitor_id": visitor_id_strings(visitors.full_visitor_id[visitor]),
                      "client_id": client_ids[client]})
    lines = select_lines(con, table, "select concat(full_visitor_id, ',', client_id, chr(10)) as line from rows")
    with open_output(out_dir / VISITOR_MAP) as handle:
        write_lines(handle, lines["line"])
    return {VISITOR_MAP: lines.num_rows}
