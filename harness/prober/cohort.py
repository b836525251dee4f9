"""Synthetic test-cohort accounts: minted through the target's API, always reaped by the one who minted.

PRIOR_ART.md §3 (cross-cutting pattern 5): synthetic accounts are tagged `is_test_cohort`, reaped with a
guarded delete in a `finally`, and a sweep job on the target is the backstop for a reap that fails. The
guard that matters is on the target's side (the reference refuses 409 `not_test_cohort`); on ours, only an
id returned by our own mint is ever passed to `reap`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from .config import HTTP_TIMEOUT_CAP_SECONDS
from .http import Answer, ProbeHttp
from .profile import CohortSpec
from .templates import TemplateValues, render_path, render_value

__all__ = ["Mint", "field_at", "mint", "reap"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Mint:
    """A mint attempt: the new account id, or the answer that explains why there is none."""

    account_id: str | None
    answer: Answer

    def failure(self) -> str:
        """Why the mint gave no account, for a reason text."""
        if self.answer.status is not None and 200 <= self.answer.status < 300:
            return f"{self.answer.status} but no account id in the answer"
        return self.answer.describe()


def field_at(body: Any, dotted: str) -> Any:
    """The value at a dotted path (`data.id`) in a JSON object, or None."""
    for part in dotted.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


async def mint(http: ProbeHttp, cohort: CohortSpec, values: TemplateValues) -> Mint:
    """Create one test-cohort account; a 2xx with an id at `cohort.id_field` is a success."""
    answer = await http.request(
        cohort.create.method,
        render_path(cohort.create.path, values),
        json_body=render_value(cohort.create.body or {}, values),
    )
    account_id = None
    if answer.status is not None and 200 <= answer.status < 300:
        found = field_at(answer.json(), cohort.id_field)
        if isinstance(found, str | int) and str(found):
            account_id = str(found)
    return Mint(account_id=account_id, answer=answer)


async def reap(http: ProbeHttp, cohort: CohortSpec, account_id: str) -> str | None:
    """Delete an account this run minted; return None when it is gone, else why not. Never raises.

    A failed reap is the caller's to log (`payment_probe_cohort_reap_failed`), never a leg failure. It runs
    in its own bounded time even when the leg around it was cancelled by its timeout, so an account minted
    before the timeout is still reaped, before the leg is recorded.
    """
    path = render_path(cohort.delete_path, {"account_id": account_id})
    try:
        async with asyncio.timeout(HTTP_TIMEOUT_CAP_SECONDS):
            answer = await http.request("DELETE", path)
    except Exception as exc:  # a crash in the reap must not hide the leg's own verdict
        return f"crash: {type(exc).__name__}: {exc}"
    if answer.status is not None and 200 <= answer.status < 300:
        return None
    if answer.status == 404:
        return None  # already gone (a sweep got there first): nothing left to reap
    return answer.describe()
