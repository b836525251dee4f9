"""Generated cases a target's profile rules out, and the operations they rule out whole.

A contract test drives one operation with many generated requests. Through a contract adapter, the service's
profile may rule a request out (`501 not_applicable`: a capability it lacks, an amount its money cannot
hold): the contract has no answer to judge there, so that case is not judged. The cases that remain are
judged as ever. When *every* case of the operation was ruled out, the operation itself does not apply to the
target: its result ends *not applicable* with the profile's reasons (:func:`verdict_of`, read by the suites'
plugin as the operation's subtest reports), never passed on nothing. A target that never answers `not_applicable` (the reference) is judged
on every case, exactly as without this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.report import ruled_out_by_profile

__all__ = ["CASES", "CaseTally", "verdict_of"]


@dataclass(slots=True)
class _Operation:
    judged: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class CaseTally:
    """Per operation (schemathesis label, `POST /v1/usage`): cases judged, and why others were ruled out."""

    operations: dict[str, _Operation] = field(default_factory=dict)

    def rule_out(self, label: str, response: Any) -> bool:
        """Whether `response` (a `requests` answer) rules its case out; counted with its reason if so."""
        reason = _not_applicable(response)
        if reason is None:
            return False
        reasons = self.operations.setdefault(label, _Operation()).reasons
        reasons[reason] = reasons.get(reason, 0) + 1
        return True

    def judged(self, label: str) -> None:
        """Count one judged case of operation `label`."""
        self.operations.setdefault(label, _Operation()).judged += 1

    def ruled_out(self) -> int:
        """How many cases of every operation were ruled out."""
        return sum(sum(o.reasons.values()) for o in self.operations.values())

    def verdict(self, label: str) -> str | None:
        """The not-applicable reason of operation `label` when none of its cases could be judged."""
        found = self.operations.get(label)
        if found is None or found.judged or not found.reasons:
            return None
        return "; ".join(sorted(found.reasons))


def _not_applicable(response: Any) -> str | None:
    return ruled_out_by_profile(response)


def verdict_of(item: pytest.Item) -> str | None:
    """The not-applicable reason of the schemathesis operation `item` is running as a subtest (its node id
    ends `[POST /v1/usage]` meanwhile), when none of that operation's cases could be judged."""
    tally = item.stash.get(CASES, None)
    nodeid = item.nodeid
    if tally is None or not nodeid.endswith("]") or "[" not in nodeid:
        return None
    return tally.verdict(nodeid[nodeid.rindex("[") + 1 : -1])


#: the tally of the running contract test (set by its fixture, read by the plugin as each operation ends)
CASES = pytest.StashKey[CaseTally]()
