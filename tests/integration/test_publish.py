"""Publishing: an atomic swap of a complete, self-contained database that readers never see
half-written, and never find locked by a build."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from c360.publish import (
    PublishError, PublishedVersion, new_build_path, publish, published_path, read_published,
    read_version_table,
)
from c360.publish.status import describe_status


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_build(home: Path, build_id: str, clients: int) -> Path:
    """A build file shaped like dbt's: a staging view over Parquet, a mart table."""
    parquet = home / "raw" / f"clients_{build_id}.parquet"
    parquet.parent.mkdir(parents=True, exist_ok=True)
    duckdb.execute(f"copy (select range as client_id from range({clients})) to '{parquet}'")
    path = new_build_path(home, build_id)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_mainframe; create schema staging; create schema marts")
        con.execute(f"create view raw_mainframe.client as select * from read_parquet('{parquet}')")
        con.execute("create view staging.stg_clients as select * from raw_mainframe.client")
        con.execute("create table marts.customer_360 as select client_id from staging.stg_clients")
    return path


def version(build_id: str) -> PublishedVersion:
    return PublishedVersion(build_id=build_id, as_of_date="1998-12-31", batches=["b1"],
                            built_at="2026-01-01T00:00:00Z", build_seconds=1.0,
                            gates={"raw": {"passed": True, "expectations": 3, "warnings": []}})


def test_publish_swaps_in_a_self_contained_database_and_describes_it(tmp_path):
    build = make_build(tmp_path, "b-1", clients=3)
    target = publish(build, tmp_path, version("b-1"))
    assert target == published_path(tmp_path) and not build.exists()
    for parquet in (tmp_path / "raw").glob("*.parquet"):
        parquet.unlink()      # the published database must not read the raw zone any more
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_clients").fetchone()[0] == 3
        assert con.execute("select count(*) from duckdb_views() where not internal").fetchone()[0] == 0
        assert con.execute("select count(*) from information_schema.schemata"
                           " where schema_name like 'raw_%'").fetchone()[0] == 0
    assert read_version_table(target)["build_id"] == "b-1"
    assert read_published(tmp_path).build_id == "b-1"
    text, code = describe_status(tmp_path)
    assert code == 0 and "b-1" in text and "as of         1998-12-31" in text and "raw gate" in text


def test_a_build_that_cannot_be_stamped_leaves_the_published_database_untouched(tmp_path):
    publish(make_build(tmp_path, "b-1", clients=3), tmp_path, version("b-1"))
    before = sha256(published_path(tmp_path))
    broken = new_build_path(tmp_path, "b-2")
    broken.write_bytes(b"not a database")
    with pytest.raises(PublishError):
        publish(broken, tmp_path, version("b-2"))
    assert sha256(published_path(tmp_path)) == before
    assert read_published(tmp_path).build_id == "b-1"


READER = textwrap.dedent("""
    import duckdb, json, sys, time
    from pathlib import Path
    database, log, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    con = duckdb.connect(database, read_only=True)
    def read(c):
        return {"build_id": c.execute("select build_id from c360_meta.version").fetchone()[0],
                "clients": c.execute("select count(*) from marts.customer_360").fetchone()[0]}
    with log.open("w") as out:
        out.write(json.dumps({"held": read(con)}) + "\\n"); out.flush()
        while not stop.exists():
            out.write(json.dumps({"held": read(con)}) + "\\n"); out.flush()
            time.sleep(0.05)
        out.write(json.dumps({"held": read(con)}) + "\\n")
        con.close()
        with duckdb.connect(database, read_only=True) as fresh:
            out.write(json.dumps({"fresh": read(fresh)}) + "\\n")
""")


class Reader:
    """Another process holding the published database open, reading it in a loop."""

    def __init__(self, database: Path, folder: Path):
        self.log, self.stop = folder / "reader.jsonl", folder / "reader.stop"
        self.process = subprocess.Popen([sys.executable, "-c", READER, str(database), str(self.log), str(self.stop)])
        deadline = time.time() + 30
        while not (self.log.exists() and self.log.read_text().strip()):
            assert self.process.poll() is None and time.time() < deadline, "the reader did not start"
            time.sleep(0.05)

    def finish(self) -> list[dict]:
        self.stop.touch()
        assert self.process.wait(timeout=60) == 0
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def test_a_reader_keeps_reading_the_old_version_until_it_reconnects(tmp_path):
    publish(make_build(tmp_path, "b-1", clients=3), tmp_path, version("b-1"))
    reader = Reader(published_path(tmp_path), tmp_path)
    publish(make_build(tmp_path, "b-2", clients=5), tmp_path, version("b-2"))
    reads = reader.finish()
    held = [r["held"] for r in reads if "held" in r]
    assert held and all(r == {"build_id": "b-1", "clients": 3} for r in held)
    assert reads[-1] == {"fresh": {"build_id": "b-2", "clients": 5}}


# --- end to end: a reader while `c360 run` builds, gates and publishes -----------------------

@pytest.mark.slow
def test_a_reader_during_a_whole_run_reads_the_old_version_then_the_new_one(published_tiny_bank, tmp_path):
    from c360.pipeline import run_pipeline

    home, landing = published_tiny_bank(tmp_path)
    first = read_published(home)
    reader = Reader(published_path(home), tmp_path)
    (landing / "mainframe" / "client_1999.asc").write_bytes(
        b'"client_id";"birth_number";"district_id"\r\n13;"655612";2\r\n')
    (landing / "mainframe" / "disp_1999.asc").write_bytes(
        b'"disp_id";"client_id";"account_id";"type"\r\n13;13;3;"DISPONENT"\r\n')
    assert run_pipeline(landing=landing, home=home) == 0
    reads = reader.finish()
    held = [r["held"] for r in reads if "held" in r]
    assert len(held) > 10, "the reader should have read throughout the run"
    assert all(r == {"build_id": first.build_id, "clients": 12} for r in held)
    second = read_published(home)
    assert second.build_id != first.build_id and len(second.batches) == 2
    assert reads[-1] == {"fresh": {"build_id": second.build_id, "clients": 13}}


def test_c360_status_says_when_nothing_is_published_and_what_is(tmp_path, capsys):
    from c360.cli import main

    assert main(["status", "--home", str(tmp_path)]) == 1
    assert "nothing published yet" in capsys.readouterr().out
    publish(make_build(tmp_path, "b-1", clients=3), tmp_path, version("b-1"))
    assert main(["status", "--home", str(tmp_path)]) == 0
    assert "build         b-1" in capsys.readouterr().out


def test_a_second_run_on_the_same_home_is_refused_while_one_is_running(tmp_path, capsys):
    import fcntl

    from c360.pipeline import EXIT_START, run_pipeline

    (tmp_path / "home").mkdir()
    with (tmp_path / "home" / ".c360-run.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert run_pipeline(landing=tmp_path / "landing", home=tmp_path / "home") == EXIT_START
    assert "is being written by another c360 command; nothing was done" in capsys.readouterr().out
