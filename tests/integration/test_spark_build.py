"""The same dbt project and gates on Apache Spark (local PySpark, dbt-spark `session`).

A generated bank (scale 0.01) goes through `c360 run --target spark` and `c360 run` into one
home: land, raw gate, build (every model, snapshot, dbt data and unit test), staging and marts
gates, publish (Parquet under <home>/spark/current; <home>/c360.duckdb). The real shared data
is landed once and built twice, by DuckDB and by Spark (models only: its dbt tests run on
DuckDB in test_dbt_real_data), and gated on both. Each time the Spark build's published
`customer_360` must equal the DuckDB build's contract columns row for row. One SparkSession
serves the whole module.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import time
from pathlib import Path

import duckdb
import pytest
import yaml

pytest.importorskip("pyspark", reason="the spark extra is not installed (make test installs it)")
pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed (make test installs it)")

from c360.build import SELECT_BEFORE_MARTS, SELECT_MARTS, build_models  # noqa: E402
from c360.gates import GxSession, run_layer_gate, run_raw_gate  # noqa: E402
from c360.land import land_directory  # noqa: E402
from c360.land.manifest import committed_batches  # noqa: E402
from c360.pipeline import run_pipeline  # noqa: E402
from c360.publish import PublishedVersion  # noqa: E402
from c360.spark import SparkTarget  # noqa: E402
from c360.spark.publish import duckdb_views, published_spark_dir, read_published_spark  # noqa: E402

from tests.conftest import REPO_ROOT, link_real_landing  # noqa: E402

pytestmark = pytest.mark.slow

SCALE = 0.01
# The real-data builds run the models only, to keep a 2-core CI box's time reasonable: the same
# SQL's dbt tests run on the real data in DuckDB (test_dbt_real_data) and on Spark at scale 0.01
# (`c360 run --target spark` below). Every build is gated by the GX suites.
NO_TESTS = "resource_type:test resource_type:unit_test"


def contract_columns(model: str = "customer_360") -> list[str]:
    spec = yaml.safe_load((REPO_ROOT / "models/marts/customer/_customer__models.yml").read_text())
    (node,) = [m for m in spec["models"] if m["name"] == model]
    assert node["config"]["contract"]["enforced"]
    return [c["name"] for c in node["columns"]]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from c360.spark.session import local_session

    session = local_session(app_name="c360 spark tests",
                            warehouse=tmp_path_factory.mktemp("spark_warehouse"))
    yield session
    session.stop()


class Run:
    """What one data set's two builds and gates produced."""

    def __init__(self, home: Path, duckdb_path: Path | None = None):
        self.home = home
        self.duckdb_path = duckdb_path or home.parent / "duckdb" / "c360.duckdb"
        self.seconds: dict[str, float] = {}
        self.gates: dict[str, object] = {}      # name -> GateResult, {batch: GateResult}, or a run record's summary
        self.counts: dict[str, int] = {}        # what the Spark dbt builds ran, by resource type
        self.published: Path | None = None
        self.spark_run: dict = {}               # the run record of `c360 run --target spark`

    def timed(self, name: str, function, *args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 1)


