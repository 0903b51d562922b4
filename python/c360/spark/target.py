"""`c360 run --target spark`: the stages of a run that differ on Spark, behind one object.

The run itself (land -> raw gate -> build staging -> staging gate -> build marts -> marts gate
-> publish, its records, exit codes and Data Docs) is c360.pipeline's; on the Spark target it
calls these methods where the DuckDB target calls c360.gates / c360.build / c360.publish:

    target = SparkTarget(home, run_id)                 # starts the local SparkSession lazily
    session = target.gx_session(docs_dir, run_id)      # instead of GxSession(...)
    target.raw_gate(batches, session, parameters)      # instead of run_raw_gate(home, ...)
    target.start_build()                               # instead of remove_old_builds + new_build_path
    target.build(select, as_of)                        # instead of build_models(...)
    target.layer_gate(layer, session, new_batches)     # instead of run_layer_gate(...)
    target.as_of_date()                                # instead of resolve_as_of(build_path)
    target.published_batches()                         # instead of read_published(home).batches
    target.publish(version)                            # instead of publish(build_path, home, version)

The landing stage is the same on both targets: `c360 land` writes the raw Parquet zone that
DuckDB and Spark both read.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from c360.gates.report import GateResult
from c360.publish import PublishedVersion


class SparkTarget:
    name = "spark"

    def __init__(self, home: Path, run_id: str, *, spark=None):
        self.home = Path(home).resolve()
        self.run_id = run_id
        self._spark = spark
        self.build_dir: Path | None = None
        self.carried_over: list[str] = []

    @property
    def spark(self):
        if self._spark is None:
            from c360.spark.session import local_session

            self._spark = local_session(app_name=f"c360 run {self.run_id}")
        return self._spark

    def gx_session(self, docs_dir: Path, run_name: str):
        from c360.engines.spark import SparkGxSession

        self.spark  # GX's Spark data source attaches to the running session
        return SparkGxSession(docs_dir, run_name)

    def raw_gate(self, batches: list[str], session, parameters: dict | None = None) -> dict[str, GateResult]:
        from c360.engines.spark import SparkEngine
        from c360.gates import run_raw_gate

        return run_raw_gate(self.home, batches, session, parameters=parameters, engine=SparkEngine(self.spark))

    def start_build(self) -> Path:
        """Remove earlier unpublished builds; the folder this run's build writes to. The
        session's catalog starts from the published build's snapshots (the CRM history)."""
        from c360.spark.publish import (
            carry_over_snapshots, forget_build_catalog, new_spark_build_dir, remove_old_spark_builds,
        )

        remove_old_spark_builds(self.home)
        forget_build_catalog(self.spark)
        self.carried_over = carry_over_snapshots(self.spark, self.home)
        self.build_dir = new_spark_build_dir(self.home, self.run_id)
        return self.build_dir

    def build(self, select: str | None, as_of: str | date | None = None):
        """One dbt step into this run's build folder; raises c360.build.DbtBuildError."""
        from c360.spark.build import build_on_spark

        if self.build_dir is None:
            self.start_build()
        return build_on_spark(self.spark, build_dir=self.build_dir, raw_root=self.home / "raw",
                              as_of=as_of, select=select)

    def layer_gate(self, layer: str, session, new_batches: list[str] | None) -> GateResult:
        from c360.engines.spark import SparkEngine
        from c360.gates import run_layer_gate

        return run_layer_gate(layer, SparkEngine(self.spark), session, new_batches=new_batches)

    def as_of_date(self) -> str | None:
        from c360.spark.build import resolve_as_of_on_spark

        value = resolve_as_of_on_spark(self.spark)
        return value.isoformat() if value is not None else None

    def published_batches(self) -> set[str]:
        from c360.spark.publish import read_published_spark

        published = read_published_spark(self.home)
        return set(published.batches) if published else set()

    def publish(self, version: PublishedVersion) -> Path:
        from c360.spark.publish import publish_spark_build

        return publish_spark_build(self.spark, self.build_dir, self.home, version)
