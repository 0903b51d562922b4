"""c360.progress: a live line on a terminal, one line per stage and large file without one."""
from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from c360.progress import LARGE_BYTES, MODE_ENV, dbt_progress, task

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=140), out


def land_three_files(con: Console) -> None:
    """What landing reports: three files, a large one among them."""
    sizes = [(1_000, 10 << 10), (3_000_000, LARGE_BYTES * 2), (2_000, 20 << 10)]
    with task("land", total=len(sizes), unit="files", total_bytes=sum(b for _, b in sizes), console=con) as work:
        for index, (rows, size) in enumerate(sizes):
            work.advance(rows=rows, bytes=size, item=f"mainframe/trans_{index}.asc")


def test_on_a_terminal_the_line_is_redrawn_in_place_with_files_rows_and_speed(monkeypatch):
    monkeypatch.delenv(MODE_ENV, raising=False)
    con, out = console(terminal=True)
    land_three_files(con)
    text = out.getvalue()
    assert "\r" in text and "\x1b[2K" in text, "a live line is redrawn in place"
    plain = ANSI.sub("", text)
    assert "3/3 files" in plain and "3,003,000 rows" in plain and "rows/s" in plain


def test_without_a_terminal_one_line_per_stage_and_per_large_file(monkeypatch):
    monkeypatch.delenv(MODE_ENV, raising=False)
    con, out = console(terminal=False)
    land_three_files(con)
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue() and "\r" not in out.getvalue()
    assert lines[0] == "land: started (3 files, 128 MiB)"
    assert len(lines) == 3, lines                      # start, the one large file, done
    assert lines[1].startswith("land: mainframe/trans_1.asc: 3,000,000 rows, 128 MiB; 2 of 3 files,")
    assert "rows/s" in lines[1] and "left" in lines[1], "a large file's line says speed and estimate"
    assert lines[2].startswith("land: done: 3 of 3 files, 3,003,000 rows (")


def test_the_estimate_follows_bytes_done():
    con, _ = console(terminal=False)
    with task("land", total=2, total_bytes=400, console=con) as work:
        work.advance(bytes=100)
        left = work.estimate_left()
        assert left is not None and left == pytest.approx(work.seconds * 3, rel=0.5)


@pytest.mark.parametrize("chosen, expected", [("off", ""), ("lines", "land: started")])
def test_the_mode_can_be_chosen(monkeypatch, chosen, expected):
    monkeypatch.setenv(MODE_ENV, chosen)
    con, out = console(terminal=True)
    land_three_files(con)
    assert out.getvalue().startswith(expected) and (chosen != "off" or out.getvalue() == "")


def dbt_event(kind: str, **fields):
    """A real dbt event message, as dbtRunner hands it to a callback."""
    from dbt.events import types
    from dbt_common.events.base_types import msg_from_base_event

    return msg_from_base_event(getattr(types, kind)(**fields))


def test_dbt_callbacks_count_nodes_done_of_total(monkeypatch):
    monkeypatch.delenv(MODE_ENV, raising=False)
    con, out = console(terminal=False)
    with dbt_progress("dbt build", console=con) as on_event:
        on_event(dbt_event("ConcurrencyLine", num_threads=2, target_name="duckdb", node_count=3))
        for unique_id, status in (("model.c360.a", "success"), ("test.c360.b", "fail"), ("model.c360.c", "success")):
            on_event(dbt_event("NodeFinished", node_info={"unique_id": unique_id, "node_status": status},
                               run_result={"status": status}))
        on_event(dbt_event("LogStartLine", description="x", index=1, total=3))   # others are ignored
    assert out.getvalue().splitlines()[-1].startswith("dbt build: done: 3 of 3 nodes, 1 failed,")


def test_dbt_progress_on_a_terminal_shows_nodes_of_total(monkeypatch):
    monkeypatch.delenv(MODE_ENV, raising=False)
    con, out = console(terminal=True)
    with dbt_progress("dbt build", console=con) as on_event:
        on_event(dbt_event("ConcurrencyLine", num_threads=2, target_name="duckdb", node_count=2))
        on_event(dbt_event("NodeFinished", node_info={"unique_id": "model.c360.a", "node_status": "success"},
                           run_result={"status": "success"}))
    assert "1/2 nodes" in ANSI.sub("", out.getvalue())
