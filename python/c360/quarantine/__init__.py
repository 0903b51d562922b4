"""The quarantine you can work with: `c360 quarantine list | show | release --home DIR`.

  ledger   what landing kept aside (per delivered file) and what releases took from it
  release  repaired records land in a new batch, through the same landing and gates
  report   the text of `list` and `show`

Nothing is ever deleted from the quarantine: a released record stays there, marked released,
with its lineage (release, batch, file and line it landed as). For every delivered file,
rows read = landed + quarantined + released.
"""
from c360.quarantine.ledger import Item, QuarantineError, Record, find_item, quarantined_items
from c360.quarantine.release import Repair, ReleaseOutcome, release, settle_pending
from c360.quarantine.report import describe_item, describe_list

__all__ = ["Item", "QuarantineError", "Record", "Repair", "ReleaseOutcome", "describe_item",
           "describe_list", "find_item", "quarantined_items", "release", "settle_pending"]
