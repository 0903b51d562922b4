"""The graph export on the tiny bank, before and after a delta: special characters and nulls
survive export and load, `--incremental` holds exactly what is new or changed, base +
increment loads into the same graph as a full export, and `c360 journey` tells a client's
story in time order."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path

import duckdb
import pytest

from c360.cli import main
from c360.generate import generate_delta
from c360.graph import GraphExportError, export_graph
from c360.graph.engine import GraphStore, read_records
from c360.pipeline import run_pipeline
from c360.publish import published_path

pytestmark = pytest.mark.slow

# A free-text CRM value with everything that breaks a naive CSV writer.
SPECIAL = 'Editor, "chief"\nnight shift; 50% \\ après'


def crm_record(client_id: int, occupation: str, updated_at: str) -> str:
    return json.dumps({"client_id": client_id, "birth_date": "1941-02-10", "age": 57, "home_ownership": "O",
                       "occupation": occupation, "marital_status": "M", "head_of_household_flag": "Y",
                       "client_created_date": "1998-03-01T10:00:00", "updated_at": updated_at})


def export(home: Path, out: Path, *args: str) -> str:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert main(["graph", "export", "--home", str(home), "--out", str(out), *args]) == 0
    return output.getvalue()


@pytest.fixture(scope="module")
def graphs(published_tiny_bank, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The base export (which records the state), then a delta (the generator's next day and a
    CRM update with special characters), then an incremental and a full export of it."""
    root = tmp_path_factory.mktemp("graph_incremental")
    home, landing = published_tiny_bank(root)
    export(home, root / "base")
    generate_delta(landing, 1, seed=5)
    (landing / "crm" / "crm_19981228.json").write_text(crm_record(1, SPECIAL, "1998-12-20T10:00:00") + "\n")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert run_pipeline(landing=landing, home=home) == 0, output.getvalue()
    export(home, root / "increment", "--incremental")
    export_graph(home, root / "full", consumer="full-check")
    return {"home": home, "root": root, "base": root / "base", "increment": root / "increment",
            "full": root / "full"}


def records(export_dir: Path) -> dict[tuple[str, str], tuple]:
    return {("vertex" if path.parent.name == "vertices" else "edge", r.id): (r.label, r.ends, r.properties)
            for path in sorted(export_dir.glob("*/*.csv")) if path.parent.name != "removed"
            for r in read_records(path)}


def removed(export_dir: Path) -> set[tuple[str, str]]:
    found = set()
    for kind, name in (("vertex", "vertices"), ("edge", "edges")):
        path = export_dir / "removed" / f"{name}.csv"
        if path.is_file():
            found |= {(kind, row["~id"]) for row in csv.DictReader(path.open(newline=""), strict=True)}
    return found


def loaded(tmp_path: Path, *exports: Path) -> tuple[dict, dict]:
    with GraphStore(tmp_path / "graph.sqlite") as store:
        for export_dir in exports:
            store.load(export_dir)
        return store.snapshot()


def test_a_value_with_a_comma_a_quote_and_a_newline_round_trips_and_a_null_is_absent(graphs, tmp_path):
    with duckdb.connect(str(published_path(graphs["home"])), read_only=True) as con:
        assert con.execute("select occupation from marts.customer_demographic where client_id = 1"
                           ).fetchone()[0] == SPECIAL           # what the marts hold
        without = con.execute("select min(client_id) from marts.customer_demographic"
                              " where occupation is null").fetchone()[0]
    client_file = next((graphs["full"] / "vertices").glob("client-*.csv"))
    with client_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, strict=True))
    column = rows[0].index("occupation:String(single)")
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["CUS1"][column] == SPECIAL and by_id[f"CUS{without}"][column] == ""
    assert all(len(row) == len(rows[0]) for row in rows)         # the newline blanked no record
    vertices, _ = loaded(tmp_path, graphs["full"])
    assert vertices["CUS1"][1]["occupation"] == SPECIAL
    assert "occupation" not in vertices[f"CUS{without}"][1]
    assert vertices[f"CUS{without}"][1]["client_id"] == without


def test_the_increment_holds_exactly_the_new_and_changed_elements(graphs):
    base, full, increment = records(graphs["base"]), records(graphs["full"]), records(graphs["increment"])
    new = {key for key in full if key not in base}
    changed = {key for key in full if key in base and base[key] != full[key]}
    assert new and changed, "the delta should add and change elements"
    assert ("vertex", "CUS1") in changed                         # its occupation changed
    assert set(increment) == new | changed
    assert all(increment[key] == full[key] for key in increment)
    assert removed(graphs["increment"]) == set(base) - set(full)


def test_base_plus_increment_loads_into_the_same_graph_as_a_full_export(graphs, tmp_path):
    incremental = loaded(tmp_path / "a", graphs["base"], graphs["increment"])
    full = loaded(tmp_path / "b", graphs["full"])
    assert len(full[0]) > 0 and len(full[1]) > 0
    assert incremental == full


def test_an_increment_with_nothing_new_is_empty_and_says_so(graphs):
    output = export(graphs["home"], graphs["root"] / "nothing-new", "--incremental")
    assert records(graphs["root"] / "nothing-new") == {}
    assert re.search(r"vertex client +0 of", output)


def test_an_export_whose_limit_cannot_fit_a_record_fails_and_leaves_no_parts(graphs, tmp_path):
    state = graphs["home"] / "graph" / "state" / "export" / "elements.parquet"
    before = state.stat().st_mtime_ns
    with pytest.raises(GraphExportError, match="exceeds the part size limit"):
        export_graph(graphs["home"], tmp_path / "tiny", max_file_mb=0.0002)      # 209 bytes
    assert list((tmp_path / "tiny").iterdir()) == []             # nothing a loader could pick up
    assert state.stat().st_mtime_ns == before                    # the state still says what was exported


def test_an_export_never_writes_over_a_folder_that_is_not_an_export(graphs, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(GraphExportError, match="not empty and holds no earlier graph export"):
        export_graph(graphs["home"], tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_c360_journey_lists_the_clients_accounts_and_web_sessions_in_time_order(graphs, capsys):
    with duckdb.connect(str(published_path(graphs["home"])), read_only=True) as con:
        accounts, sessions, page_views = con.execute("""
            select n_accounts_owned + n_accounts_disponent, web_sessions,
                   (select count(*) from staging.stg_ga__hits h
                    join intermediate.int_web_sessions_linked_to_clients s using (session_key)
                    where s.client_id = 1 and s.resolution_status = 'attributed' and h.hit_type = 'PAGE')
            from marts.customer_360 where client_id = 1""").fetchone()
    assert accounts > 0 and sessions > 0
    assert main(["journey", "--home", str(graphs["home"]), "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("journey of client 1 (CUS1)")
    events = [line for line in lines[1:] if not line.lstrip().startswith("#")]
    kinds = [line[23:38].strip() for line in events]
    assert (kinds.count("account opened"), kinds.count("web session")) == (accounts, sessions)
    stamps = [line[2:21].strip() for line in events]
    assert stamps == sorted(stamps)
    assert sum(1 for line in lines if line.lstrip().startswith("#")) == page_views
    # a second call finds the local graph current and loads nothing
    loaded_marker = graphs["home"] / "graph" / "journey" / "loaded.json"
    before = loaded_marker.stat().st_mtime_ns
    assert main(["journey", "--home", str(graphs["home"]), "1"]) == 0
    assert loaded_marker.stat().st_mtime_ns == before
    assert main(["journey", "--home", str(graphs["home"]), "999"]) == 1
