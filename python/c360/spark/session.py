"""The local SparkSession c360 builds on (development, CI, tests): small, predictable, UTC.

dbt-spark's `method: session` runs its SQL on the active SparkSession of the process
(`SparkSession.builder.getOrCreate()`), so whoever starts the session first decides its
settings. `local_session()` starts it with settings sized for a laptop or a 2-core CI box;
on a cluster, the cluster decides (profiles.yml `method: thrift` / `http`).

Settings, and why:
  master local[2], shuffle partitions 4   two cores; the default 200 partitions make every
                                          small shuffle 200 tiny tasks
  spark.sql.session.timeZone UTC          dates and timestamps as DuckDB computes them
  spark.sql.ansi.enabled false            what dbt-spark forces on every statement anyway
                                          (its server-side parameter), so gates and publish
                                          see the same semantics as the build
  spark.sql.parquet.mergeSchema true      raw batches read by column name (DuckDB's union_by_name)
  spark.sql.parquet.outputTimestampType   TIMESTAMP_MICROS, not the legacy INT96: what DuckDB
                                          and pyarrow read as timestamps without surprises
  catalog in-memory (no Hive)             no metastore_db/ or derby.log in the working folder;
                                          the build's tables are external Parquet folders, so
                                          the catalog is only needed while the build runs
  UI off, small driver memory             nothing listens on a port; fits beside DuckDB builds
  partition discovery on the driver       a table partitioned by day has thousands of folders;
                                          above 32 Spark lists them with a distributed job (one
                                          task per folder): on one machine the driver lists
                                          them with less overhead
  output committer v2                     tasks move their files into place themselves: one
                                          rename per file instead of two at job commit
  JVM: C1 JIT only, serial GC             a local build is hundreds of short queries on a
                                          short-lived JVM: full (C2) JIT compilation costs
                                          more than it saves there (the first queries of a
                                          session run about 2x faster); clusters keep theirs

Override any setting with `conf={...}`, or the master with C360_SPARK_MASTER (e.g. `yarn` on an
EMR primary node: DEFAULT_CONF applies, LOCAL_CONF (sizes, JVM flags) does not).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DEFAULT_MASTER = "local[2]"
# Every session c360 starts.
DEFAULT_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.parquet.mergeSchema": "true",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "2",
}
# Only a local master (`local[...]`): sized for one small machine; a cluster keeps its own.
LOCAL_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "1g",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
}


class SparkUnavailable(RuntimeError):
    """PySpark (the `spark` extra) is not installed, or Java cannot start a session."""


def local_session(*, app_name: str = "c360", master: str | None = None,
                  conf: dict[str, str] | None = None, warehouse: Path | None = None):
    """Start (or return the already running) SparkSession with c360's local settings.

    A session that is already running keeps its static settings (master, catalog, memory);
    the runtime ones (shuffle partitions, time zone, ...) are applied to it.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise SparkUnavailable("PySpark is not installed: install the spark extra "
                               "(pip install -c constraints.txt -e '.[spark]')") from error

    master = master or os.environ.get("C360_SPARK_MASTER", DEFAULT_MASTER)
    settings = DEFAULT_CONF | (LOCAL_CONF if master.startswith("local") else {})
    # Python workers (GX's Python UDFs) run this interpreter, the one with c360's packages.
    settings |= {"spark.pyspark.python": sys.executable} | (conf or {})
    warehouse = Path(warehouse or Path(tempfile.gettempdir()) / "c360-spark-warehouse")
    settings.setdefault("spark.sql.warehouse.dir", str(warehouse.resolve()))
    builder = SparkSession.builder.master(master)
    builder = builder.appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # Java missing or unable to start
        raise SparkUnavailable(f"cannot start a local SparkSession: {error}") from error
    spark.sparkContext.setLogLevel("ERROR")
    return spark

