"""`c360 run` and `c360 land` under hostile conditions: a bad `--as-of`, a landing started
while a run builds, a run with nothing new, a raw-gate failure's messages, an error nobody
expected. No traceback reaches the user; each case exits with its documented code."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from c360.cli import main
from c360.home_lock import hold_home
from c360.land.manifest import committed_batches
from c360.pipeline import EXIT_BUILD, EXIT_GATE, EXIT_START, run_pipeline
from c360.publish import published_path, read_published

REPO = Path(__file__).resolve().parents[2]


def run(home: Path, landing: Path, **options) -> tuple[int, str, dict]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = run_pipeline(landing=landing, home=home, **options)
    record = json.loads(sorted((home / "runs").glob("*.json"))[-1].read_text())
    return code, output.getvalue(), record


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("as_of", ["2019-13-45", "2019-02-30", "yesterday", "1998-1-1"])
def test_an_as_of_that_is_not_a_calendar_date_is_refused_before_anything_runs(tmp_path, capsys, as_of):
    with pytest.raises(SystemExit) as exited:
        main(["run", "--landing", str(tmp_path / "landing"), "--home", str(tmp_path / "home"), "--as-of", as_of])
    assert exited.value.code == 2
    assert f"argument --as-of: {as_of!r} is not a date YYYY-MM-DD" in capsys.readouterr().err
    assert not (tmp_path / "home").exists()
    with pytest.raises(ValueError, match="as_of must be YYYY-MM-DD|month|day"):
        run_pipeline(landing=tmp_path / "landing", home=tmp_path / "home", as_of=as_of)
    assert not (tmp_path / "home").exists()


def test_c360_land_refuses_while_another_command_writes_the_home(tmp_path, capsys):
    from tests.conftest import write_tiny_bank

    landing = write_tiny_bank(tmp_path / "landing")
    with hold_home(tmp_path / "home", "c360 run"):
        assert main(["land", "--landing", str(landing), "--home", str(tmp_path / "home")]) == EXIT_START
    assert re.search(r"is being written by c360 run \(pid \d+, since .*\); nothing was done", capsys.readouterr().out)
    assert committed_batches(tmp_path / "home" / "raw") == []
    assert main(["land", "--landing", str(landing), "--home", str(tmp_path / "home")]) == 0
    assert len(committed_batches(tmp_path / "home" / "raw")) == 1


def test_an_unexpected_error_is_one_sentence_and_its_traceback_is_kept(tmp_path, monkeypatch, capsys):
    import c360.land
    from tests.conftest import write_tiny_bank

    class LandingInvariantError(RuntimeError):
        """Stands for any error nobody foresaw inside a stage."""

    def broken(landing, home):
        raise LandingInvariantError("mainframe/trans.asc: read 360 rows but landed 358 and quarantined 1")

    landing = write_tiny_bank(tmp_path / "landing")
    monkeypatch.setattr(c360.land, "land_directory", broken)
    code, output, record = run(tmp_path / "home", landing)
    assert code == EXIT_BUILD
    assert ("the run broke at land: LandingInvariantError: mainframe/trans.asc: read 360 rows but landed 358"
            " and quarantined 1") in output
    assert "Traceback" not in output
    kept = tmp_path / "home" / "runs" / f"{record['run_id']}.traceback.txt"
    assert f"(the traceback is kept in {kept})" in output and "Traceback" in kept.read_text()
    assert (record["outcome"], record["stopped_at"]) == ("failed", "land")

    assert main(["land", "--landing", str(landing), "--home", str(tmp_path / "home")]) == 2
    out = capsys.readouterr().out
    assert "c360 land: the landing broke, nothing of this landing was committed: LandingInvariantError:" \
           " mainframe/trans.asc" in out and "Traceback" not in out


def test_a_missing_landing_folder_is_a_sentence_and_exit_3(tmp_path, capsys):
    assert main(["land", "--landing", str(tmp_path / "nowhere"), "--home", str(tmp_path / "home")]) == EXIT_START
    assert f"c360 land: landing folder {tmp_path / 'nowhere'} does not exist" in capsys.readouterr().out


def test_nothing_new_is_decided_from_the_published_batches_and_point_in_time(published_tiny_bank):
    from c360.pipeline import _Run

    home = published_tiny_bank.home
    version = read_published(home)

    def nothing_new(batches, as_of=None, full_refresh=False) -> bool:
        return _Run(home, home, as_of, False, None, full_refresh)._nothing_new(batches)

    assert nothing_new(version.batches)
    assert nothing_new(version.batches, as_of=version.as_of_date)
    assert not nothing_new(version.batches, as_of="1998-06-30")       # another point in time
    assert not nothing_new(version.batches + ["20991231T000000000000Z"])  # a new batch
    assert not nothing_new(version.batches, full_refresh=True)


def test_the_default_point_in_time_after_an_explicit_one_is_something_new(published_tiny_bank, tmp_path):
    from c360.pipeline import _Run

    home, _ = published_tiny_bank(tmp_path)
    version = read_published(home)
    record = home / "runs" / f"{version.build_id}.json"
    record.write_text(json.dumps(json.loads(record.read_text()) | {"as_of": "1998-06-30"}))
    assert not _Run(home, home, None, False, None)._nothing_new(version.batches)
    assert _Run(home, home, version.as_of_date, False, None)._nothing_new(version.batches)


@pytest.mark.slow
def test_a_run_with_nothing_new_says_so_and_leaves_the_published_version(published_tiny_bank, tmp_path):
    home, landing = published_tiny_bank(tmp_path)
    before = sha256(published_path(home))
    code, output, record = run(home, landing)
    assert code == 0, output
    assert "== nothing new" in output and "nothing was rebuilt" in output
    assert f"{published_path(home)} is left as it is" in output
    assert record["outcome"] == "unchanged"
    assert "build staging" not in [s["name"] for s in record["stages"]]
    assert sha256(published_path(home)) == before
    assert not list((home / "builds").glob("*.duckdb"))


@pytest.mark.slow
def test_a_raw_gate_failure_names_where_the_quarantined_records_are_now(published_tiny_bank, tmp_path):
    home, landing = published_tiny_bank(tmp_path)
    (landing / "mainframe" / "account_1999.asc").write_bytes("\r\n".join([
        '"account_id";"district_id";"frequency";"date"', '11;2;"POPLATEK ROCNE";990104',
        '12;2;"POPLATEK MESICNE"']).encode() + b"\r\n")
    code, output, record = run(home, landing)
    assert (code, record["stopped_at"]) == (EXIT_GATE, "raw gate")
    named = re.findall(r"-> (\S+\.jsonl)", output)
    assert named, output
    for path in named:
        assert Path(path).is_file(), f"the run names {path}, which does not exist"
        assert "/rejected/batch=" in path
    assert "Traceback" not in output


@pytest.mark.slow
def test_a_landing_started_while_a_run_builds_is_refused_and_nothing_ungated_is_published(
        published_tiny_bank, tmp_path):
    home, landing = published_tiny_bank(tmp_path)
    (landing / "web" / "visitor_map_2.csv").write_text("4004,4\n")
    late = tmp_path / "late"
    (late / "web").mkdir(parents=True)
    (late / "web" / "visitor_map_3.csv").write_text("NOT-A-VISITOR-ID,1\n")
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "python"),
                                                                     os.environ.get("PYTHONPATH")]))}
    running = subprocess.Popen([sys.executable, "-m", "c360.cli", "run", "--landing", str(landing),
                                "--home", str(home)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, cwd=REPO)
    lines = []
    for line in running.stdout:
        lines.append(line)
        if line.strip() == "== build staging":
            break
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main(["land", "--landing", str(late), "--home", str(home)])
    rest, _ = running.communicate(timeout=600)
    assert running.returncode == 0, "".join(lines) + rest
    assert code == EXIT_START and "is being written by c360 run" in output.getvalue()
    version = read_published(home)
    assert sorted(version.batches) == committed_batches(home / "raw")
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        visitors = {v for (v,) in con.execute(
            "select full_visitor_id from staging.stg_web__visitor_client_links").fetchall()}
    assert "4004" in visitors and "NOT-A-VISITOR-ID" not in visitors
