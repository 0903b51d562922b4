"""Landing the real public data gives the counts its README documents, and loses nothing."""
from __future__ import annotations

import duckdb
import pytest

from c360.land import land_directory

EXPECTED = {  # source file -> (read, landed, quarantined), from ../shared/data/README.md
    "mainframe/account.asc": (4500, 4500, 0),
    "mainframe/client.asc": (5369, 5369, 0),
    "mainframe/disp.asc": (5369, 5369, 0),
    "mainframe/card.asc": (892, 892, 0),
    "mainframe/loan.asc": (682, 682, 0),
    "mainframe/order.asc": (6471, 6471, 0),
    "mainframe/trans.asc": (49103, 49102, 1),
    "reference/district.asc": (77, 77, 0),
    "web/visitor_map.csv": (201, 201, 0),
    "crm/crm0020240523-064013.json": (500, 0, 500),
}


@pytest.fixture(scope="module")
def landed(shared_data, tmp_path_factory):
    from tests.conftest import link_real_landing

    root = tmp_path_factory.mktemp("real")
    landing = link_real_landing(shared_data, root / "landing")
    return landing, root / "home", land_directory(landing, root / "home")


def test_counts_match_the_data_readme(landed):
    _, _, report = landed
    counts = {f.source_file: (f.rows_read, f.rows_landed, f.rows_quarantined) for f in report.files}
    for source_file, expected in EXPECTED.items():
        assert counts[source_file] == expected, source_file
    ga = [c for name, c in counts.items() if name.startswith("ga/")]
    assert len(ga) == 7 and sum(c[1] for c in ga) == 70 and sum(c[2] for c in ga) == 0


def test_the_partial_trans_line_is_kept_aside_with_its_reason(landed):
    _, home, report = landed
    trans = next(f for f in report.files if f.source_file == "mainframe/trans.asc")
    text = (home / trans.quarantine_file).read_text()
    assert '"line": 49104' in text and "ends in the middle of this record" in text
    assert '3526882;11021;940331;\\"PRIJE' in text


def test_every_crm_line_is_quarantined_as_a_python_dict_literal(landed):
    _, home, report = landed
    crm = next(f for f in report.files if f.source_file.startswith("crm/"))
    lines = (home / crm.quarantine_file).read_text().splitlines()
    assert len(lines) == 500 and all("Python dict literal" in line for line in lines)


def test_source_line_points_at_the_delivered_row(landed, shared_data):
    _, home, _ = landed
    physical = (shared_data / "berka" / "trans.asc").read_bytes().split(b"\r\n")
    rows = duckdb.sql(
        f"select _source_line, trans_id, amount from read_parquet('{home}/raw/mainframe/trans/*/*.parquet')"
        " using sample 200 rows (reservoir, 7)"
    ).fetchall()
    for line, trans_id, amount in rows:
        fields = physical[line - 1].decode().split(";")
        assert (fields[0], fields[5]) == (trans_id, amount)


def test_relanding_the_real_data_changes_nothing(landed):
    landing, home, first = landed
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    again = land_directory(landing, home)
    assert again.batch_id is None and all(f.status == "skipped" for f in again.files)
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before


def test_with_the_dialect_declared_the_real_crm_export_lands_every_record(shared_data, tmp_path):
    from tests.conftest import link_real_landing

    landing = link_real_landing(shared_data, tmp_path / "landing")
    home = tmp_path / "home"
    home.mkdir()
    (home / "sources.toml").write_text(
        '[crm.client]\ndialect = "python_dict_literals"\nupdated_at = "export_time_in_file_name"\n')
    report = land_directory(landing, home)
    crm = next(f for f in report.files if f.source_file.startswith("crm/"))
    assert (crm.rows_read, crm.rows_landed, crm.rows_quarantined) == (500, 500, 0)
    assert crm.dialect == "python_dict_literals"
    [(records, with_client, stamps)] = duckdb.sql(
        f"select count(*), count(*) filter (where client_id in (select client_id from"
        f" read_parquet('{home}/raw/mainframe/client/*/*.parquet'))), list(distinct updated_at)"
        f" from read_parquet('{home}/raw/crm/client/*/*.parquet')").fetchall()
    assert (records, with_client, stamps) == (500, 126, ["2024-05-23T06:40:13"])


def test_real_ga_sessions_land_in_the_one_pass_reader(landed):
    """Every real session is vouched for by DuckDB's strict pass: none needs a second look."""
    _, home, _ = landed
    parts = sorted(p.name for p in home.glob("raw/ga/session/batch=*/*.parquet"))
    assert parts and all(name.startswith("part-") for name in parts)
