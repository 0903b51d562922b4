"""Documentation of the data: Great Expectations Data Docs that work offline (`offline`), and
the dbt docs of the published build (`dbt_docs`: `make docs`, `c360 docs`)."""
