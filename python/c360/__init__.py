"""c360: a Customer 360 lakehouse for a bank, on dbt + DuckDB.

The sub-packages follow the flow of data: generate/ (synthetic bank drops),
land/ (raw drops -> Parquet raw zone + quarantine), build/ (dbt), gates/
(Great Expectations), publish/ (atomic swap of the analysts' database).
"""
