"""Landing: raw drops -> typed-as-delivered Parquet raw zone, bad input quarantined."""
from c360.land.landing import LandingReport, land_directory
from c360.land.manifest import FileReport
from c360.land.sources import SOURCE_TABLES, SourceTable, match_source_table

__all__ = ["FileReport", "LandingReport", "SOURCE_TABLES", "SourceTable", "land_directory",
           "match_source_table"]