def run_both(spark, home: Path) -> Run:
    """Gate and build the landed `home` on DuckDB and on Spark, models only, stage by stage
    as `c360 run` and `c360 run --target spark` do."""
    run = Run(home)
    batches = committed_batches(home / "raw")
    docs = home.parent / "docs"

    # DuckDB: its dbt tests run in tests/integration/test_dbt_*; here the build and the gates.
    duck_session = GxSession(docs / "duckdb", "duckdb")
    run.gates["duckdb raw"] = run.timed("duckdb raw gate", run_raw_gate, home, batches, duck_session)
    run.timed("duckdb build", build_models, duckdb_path=run.duckdb_path, raw_root=home / "raw",
              exclude=NO_TESTS)
    for layer in ("staging", "marts"):
        run.gates[f"duckdb {layer}"] = run.timed(f"duckdb {layer} gate", run_layer_gate, layer,
                                                 run.duckdb_path, duck_session, new_batches=None)

    # Spark: the stages of `c360 run --target spark`.
    target = SparkTarget(home, "spark-test", spark=spark)
    session = target.gx_session(docs / "spark", "spark")
    run.gates["spark raw"] = run.timed("spark raw gate", target.raw_gate, batches, session)
    target.start_build()
    for layer, select in (("staging", SELECT_BEFORE_MARTS), ("marts", SELECT_MARTS)):
        build = run.timed(f"spark build {layer}", _build, target, select, NO_TESTS)
        for kind, n in build.counts.items():
            run.counts[kind] = run.counts.get(kind, 0) + n
        run.gates[f"spark {layer}"] = run.timed(f"spark {layer} gate", target.layer_gate, layer,
                                                session, None)
    version = PublishedVersion(build_id="spark-test", as_of_date=target.as_of_date(), batches=batches,
                               built_at="", build_seconds=sum(run.seconds.values()),
                               gates={k: v.summary() for k, v in run.gates.items()
                                      if not isinstance(v, dict)})
    run.published = run.timed("spark publish", target.publish, version)
    print(f"\n{home.parent.name} timings (s): {run.seconds}")
    return run


def _build(target: SparkTarget, select: str, exclude: str | None):
    from c360.spark.build import build_on_spark

    return build_on_spark(target.spark, build_dir=target.build_dir, raw_root=target.home / "raw",
                          select=select, exclude=exclude)


@pytest.fixture(scope="module")
def generated(spark, tmp_path_factory) -> Run:
    """`c360 run --target spark`, then `c360 run`, on one home (the Spark run lands and
    raw-gates the batch; the DuckDB run finds it gated and builds from it)."""
    from c360.generate import generate_dataset

    root = tmp_path_factory.mktemp("spark_generated")
    generate_dataset(out_dir=root / "landing", scale=SCALE, seed=11)
    home = root / "home"
    run = Run(home, duckdb_path=home / "c360.duckdb")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        codes = (run.timed("c360 run --target spark", run_pipeline, landing=root / "landing", home=home,
                           target="spark"),
                 run.timed("c360 run", run_pipeline, landing=root / "landing", home=home))
    assert codes == (0, 0), output.getvalue()[-6000:]
    records = [json.loads(p.read_text()) for p in sorted((home / "runs").glob("*.json"))]
    (spark_run,) = [r for r in records if r.get("target") == "spark"]
    (duckdb_run,) = [r for r in records if r.get("target", "duckdb") == "duckdb"]
    run.spark_run = spark_run
    run.gates |= {f"spark {gate}": summary for gate, summary in spark_run["gates"].items()}
    run.gates |= {f"duckdb {gate}": summary for gate, summary in duckdb_run["gates"].items()
                  if summary.get("expectations")}
    # the batch was raw-gated on Spark: gate it with the pandas engine too
    run.gates["duckdb raw"] = run_raw_gate(home, committed_batches(home / "raw"),
                                           GxSession(root / "docs", "duckdb raw"))
    for stage in spark_run["stages"]:
        if stage["name"].startswith("build"):
            for n, kind in re.findall(r"(\d+) (model|seed|snapshot|unit_test|test)\b", stage["detail"]):
                run.counts[kind] = run.counts.get(kind, 0) + int(n)
    run.published = home / "spark" / "current"
    print(f"\ngenerated timings (s): {run.seconds}; Spark run stages:"
          f" {[(s['name'], round(s['seconds'], 1)) for s in spark_run['stages']]}")
    return run


