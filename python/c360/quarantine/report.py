"""The text of `c360 quarantine list` and `c360 quarantine show`."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from c360.land.manifest import committed_batches
from c360.quarantine.ledger import Item, quarantined_items, read_releases

REASONS_LISTED = 3


def describe_list(home: Path) -> str:
    home = Path(home)
    items = quarantined_items(home)
    if not items:
        lines = [f"nothing in quarantine in {home}"]
    else:
        waiting = sum(i.rows_quarantined for i in items)
        released = sum(i.rows_released for i in items)
        lines = [f"quarantine of {home}: {len(items)} delivered file(s), {waiting:,} record(s) quarantined,"
                 f" {released:,} released",
                 f"  {'read':>10} {'landed':>10} {'quarantined':>11} {'released':>9}  file (id for show/release)"]
        for item in items:
            check = "" if item.balanced else "  ! read != landed + quarantined + released"
            lines.append(f"  {item.rows_read:>10,} {item.rows_landed:>10,} {item.rows_quarantined:>11,}"
                         f" {item.rows_released:>9,}  {item.item_id}{check}")
            kind = "kept aside whole: " if item.whole_file else ""
            for reason, count in _reasons(item).most_common(REASONS_LISTED):
                lines.append(f"  {'':>43}  {count:,} x {kind}{reason}")
            notes = {r.note for r in item.records if r.note}
            lines.extend(f"  {'':>43}  ! {note}" for note in sorted(notes))
        lines.append("  every file: read = landed + quarantined + released"
                     + ("" if all(i.balanced for i in items) else " -- NOT for the files marked !"))
    lines += _releases(home)
    rejected = sorted((home / "rejected").glob("batch=*/verdict.json"))
    if rejected:
        lines.append("batches the raw gate rejected (not in the raw zone; deliver corrected files again):")
        lines.extend(f"  {p.parent}" for p in rejected)
    return "\n".join(lines)


def describe_item(item: Item, *, records_only: bool = False) -> str:
    waiting = [r for r in item.records if not r.released]
    if records_only:  # the texts still quarantined, one per line: a file to correct
        return "\n".join(r.text or "" for r in waiting)
    lines = [f"{item.item_id}",
             f"  table         {item.source}.{item.table}" if item.table else "  table         (file name not recognised)",
             f"  counts        read {item.rows_read:,} = landed {item.rows_landed:,} + quarantined"
             f" {item.rows_quarantined:,} + released {item.rows_released:,}"
             + ("" if item.balanced else "  ! DOES NOT ADD UP"),
             f"  quarantine    {item.quarantine_file}"]
    if item.whole_file:
        lines.append(f"  kept whole    {item.copy}")
    for record in item.records:
        where = f"line {record.line}" if record.line is not None else "whole file"
        if record.released:
            at = f" line {record.released.as_line}" if record.released.as_line else ""
            state = (f"released by {record.released.release_id} into batch {record.released.batch_id}"
                     f" as {record.released.as_file}{at}; was quarantined")
        else:
            state = "quarantined" + (f" ({record.note})" if record.note else "")
        lines.append(f"  {where:<11} {state}: {record.reason}")
        if record.text is not None:
            lines.append(f"  {'':<11} | {record.text[:300]}")
    return "\n".join(lines)


def _reasons(item: Item) -> Counter:
    return Counter(r.reason for r in item.records if not r.released)


def _releases(home: Path) -> list[str]:
    releases = read_releases(home)
    if not releases:
        return []
    committed = set(committed_batches(home / "raw"))
    lines = [f"releases ({home / 'quarantine' / 'releases'}):"]
    for body in releases:
        origin = body["origin"]
        repair = body["repair"]["kind"]
        lines.append(f"  {body['release_id']} {body['state']}: {len(body['records']):,} record(s) of"
                     f" {origin['batch_id']}/{origin['source_file']} -> batch {body.get('batch_id') or '-'}"
                     f" as {body['release_file']} (repair: {repair})")
        if origin["batch_id"] not in committed:
            lines.append(f"    ! the batch they came from is no longer in the raw zone"
                         f" (rejected: {home / 'rejected' / ('batch=' + origin['batch_id'])})")
    return lines
