"""c360: a Customer 360 lakehouse for a bank, on dbt + DuckDB.

The sub-packages follow the flow of data: generate/ (synthetic bank drops),
land/ (raw drops -> Parquet raw zone + quarantine), build/ (dbt), gates/
(Great Expectations), publish/ (atomic swap of the analysts' database).
"""

from c360.notebook import connect  # noqa: E402  `import c360; con = c360.connect("work/home/sf1")`

__all__ = ["connect"]
