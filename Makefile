# Two commands do everything on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCALE  ?= 1
WORK   ?= work
LANDING := $(WORK)/landing/sf$(SCALE)
HOME_DIR := $(WORK)/home/sf$(SCALE)
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: setup setup-extras run test bench docs docs-serve clean

# A quick no-op when neither the pins nor the package metadata changed.
setup: $(VENV)/.installed
$(VENV)/.installed: constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -c constraints.txt setuptools wheel
	$(PIP) -c constraints.txt --no-build-isolation -e ".[test]"
	touch $@

# The optional extras: Spark (pyspark, dbt-spark[session]; Java 17) and the graph engine
# (gremlite, gremlinpython). `make test` runs the Spark build and the graph tests; `make run`
# stays lean without them.
EXTRAS := test,spark,graph
setup-extras: $(VENV)/.installed-extras
$(VENV)/.installed-extras: $(VENV)/.installed constraints.txt pyproject.toml
	$(PIP) -c constraints.txt --no-build-isolation -e ".[$(EXTRAS)]"
	touch $@

run: setup
	$(BIN)/c360 generate --scale $(SCALE) --out $(LANDING)
	$(BIN)/c360 run --landing $(LANDING) --home $(HOME_DIR)

test: setup setup-extras
	$(BIN)/python -m pytest

# Benchmarks (not part of `make test`): scales 1 and 10 by default;
# `make bench BENCH_ARGS="--scales 100"` adds scale 100 to BENCHMARKS.md.
BENCH_ARGS ?=
bench: setup setup-extras
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# dbt docs of the published build in $(HOME_DIR) (after `make run`; says so when nothing is
# published yet): the catalog comes from a copy of $(HOME_DIR)/c360.duckdb, never the file itself.
DOCS_PORT ?= 8080
docs: setup
	$(BIN)/c360 docs --home $(HOME_DIR)

docs-serve: setup
	$(BIN)/c360 docs --home $(HOME_DIR) --serve --port $(DOCS_PORT)

clean:
	rm -rf $(WORK) target logs dbt_packages
