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

__all__ = ["Mint", "check_guard", "field_at", "mint", "reap"]

#: What a read-back of a reaped account must answer: it is gone.
GONE = (404, 410)


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
    """Delete an account this run minted and read it back; None when it is gone, else why not.

    Never raises. A failed reap (a refusal, or a delete that answered 2xx while the account still reads
    back) is the caller's to report (`payment_probe_cohort_reap_failed`). It runs in its own bounded time
    even when the leg around it was cancelled by its timeout, so an account minted before the timeout is
    still reaped, before the leg is recorded.
    """
    values = {"account_id": account_id}
    try:
        async with asyncio.timeout(HTTP_TIMEOUT_CAP_SECONDS):
            answer = await http.request("DELETE", render_path(cohort.delete_path, values))
            if answer.status is None or not (200 <= answer.status < 300 or answer.status in GONE):
                return f"DELETE answered {answer.describe()}"
            back = await http.request("GET", render_path(cohort.read_path, values))
    except Exception as exc:  # a crash in the reap must not hide the leg's own verdict
        return f"crash: {type(exc).__name__}: {exc}"
    if back.status in GONE:
        return None
    return (
        f"leaked: DELETE answered {answer.status} but the account still reads back {back.brief()}"
    )


async def check_guard(http: ProbeHttp, cohort: CohortSpec, account_id: str) -> str | None:
    """Try to reap a standing account that is NOT in the cohort: the target must refuse and keep it."""
    values = {"account_id": account_id}
    try:
        async with asyncio.timeout(HTTP_TIMEOUT_CAP_SECONDS):
            answer = await http.request("DELETE", render_path(cohort.delete_path, values))
    except Exception as exc:
        return f"guard check crashed: {type(exc).__name__}: {exc}"
    if answer.status is not None and 200 <= answer.status < 300:
        return f"reap guard missing: DELETE of a non-cohort account answered {answer.status}"
    if answer.status in GONE:
        return f"guard account not found ({answer.brief()}): check the guard account variable"
    return None
