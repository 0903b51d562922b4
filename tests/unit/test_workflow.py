"""The example CI workflow, .github/workflows/data-quality.yml: valid YAML whose commands exist."""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import yaml

from c360.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "data-quality.yml"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def commands(job: dict) -> list[list[str]]:
    """Every command the job's `run:` steps run, with the job's env and ${{ env.X }} expanded."""
    env = {k: str(v) for k, v in job.get("env", {}).items()}
    found = []
    for step in job["steps"]:
        script = step.get("run")
        if not script:
            continue
        script = re.sub(r"\$\{\{\s*env\.(\w+)\s*\}\}", lambda m: env[m.group(1)], script)
        for line in script.replace("\\\n", " ").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), line)
                found.append(shlex.split(expanded))
    return found


def test_the_workflow_is_valid_and_runs_c360_check_and_uploads_its_reports():
    body = workflow()
    triggers = body[True] if True in body else body["on"]   # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers
    (job,) = body["jobs"].values()
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    assert "actions/upload-artifact" in uses and "mikepenz/action-junit-report" in uses
    for step in job["steps"]:
        assert "uses" not in step or re.search(r"@v\d+$", step["uses"]), f"pin a major version: {step['uses']}"
    ran = [c[:2] for c in commands(job)]
    assert ["c360", "check"] in ran
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert job["env"]["C360_REPORT"] in upload["with"]["path"].replace("${{ env.C360_REPORT }}", job["env"]["C360_REPORT"])
    assert "checks/" in upload["with"]["path"], "the Data Docs of the check are uploaded"


def test_every_command_the_workflow_runs_exists():
    (job,) = workflow()["jobs"].values()
    parser = build_parser()
    for command in commands(job):
        if command[0] == "c360":
            args = parser.parse_args(command[1:])       # exits (fails the test) on an unknown option
            assert callable(args.func)
        elif command[:3] == ["python", "-m", "pip"]:
            assert command[3] == "install"
            for index, word in enumerate(command):
                if word == "-c":
                    assert (REPO / command[index + 1]).is_file(), command[index + 1]
                if word == "-e":
                    assert (REPO / command[index + 1] / "pyproject.toml").is_file()
        else:
            raise AssertionError(f"unexpected command in the workflow: {command}")
    assert os.access(REPO / ".ci" / "run", os.X_OK)
