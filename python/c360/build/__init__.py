"""Build the dbt models (staging -> intermediate -> marts) on DuckDB, programmatically.

`build_models` runs `dbt build` through dbt's Python entry point with the raw zone and the
DuckDB file given as arguments; `resolve_as_of` reads back the point in time a build used.
"""
from c360.build.runner import (
    PROJECT_DIR, SELECT_BEFORE_MARTS, SELECT_MARTS, BuildResult, DbtBuildError, NodeFailure,
    build_models, generate_docs, resolve_as_of, validate_as_of,
)

__all__ = ["PROJECT_DIR", "SELECT_BEFORE_MARTS", "SELECT_MARTS", "BuildResult", "DbtBuildError",
           "NodeFailure", "build_models", "generate_docs", "resolve_as_of", "validate_as_of"]
