"""`c360 graph export` of the real shared data (published once per session), read back with a
strict CSV reader and loaded into the embedded Gremlin engine: the files are what the Neptune
bulk loader expects, and the graph's degrees agree with the marts."""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from gremlin_python.process.graph_traversal import __

from c360.cli import main
from c360.graph import export_graph
from c360.graph.engine import GraphStore, manifest, read_records
from c360.graph.export import MIB
from c360.graph.journey import client_journey
from c360.publish import published_path

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

MAX_FILE_MB = 0.1          # small enough that the larger element sets are split into parts


@pytest.fixture(scope="module")
def real_export(published_real_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("graph_real") / "export"
    assert main(["graph", "export", "--home", str(published_real_home), "--out", str(out),
                 "--max-file-mb", str(MAX_FILE_MB)]) == 0
    return out


@pytest.fixture(scope="module")
def real_graph(real_export: Path, tmp_path_factory: pytest.TempPathFactory):
    with GraphStore(tmp_path_factory.mktemp("graph_real_engine") / "graph.sqlite") as store:
        store.load(real_export)
        yield store


def marts(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        return con.execute(sql).fetchall()


def strict_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle, strict=True))


def test_every_part_parses_strictly_fits_the_limit_and_starts_with_the_header(real_export):
    files = manifest(real_export)["files"]
    headers, parts = {}, Counter()
    for entry in files:
        path = real_export / entry["path"]
        rows = strict_rows(path)
        header = rows[0]
        assert header[0] == "~id" and (header[1] == "~label" if entry["kind"] == "vertex"
                                       else header[1:4] == ["~from", "~to", "~label"]), path
        assert headers.setdefault(entry["label"], header) == header, f"{path}: another header"
        assert all(len(row) == len(header) for row in rows[1:]), path
        assert len(rows) - 1 == entry["records"] and path.stat().st_size == entry["bytes"]
        assert path.stat().st_size <= MAX_FILE_MB * MIB
        parts[entry["label"]] += 1
    assert max(parts.values()) > 1, "no element set was large enough to be split"
    assert headers["client"][2] == "client_id:Int(single)" and "birth_date:Date(single)" in headers["client"]
    assert "hit_number:Int" in headers["viewed"] and "amount_czk:Double(single)" in headers["loan"]


def test_ids_are_unique_and_every_edge_ends_at_an_exported_vertex(real_export):
    vertices, edges = Counter(), Counter()
    ends = []
    for path in sorted((real_export / "vertices").glob("*.csv")):
        vertices.update(record.id for record in read_records(path))
    for path in sorted((real_export / "edges").glob("*.csv")):
        for record in read_records(path):
            edges[record.id] += 1
            ends.extend(record.ends)
    assert vertices and edges
    assert [i for i, n in vertices.items() if n > 1] == [] and [i for i, n in edges.items() if n > 1] == []
    assert sorted(set(ends) - set(vertices))[:5] == []
    expected = manifest(real_export)["total"]
    assert sum(vertices.values()) == sum(n for k, n in expected.items() if k.startswith("vertex"))


def test_the_opencypher_export_is_the_same_graph_under_its_headers(published_real_home, real_export, tmp_path):
    out = tmp_path / "opencypher"
    export_graph(published_real_home, out, fmt="opencypher", consumer="opencypher-test")
    client = strict_rows(next((out / "vertices").glob("client-*.csv")))[0]
    holds = strict_rows(next((out / "edges").glob("holds-*.csv")))[0]
    assert client[:2] == [":ID", ":LABEL"] and "birth_date:DateTime" in client
    assert holds[:4] == [":ID", ":START_ID", ":END_ID", ":TYPE"]

    def records(folder: Path) -> set:
        return {(r.id, r.label, r.ends, tuple(sorted(r.properties.items())))
                for path in folder.glob("*/*.csv") for r in read_records(path)}
    assert records(out) == records(real_export)


def test_degrees_in_the_engine_agree_with_the_marts(published_real_home, real_graph):
    expected = {f"CUS{row[0]}": row[1:] for row in marts(published_real_home, """
        select client_id, n_accounts_owned + n_accounts_disponent, n_cards, web_sessions
        from marts.customer_360""")}
    degrees = real_graph.g.V().has_label("client").project("id", "holds", "cards", "sessions") \
        .by("~id") \
        .by(__.out_e("holds").count()) \
        .by(__.in_e("issued_to").count()) \
        .by(__.in_e("linked_to").has("resolution", "attributed").out_v().out_e("had_session").count()) \
        .to_list()
    actual = {d["id"]: (d["holds"], d["cards"], d["sessions"]) for d in degrees}
    assert len(actual) == len(expected)
    assert {k: (v, expected[k]) for k, v in actual.items() if v != expected[k]} == {}
    assert sum(v[2] for v in actual.values()) > 0 and sum(v[1] for v in actual.values()) > 0


def test_a_clients_journey_lists_accounts_cards_loans_and_sessions_in_time_order(published_real_home, real_graph):
    client_id, holds, cards, loans, sessions = marts(published_real_home, """
        select client_id, n_accounts_owned + n_accounts_disponent, n_cards, n_loans, web_sessions
        from marts.customer_360 where web_sessions > 0 and n_accounts_owned > 0
        order by n_loans + n_cards desc, web_sessions desc, client_id limit 1""")[0]
    events = client_journey(real_graph, client_id)
    kinds = Counter(event.kind for event in events)
    assert (kinds["account opened"], kinds["card issued"], kinds["loan granted"], kinds["web session"]) == \
        (holds, cards, loans, sessions)
    assert [event.at for event in events] == sorted(event.at for event in events)
    pages = dict(marts(published_real_home, f"""
        select 'SES' || h.session_key, count(*) from staging.stg_ga__hits h
        where h.hit_type = 'PAGE' and 'SES' || h.session_key in
            ({", ".join(f"'{e.element_id}'" for e in events if e.kind == 'web session')})
        group by 1"""))
    for event in (e for e in events if e.kind == "web session"):
        assert len(event.pages) == pages.get(event.element_id, 0)
        assert [p.hit_number for p in event.pages] == sorted(p.hit_number for p in event.pages)
