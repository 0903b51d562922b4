"""The generator's calibration constants still match the real public data they came from."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from c360.generate import calibration, generate_dataset
from c360.generate.calibrate import _key_paths, derive, render
from c360.generate.formats import write_district

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(not (DATA / "berka").is_dir(), reason=f"real data not found at {DATA} (CI has it)"),
]


@pytest.fixture(scope="module")
def derived() -> dict:
    return derive(DATA)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("drop")
    generate_dataset(out, 0.01, seed=3)
    return out


def test_stored_constants_match_the_real_data(derived):
    stored = {name: getattr(calibration, name) for name in dir(calibration) if name.isupper()}
    assert set(stored) == set(derived)
    for name, value in derived.items():
        assert stored[name] == value, f"{name} drifted: rerun python -m c360.generate.calibrate"


def test_calibration_module_is_exactly_the_rendered_derivation(derived):
    assert Path(calibration.__file__).read_text(encoding="utf-8") == render(derived)


def test_district_reference_is_reproduced_byte_for_byte(tmp_path):
    written = tmp_path / "district.asc"
    write_district(written, calibration.DISTRICTS)
    assert written.read_bytes() == (DATA / "berka" / "district.asc").read_bytes()


def test_generated_transaction_codes_are_real_code_combinations(generated):
    con = duckdb.connect()
    options = "sep=';', header=true, all_varchar=true, allow_quoted_nulls=false"
    real = set(con.execute(f"""select distinct type, operation, k_symbol
        from read_csv('{DATA / 'berka' / 'trans.asc'}', {options}, ignore_errors=true)""").fetchall())
    ours = set(con.execute(f"""select distinct type, operation, k_symbol
        from read_csv('{generated / 'mainframe' / 'trans_*.asc'}', {options})""").fetchall())
    assert ours <= real, ours - real


def test_generated_ga_sessions_have_the_real_key_tree(generated):
    def key_tree(folder: Path) -> set[str]:
        sessions = [json.loads(line) for path in folder.glob("ga_sessions_*.json")
                    for line in path.read_text(encoding="utf-8").splitlines()]
        return set().union(*(_key_paths(s) for s in sessions))

    assert key_tree(generated / "ga") == key_tree(DATA / "c360-workshop" / "ga")
