"""What a leg receives: the run's client, profile, secrets, clock and randomness, and the run's account.

A `Leg` is a name plus an async function from `LegContext` to `LegOutcome` (the plug point for the five
legs and for the test doubles of the runner's own tests). The context is built by the runner for one run
and shared by its legs in order, which is how state carries from step to step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .cohort import mint
from .config import HTTP_TIMEOUT_CAP_SECONDS, ProbeSecrets
from .http import ProbeHttp
from .profile import Profile
from .results import LegOutcome

__all__ = ["Leg", "LegContext", "LegFunction", "RunAccount", "prepare_run_account"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunAccount:
    """The account the reachability legs use in this run.

    Either configured (never reaped), minted for the run (reaped after the last leg), or missing, with the
    reason. `outage` says whether the mint found the target down (no answer, a 5xx, a crash): the legs that
    needed the account then fail, since "a 5xx or transport error fails a reachability leg"; any other
    refusal is drift in the test set-up and makes them degraded.
    """

    account_id: str | None
    minted: bool = False
    problem: str | None = None
    outage: bool = False
    #: the mint was refused for our credentials, or the token is unset: the verdict is `misconfigured`
    misconfigured: bool = False
    #: the mint got no answer at all (the outage is the target being down, not a 5xx)
    down: bool = False

    def unavailable(self) -> LegOutcome:
        """The verdict of a leg that needed this (missing) account."""
        reason = f"no probe account: cohort mint {self.problem}"
        if self.misconfigured:
            return LegOutcome(result="misconfigured", reason=reason)
        if self.outage:
            return LegOutcome(
                result="fail", reason=f"target down: {reason}" if self.down else reason
            )
        return LegOutcome(result="degraded", reason=reason)


@dataclass(slots=True, kw_only=True)
class LegContext:
    """One run's shared state (mutable only by the runner, between legs)."""

    run_id: str
    profile: Profile
    secrets: ProbeSecrets
    http: ProbeHttp
    now: Callable[[], float]
    token_hex: Callable[[int], str]
    log_reap_failure: Callable[[str, str], None]
    run_account: RunAccount | None = None

    def auth_missing(self) -> LegOutcome | None:
        """Misconfigured, sending nothing, when the profile requires a token and the environment has none."""
        auth = self.profile.auth
        if auth.required and not self.secrets.token:
            return LegOutcome(
                result="misconfigured",
                reason=f"{auth.token_env} unset: set it to a bearer token for the target "
                "(authed leg skipped, nothing sent)",
            )
        return None


LegFunction = Callable[[LegContext], Awaitable[LegOutcome]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Leg:
    """A named step of a run."""

    name: str
    run: LegFunction


async def prepare_run_account(ctx: LegContext) -> RunAccount | None:
    """The account for `{account_id}` in the reachability legs, or None when no leg names one.

    Never raises: a crash or a timeout of the mint is recorded as an outage for the legs to report.
    """
    profile = ctx.profile
    if not profile.needs_run_account:
        return None
    if ctx.secrets.account_id:
        return RunAccount(account_id=ctx.secrets.account_id)
    if ctx.auth_missing() is not None or profile.cohort is None:
        # the legs report the missing token themselves; profile loading guarantees a cohort otherwise
        return RunAccount(account_id=None, problem="skipped: nothing configured to mint with")
    try:
        async with asyncio.timeout(HTTP_TIMEOUT_CAP_SECONDS):
            minted = await mint(ctx.http, profile.cohort, {"run_id": ctx.run_id})
    except TimeoutError:
        return RunAccount(
            account_id=None,
            problem=f"got no answer within {HTTP_TIMEOUT_CAP_SECONDS:g}s",
            outage=True,
            down=True,
        )
    except Exception as exc:  # the panic boundary of the set-up step
        return RunAccount(
            account_id=None, problem=f"crashed: {type(exc).__name__}: {exc}", outage=True
        )
    if minted.account_id is not None:
        return RunAccount(account_id=minted.account_id, minted=True)
    status = minted.answer.status
    fix = ""
    if status in (401, 403):
        fix = f" (set {profile.auth.token_env or 'an [auth] token_env'} to a valid token)"
    return RunAccount(
        account_id=None,
        problem=f"failed: {minted.failure()}{fix}",
        outage=status is None or status >= 500,
        misconfigured=status in (401, 403),
        down=status is None,
    )
