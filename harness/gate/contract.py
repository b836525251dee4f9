"""`payharness contract check` and `payharness contract diff`.

* ``check``: the target's served `/openapi.json` against the pinned contract, exactly. Exit 0 match,
  1 mismatch (with one line per difference), 2 could not run (unreachable target, unreadable document).
* ``diff OLD NEW``: every change between two contract files, breaking ones first. Exit 0 when nothing
  breaks existing clients, 1 when something does, 2 when a file cannot be read.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import httpx

from harness.contract import check_contract, classify_changes, fetch_served, load_contract
from harness.errors import HarnessError
from harness.redaction import redact_text, redact_url
from harness.target import reference_target

__all__ = ["contract_check_command", "contract_diff_command"]


def contract_check_command(
    target: str | None, env: Mapping[str, str], *, out: TextIO | None = None
) -> int:
    """Compare the served contract of `target` (default: the in-process reference) with the pinned one."""
    out = out if out is not None else sys.stdout
    label = redact_url(target) if target else "in-process reference"
    try:
        if target is None:
            with reference_target(with_fakes=False) as reference, reference.client() as client:
                served = fetch_served(client)
        else:
            with httpx.Client(base_url=target, timeout=30) as client:
                served = fetch_served(client)
    except HarnessError as exc:
        out.write(redact_text(f"contract check: could not run [{exc.code}] {exc}\n"))
        return 2
    result = check_contract(served)
    out.write(f"contract check of {label}: {result.report()}\n")
    return 0 if result.matches else 1


def contract_diff_command(old: str | Path, new: str | Path, *, out: TextIO | None = None) -> int:
    """Classify the changes from contract `old` to contract `new` as breaking or not."""
    out = out if out is not None else sys.stdout
    try:
        before, after = load_contract(old), load_contract(new)
    except HarnessError as exc:
        out.write(f"contract diff: could not run [{exc.code}] {exc}\n")
        return 2
    changes = classify_changes(before, after)
    breaking = [c for c in changes if c.breaking]
    for change in changes:
        out.write(f"{change}\n")
    out.write(
        f"contract diff {old} -> {new}: {len(changes)} change(s), {len(breaking)} breaking\n"
        if changes
        else f"contract diff {old} -> {new}: no change a client can notice\n"
    )
    return 1 if breaking else 0
