"""Quality gates: Great Expectations suites (expectations/suites/) on every layer.

  raw      run_raw_gate     each new batch: schema, keys, codes, dates, conflicting duplicates,
                            counts vs. manifest, quarantined share per file (measured by SQL)
  staging  run_layer_gate   keys unique, links hold, plausible amounts, GA hierarchy
  marts    run_layer_gate   one row per client, counts and ratios in range, distributions

A failed `critical` expectation stops the run; `warning`/`info` ones are reported only.
The frames come from an engine (c360.engines: DuckDB or Spark); the logic is here, once.
"""
from c360.gates.engine import Frame, GxSession
from c360.gates.layers import run_layer_gate
from c360.gates.raw import record_passed, reject_batch, run_raw_gate, ungated_batches
from c360.gates.report import GateResult, Outcome
from c360.gates.suites import Suite, SuiteError, expectations_dir, load_suites

__all__ = ["Frame", "GateResult", "GxSession", "Outcome", "Suite", "SuiteError", "expectations_dir",
           "load_suites", "record_passed", "reject_batch", "run_layer_gate", "run_raw_gate",
           "ungated_batches"]