@pytest.fixture(scope="module")
def real(spark, shared_data, tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("spark_real")
    # Without the CRM sample (a malformed feed, quarantined whole, that the raw gate rightly
    # refuses): the CRM source then has no raw file at all, which Spark reads as the typed
    # empty relation of an `allow_empty` source, as DuckDB does.
    landing = link_real_landing(shared_data, root / "landing", with_crm=False)
    land_directory(landing=landing, home=root / "home")
    return run_both(spark, root / "home")


def assert_customer_360_equal(run: Run) -> int:
    columns = contract_columns()
    listed = ", ".join(f'"{c}"' for c in columns)
    with duckdb.connect() as con:
        duckdb_views(con, run.home)            # the published Spark build: marts.customer_360
        con.execute(f"attach '{run.duckdb_path}' as duck (read_only)")
        duck = con.execute(f"select {listed} from duck.marts.customer_360").fetchall()
        types = {r[0]: r[1] for r in con.execute("describe duck.marts.customer_360").fetchall()}
        on_spark = {r[0]: r[1] for r in con.execute("describe marts.customer_360").fetchall()}
        assert list(on_spark) == columns, "the Spark build's columns differ from the contract"
        assert {c: on_spark[c] for c in columns} == {c: types[c] for c in columns}
        only_duckdb = con.execute(f"select {listed} from duck.marts.customer_360 except all"
                                  f" select {listed} from marts.customer_360").fetchall()
        only_spark = con.execute(f"select {listed} from marts.customer_360 except all"
                                 f" select {listed} from duck.marts.customer_360").fetchall()
    assert (only_duckdb, only_spark) == ([], []), (
        f"{len(only_duckdb)} rows only in the DuckDB build, {len(only_spark)} only in Spark's;"
        f" e.g. {only_duckdb[:2]} vs {only_spark[:2]}")
    return len(duck)


def assert_gates_passed(run: Run, *names: str) -> None:
    assert set(names) <= set(run.gates), f"gates that did not run: {set(names) - set(run.gates)}"
    for name, result in run.gates.items():
        if isinstance(result, dict) and "passed" in result:          # a run record's summary
            assert result["passed"] and result["expectations"], f"{name}: {result}"
            continue
        results = result.values() if isinstance(result, dict) else [result]
        assert results, f"{name}: nothing was gated"
        for one in results:
            assert one.passed, f"{name}:\n{one.describe()}"
            assert one.outcomes, f"{name}: no expectation ran"


# --- generated bank (scale 0.01) ----------------------------------------------------------------

def test_c360_run_on_spark_builds_every_model_seed_snapshot_and_dbt_test(generated: Run):
    assert generated.spark_run["outcome"] == "published"
    counts = generated.counts
    assert counts.get("model", 0) >= 30 and counts.get("seed", 0) >= 10
    assert counts.get("snapshot", 0) >= 1 and counts.get("unit_test", 0) >= 10
    assert counts.get("test", 0) >= 200


def test_spark_customer_360_equals_duckdb_row_for_row_generated(generated: Run):
    assert assert_customer_360_equal(generated) > 0


def test_gates_pass_on_duckdb_and_spark_builds_generated(generated: Run):
    assert_gates_passed(generated, "spark raw", "spark staging", "spark marts",
                        "duckdb raw", "duckdb staging", "duckdb marts")


def test_spark_build_is_published_as_parquet_duckdb_reads(generated: Run):
    assert generated.published == generated.home / "spark" / "current"
    build_dir = published_spark_dir(generated.home)
    run_id = generated.spark_run["run_id"]
    assert build_dir is not None and build_dir.name == run_id
    version = read_published_spark(generated.home)
    assert version.build_id == run_id and version.as_of_date
    assert version.gates["marts"]["passed"]
    with duckdb.connect() as con:
        names = duckdb_views(con, generated.home)
        # every model of the build, the view identity_resolution frozen into Parquet
        assert {"marts.customer_360", "marts.identity_resolution", "staging.stg_mainframe__transactions",
                "intermediate.int_as_of_date"} <= set(names)
        as_of = con.execute("select max(as_of_date) from marts.customer_360").fetchone()[0]
    assert as_of.isoformat() == version.as_of_date


# --- the real shared data ---------------------------------------------------------------------

@pytest.mark.real_data
def test_spark_customer_360_equals_duckdb_row_for_row_real(real: Run):
    assert assert_customer_360_equal(real) == 5369


@pytest.mark.real_data
def test_gates_pass_on_duckdb_and_spark_builds_real(real: Run):
    assert_gates_passed(real, "spark raw", "spark staging", "spark marts",
                        "duckdb raw", "duckdb staging", "duckdb marts")
