"""c360 on Apache Spark: the same dbt project, gates and raw zone, on a SparkSession.

  session   local_session()            the local PySpark session (local[2], UTC, small shuffles)
  build     build_on_spark()           `dbt build --target spark` into a new build folder
  (gates)   c360.engines.spark       the gates' frames from Spark (SparkEngine) and GX's
                                       Spark data source (SparkGxSession); the gates are c360.gates
  publish   publish_spark_build()      Parquet folders + an atomic `current` pointer; DuckDB
                                       reads them (duckdb_views)
  target    SparkTarget                what `c360 run --target spark` calls

Installing Spark is optional: `pip install -c constraints.txt -e ".[spark]"` (pyspark and
dbt-spark[session]; Java 17). Nothing here is imported by the DuckDB path.
"""
from c360.spark.target import SparkTarget

__all__ = ["SparkTarget"]
