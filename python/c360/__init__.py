"""c360: a Customer 360 lakehouse for a bank, on dbt + DuckDB.

The sub-packages follow the flow of data: generate/ (synthetic bank drops),
land/ (raw drops -> Parquet raw zone + quarantine), build/ (dbt), gates/
(Great Expectations), publish/ (atomic swap of the analysts' database); check/ (the
tests and suites as a CI job), docs/ (offline Data Docs, dbt docs), progress (long work).

`c360.connect("work/home/sf1")`: the published marts, read-only, for notebooks.
"""
from c360.notebook import connect

__all__ = ["connect"]
