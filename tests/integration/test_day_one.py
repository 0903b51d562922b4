"""Day one for an analyst, on a published build of the tiny bank: the README's queries work as
printed, the Data Docs render offline, `c360 check` reports to CI in JUnit, `c360 docs`
documents the published build, `c360.connect` is read-only."""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest

import c360
from c360.check import run_check
from c360.docs.dbt_docs import docs_command, generate
from c360.land.manifest import committed_batches
from c360.publish import published_path

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
README_HOME = "work/home/sf1"
DUCKDB_CLI = Path(sys.executable).parent / "duckdb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", (REPO / "README.md").read_text(), re.S | re.M)


def duckdb_commands(text: str) -> list[str]:
    """Each `duckdb ...` command in shell text, continuation lines and quoted newlines included."""
    commands, pending = [], None
    for line in text.splitlines():
        if pending is None and not re.match(r"\s*duckdb\s", line):
            continue
        pending = line if pending is None else pending + "\n" + line
        if pending.rstrip().endswith("\\"):
            pending = pending.rstrip()[:-1]
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:              # a quoted query that goes on on the next line
            continue
        commands.append(pending)
        pending = None
    return commands


def run_duckdb(command: str, home: Path) -> str:
    words = shlex.split(command.replace(README_HOME, str(home)), comments=True)
    assert words[0] in ("duckdb", str(DUCKDB_CLI)), words
    done = subprocess.run([str(DUCKDB_CLI), *words[1:]], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr, f"{command}\n{done.stderr}"
    return done.stdout


def test_the_duckdb_cli_is_installed_at_the_library_version():
    done = subprocess.run([str(DUCKDB_CLI), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.split()[0] == f"v{duckdb.__version__}"


def test_the_readme_queries_run_as_printed_against_a_published_build(published_tiny_bank):
    home = published_tiny_bank.home
    commands = [c for block in code_blocks("bash") for c in duckdb_commands(block)]
    assert commands, "README.md shows no duckdb query"
    for command in commands:
        output = run_duckdb(command, home)
        assert "│" in output, f"no result table from {command}:\n{output}"
    # the closing hints of `c360 run` too
    hints = [line.strip() for line in published_tiny_bank.output.splitlines() if " -readonly " in line]
    assert hints
    for hint in hints:
        assert "client_id" in run_duckdb(hint, home)


def test_the_readme_python_examples_run_against_a_published_build(published_tiny_bank):
    blocks = [b for b in code_blocks("python") if README_HOME in b]
    assert any("c360.connect" in b for b in blocks), "README.md shows no c360.connect example"
    for block in blocks:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(block.replace(README_HOME, str(published_tiny_bank.home)), "README.md", "exec"), {})
        assert output.getvalue().strip(), block


def test_connect_gives_a_read_only_connection_to_the_marts(published_tiny_bank, tmp_path):
    con = c360.connect(published_tiny_bank.home)
    assert con.sql("select count(*) from customer_360").fetchone()[0] == 12     # the tiny bank's clients
    assert con.sql("select count(*) from c360_meta.version").fetchone()[0] == 1
    with pytest.raises(duckdb.InvalidInputException, match="read-only"):
        con.execute("create table marts.scratch (x int)")
    with duckdb.connect(str(published_path(published_tiny_bank.home)), read_only=True):
        pass                                        # others can still open it alongside
    con.close()
    with pytest.raises(FileNotFoundError, match="nothing is published"):
        c360.connect(tmp_path)


# -- Data Docs offline ------------------------------------------------------------------------

def test_every_data_docs_page_loads_only_local_assets(published_tiny_bank):
    docs = published_tiny_bank.home / "docs"
    pages = list(docs.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", page.read_text()):
            address = re.search(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", tag)
            if address is None or address.group(1).startswith(("#", "data:")):
                continue
            assert not re.match(r"(https?:)?//", address.group(1)), f"{page}: {tag}"
            assert (page.parent / address.group(1).split("?")[0]).resolve().is_file(), f"{page}: {tag}"


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (.ci/run installs the"
                    " Debian package `chromium`)")
def test_the_data_docs_index_lists_the_run_validations_in_a_browser_offline(published_tiny_bank, tmp_path):
    record = json.loads(sorted((published_tiny_bank.home / "runs").glob("*.json"))[-1].read_text())
    index = Path(record["docs"])
    validations = list((index.parent / "validations").rglob("*.html"))
    assert validations
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}",
         "--host-resolver-rules=MAP * ~NOTFOUND",          # no network: any CDN address fails
         "--virtual-time-budget=10000", "--dump-dom", index.as_uri()],
        capture_output=True, text=True, timeout=120)
    dom = done.stdout
    assert "</html>" in dom, done.stderr[-2000:]
    # bootstrap-table (JavaScript) fills the tables: rows with links to the validation pages
    linked = re.findall(r'<tr\b[^>]*\bdata-href="(validations/[^"]+\.html)"', dom)
    assert linked, "the index lists no validation: its table was not filled by JavaScript"
    assert all((index.parent / link).is_file() for link in linked)
    # its first page of rows, out of every validation of the run (raw, staging and marts suites)
    assert f"Showing 1 to {len(linked)} of {len(validations)} rows" in dom


# -- c360 docs / make docs --------------------------------------------------------------------

def test_make_docs_builds_the_catalog_of_the_published_build(published_tiny_bank, tmp_path):
    home, _ = published_tiny_bank(tmp_path)
    before = sha256(published_path(home))
    folder = generate(home)
    assert sha256(published_path(home)) == before, "the published database was changed"
    catalog = json.loads((folder / "catalog.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    marts = {key: node for key, node in catalog["nodes"].items() if node["metadata"]["schema"] == "marts"}
    assert {"model.c360.customer_360", "model.c360.customer_loyalty", "model.c360.customer_demographic",
            "model.c360.customer_engagement", "model.c360.identity_resolution"} <= set(marts)
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        columns = [r[0] for r in con.execute("select column_name from information_schema.columns where"
                                             " table_schema = 'marts' and table_name = 'customer_360'").fetchall()]
    assert sorted(marts["model.c360.customer_360"]["columns"]) == sorted(columns)
    described = manifest["nodes"]["model.c360.customer_360"]["columns"]
    assert described["client_id"]["description"] and all(described[c]["description"] for c in described)
    assert (folder / "index.html").is_file()


def test_make_docs_says_what_to_run_first_when_nothing_is_published(tmp_path, capsys):
    assert docs_command(tmp_path / "home") == 1
    assert "make run" in capsys.readouterr().out


def test_the_makefile_docs_targets_call_c360_docs():
    dry = subprocess.run(["make", "-n", "docs", "docs-serve", "HOME_DIR=some/home"], cwd=REPO,
                         capture_output=True, text=True)
    assert "c360 docs --home some/home" in dry.stdout and "--serve" in dry.stdout, dry.stdout + dry.stderr


# -- c360 check -------------------------------------------------------------------------------

def junit(path: Path) -> dict[str, list[ET.Element]]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return {suite.get("name"): suite.findall("testcase") for suite in root.findall("testsuite")}


def failed(cases: list[ET.Element]) -> list[ET.Element]:
    return [c for c in cases if c.find("failure") is not None or c.find("error") is not None]


def test_check_passes_on_the_published_version_and_reports_every_test(published_tiny_bank, tmp_path):
    home, _ = published_tiny_bank(tmp_path)
    before = sha256(published_path(home))
    report = tmp_path / "reports" / "check.xml"
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = run_check(home, junit_xml=report)
    assert code == 0, output.getvalue()
    assert sha256(published_path(home)) == before
    suites = junit(report)
    assert set(suites) == {"dbt", "gx.raw", "gx.staging", "gx.marts"}
    assert all(suites.values()) and not any(failed(cases) for cases in suites.values())
    dbt_names = {c.get("name") for c in suites["dbt"]}
    assert "unique_customer_360_client_id" in dbt_names
    # a warning (the tiny bank's ambiguous visitor) passes, with what was seen beside it
    warned = [c for c in suites["gx.marts"] if c.get("classname") == "marts.identity_resolution"
              and c.find("system-out") is not None]
    assert warned and "ambiguous" in warned[0].find("system-out").text
    docs = next((home / "checks").glob("*/docs/index.html"))
    assert "cdn.jsdelivr" not in docs.read_text()


def test_check_on_a_corrupted_drop_fails_with_the_expectation_and_the_dbt_test_in_junit(published_tiny_bank, tmp_path):
    home, landing = published_tiny_bank(tmp_path)
    before, batches = sha256(published_path(home)), committed_batches(home / "raw")
    # "0007" passes the raw gate and becomes a second disposition 7 in staging
    (landing / "mainframe" / "disp_1999.asc").write_bytes(
        b'"disp_id";"client_id";"account_id";"type"\r\n0007;7;7;"OWNER"\r\n')
    report = tmp_path / "check.xml"
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = run_check(home, landing=landing, junit_xml=report)
    assert code == 1, output.getvalue()
    assert sha256(published_path(home)) == before, "a check publishes nothing"
    assert committed_batches(home / "raw") == batches, "a check lands nothing in the real home"
    assert not (home / "checks" / "home").exists() and not list((home / "checks").glob("*/home"))

    suites = junit(report)
    (keys,) = [c for c in failed(suites["gx.staging"]) if c.get("classname") == "staging.keys"]
    failure = keys.find("failure")
    assert "duplicated_keys" in keys.get("name")
    assert re.fullmatch(r"\d+ of \d+ rows unexpected \([\d.]+%\); values 1 x1", failure.get("message"))
    assert "disp_id=7, rows=2" in failure.text and "model='staging.stg_mainframe__dispositions'" in failure.text
    (unique,) = [c for c in failed(suites["dbt"]) if c.get("name") == "unique_int_dispositions_joined_to_accounts_disp_id"]
    assert unique.find("failure").get("message").startswith("1 failing row;")
    assert "unique_field=7, n_records=2" in unique.find("failure").text
    assert not failed(suites["gx.raw"]) and suites["gx.marts"], "every layer is still checked"
    assert {c.get("classname") for c in failed(suites["gx.staging"]) + failed(suites["gx.marts"])} == {"staging.keys"}
