"""Shared pytest fixtures. The real public data lives in ../shared/data beside the project;
tests that need it skip with a reason where it is absent (CI has it)."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "berka" / "client.asc").is_file():
        pytest.skip(f"real public data not found at {SHARED_DATA} (CI has it beside the repo)")
    return SHARED_DATA


def link_real_landing(shared: Path, landing: Path, *, with_crm: bool = True) -> Path:
    """Place the real files in the landing layout (symlinks: nothing is copied)."""
    berka = shared / "berka"
    workshop = shared / "c360-workshop"
    links = {f"mainframe/{t}.asc": berka / f"{t}.asc"
             for t in ("client", "account", "disp", "card", "trans", "loan", "order")}
    links["reference/district.asc"] = berka / "district.asc"
    links["web/visitor_map.csv"] = workshop / "visitors" / "ga_visitors.csv"
    links |= {f"ga/{p.name}": p for p in (workshop / "ga").glob("ga_sessions_*.json")}
    if with_crm:
        links |= {f"crm/{p.name}": p for p in (workshop / "crm").glob("*.json")}
    for relative, target in links.items():
        (landing / relative).parent.mkdir(parents=True, exist_ok=True)
        (landing / relative).symlink_to(target)
    return landing


@pytest.fixture
def real_landing(shared_data: Path, tmp_path: Path) -> Path:
    """The real shared data in the landing layout, CRM sample included."""
    return link_real_landing(shared_data, tmp_path / "landing")
