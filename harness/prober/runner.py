"""`Prober.run_once`: every leg in order, each under its budget, its timeout and a panic boundary.

PRIOR_ART.md §3 `Work`/`runLeg`, with our names:

* legs run in sequence, sharing one `LegContext` (the run's account, minted first when a reachability leg
  names `{account_id}`, is reaped after the last leg);
* each leg's timeout is 2 x its budget, capped at 15 s (`config.leg_timeout_seconds`); a leg still running
  then fails with a `timeout:` reason; an exception inside a leg fails it with a `panic:` reason;
* a leg that passed but took longer than its budget (by the injected clock) is degraded;
* after the last leg, the run's one dormancy verdict (`service.judge_service`) is applied, the run account
  is reaped and read back, and the reap guard is tried on the profile's standing non-cohort account;
* then every result is recorded: metrics, a log line (`payment_probe_failed` error for fail and security,
  `payment_probe_misconfigured` error, `payment_probe_degraded` warning, `payment_probe_pass` debug) and,
  unless it passed, an audit line; each reap problem is a `payment_probe_cohort_reap_failed` warning;
* `run_once` never raises (short of cancellation): the run always completes with five results.

Every reason passes through the run's `Redactor` before it is stored, logged or written.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx

from .audit import AuditTrail
from .cohort import check_guard, reap
from .config import HTTP_TIMEOUT_CAP_SECONDS, ProbeConfig, Redactor, display_target
from .config import leg_timeout_seconds as timeout_for
from .context import Leg, LegContext, prepare_run_account
from .http import ProbeHttp
from .legs import billing_state, checkout_reachable, invoices_reachable
from .metrics import ProbeMetrics
from .results import LegOutcome, LegResult, RunReport
from .security import webhook_security
from .service import judge_service
from .upgrade import upgrade_webhook_e2e

__all__ = ["DEFAULT_LEGS", "MAX_REASON_CHARS", "Prober"]

log = logging.getLogger("payharness.prober")

#: A reason is cut to this length in results, logs and the audit trail.
MAX_REASON_CHARS = 512

#: The five legs in their fixed order (`results.LEG_NAMES`; a test pins it).
DEFAULT_LEGS: tuple[Leg, ...] = (
    Leg(name="checkout_reachable", run=checkout_reachable),
    Leg(name="billing_state", run=billing_state),
    Leg(name="invoices_reachable", run=invoices_reachable),
    Leg(name="webhook_security", run=webhook_security),
    Leg(name="upgrade_webhook_e2e", run=upgrade_webhook_e2e),
)


class Prober:
    """Runs the legs against one target; owns its metrics and its audit trail.

    `now` is the clock for latency, budgets, signatures and timestamps; `token_hex` the randomness for run
    and event ids; `transport` an optional httpx transport (tests use `httpx.MockTransport`).
    """

    def __init__(
        self,
        config: ProbeConfig,
        *,
        metrics: ProbeMetrics | None = None,
        audit: AuditTrail | None = None,
        now: Callable[[], float] = time.time,
        token_hex: Callable[[int], str] = secrets.token_hex,
        transport: httpx.AsyncBaseTransport | None = None,
        legs: Sequence[Leg] = DEFAULT_LEGS,
    ) -> None:
        self.config = config
        password = urlsplit(config.target).password
        self.redact = Redactor((*config.secrets.secret_values(), *([password] if password else [])))
        self.metrics = metrics if metrics is not None else ProbeMetrics()
        self.audit = audit if audit is not None else AuditTrail(None)
        self.target = display_target(config.target)
        self._now = now
        self._token_hex = token_hex
        self._transport = transport
        self._legs = tuple(legs)
        self._reap_failures: list[str] = []

    async def run_once(self) -> RunReport:
        """Run every leg once; record and return the results. Never raises."""
        run_id = self._token_hex(8)
        started = self._now()
        http = ProbeHttp(
            base_url=self.config.target,
            timeout_seconds=HTTP_TIMEOUT_CAP_SECONDS,
            user_agent=self.config.user_agent,
            token=self.config.secrets.token,
            transport=self._transport,
        )
        ctx = LegContext(
            run_id=run_id,
            profile=self.config.profile,
            secrets=self.config.secrets,
            http=http,
            now=self._now,
            token_hex=self._token_hex,
            log_reap_failure=lambda account, why: self._log_reap_failure(run_id, account, why),
        )
        results: list[LegResult] = []
        self._reap_failures = []
        try:
            ctx.run_account = await prepare_run_account(ctx)
            for leg in self._legs:
                results.append(await self._run_leg(leg, ctx))
            await self._reap_run_account(ctx)
        except Exception as exc:  # a safety net: every leg has its own boundary already
            log.exception("payment_probe_run_crashed run_id=%s", run_id)
            results.extend(self._aborted(leg, exc) for leg in self._legs[len(results) :])
        finally:
            await _close(http)
        service, judged = judge_service(results)
        for result in judged:
            self._record(result, run_id)
        report = RunReport(
            run_id=run_id,
            target=self.target,
            profile=self.config.profile.name,
            started_at=started,
            duration_seconds=max(0.0, self._now() - started),
            legs=tuple(judged),
            service=service,
            reap_failures=tuple(self._reap_failures),
        )
        self._complete(report)
        return report

    async def _run_leg(self, leg: Leg, ctx: LegContext) -> LegResult:
        budget = self.config.budget_for(leg.name)
        timeout = timeout_for(budget)
        answers_before = ctx.http.answers
        started = self._now()
        finished = False
        timer = asyncio.timeout(timeout)
        try:
            async with timer:
                outcome = await leg.run(ctx)
            finished = True
        except TimeoutError as exc:
            reason = f"panic: {type(exc).__name__}: {exc}"
            if timer.expired():
                reason = f"timeout: no verdict within {timeout:g}s (2 x budget, capped at 15 s)"
            outcome = LegOutcome(result="fail", reason=reason)
        except Exception as exc:  # the panic boundary: a crash is a fail, and the run goes on
            outcome = LegOutcome(result="fail", reason=f"panic: {type(exc).__name__}: {exc}")
        latency = max(0.0, self._now() - started)
        if outcome.result == "pass" and latency > budget:
            outcome = LegOutcome(
                result="degraded",
                reason=f"over budget: {latency:.3f}s > {budget:g}s; {outcome.reason}",
                http_status=outcome.http_status,
                details=outcome.details,
            )
        return LegResult(
            leg=leg.name,
            result=outcome.result,
            reason=self.redact(outcome.reason)[:MAX_REASON_CHARS],
            http_status=outcome.http_status,
            latency_seconds=latency,
            budget_seconds=budget,
            observed=finished and ctx.http.answers > answers_before,
            details=outcome.details,
        )

    def _aborted(self, leg: Leg, exc: Exception) -> LegResult:
        return LegResult(
            leg=leg.name,
            result="fail",
            reason=self.redact(f"panic: run aborted: {type(exc).__name__}: {exc}")[
                :MAX_REASON_CHARS
            ],
            http_status=None,
            latency_seconds=0.0,
            budget_seconds=self.config.budget_for(leg.name),
            observed=False,
        )

    async def _reap_run_account(self, ctx: LegContext) -> None:
        account, cohort = ctx.run_account, self.config.profile.cohort
        if cohort is not None and self.config.secrets.guard_account_id:
            guard = self.config.secrets.guard_account_id
            problem = await check_guard(ctx.http, cohort, guard)
            if problem is not None:
                self._log_reap_failure(ctx.run_id, guard, problem)
        if account is None or not account.minted or account.account_id is None or cohort is None:
            return  # a configured account is never reaped: only what this run minted
        problem = await reap(ctx.http, cohort, account.account_id)
        if problem is not None:
            self._log_reap_failure(ctx.run_id, account.account_id, problem)

    def _record(self, result: LegResult, run_id: str) -> None:
        try:
            self.metrics.record(result)
            self.audit.leg(
                result,
                run_id=run_id,
                target=self.target,
                profile=self.config.profile.name,
                at=self._now(),
            )
        except Exception:  # recording must never stop the run
            log.exception("payment_probe_record_failed leg=%s run_id=%s", result.leg, run_id)
        args = (result.leg, result.reason, result.http_status, result.latency_ms, run_id)
        line = "leg=%s reason=%r http_status=%s latency_ms=%d run_id=%s"
        if result.result == "fail":
            log.error("payment_probe_failed " + line, *args)
        elif result.result == "misconfigured":
            log.error("payment_probe_misconfigured " + line, *args)
        elif result.result == "degraded":
            log.warning("payment_probe_degraded " + line, *args)
        else:
            log.debug("payment_probe_pass " + line, *args)

    def _complete(self, report: RunReport) -> None:
        at = self._now()
        try:
            self.metrics.completed(report, at)
            self.audit.summary(report, at=at)
        except Exception:
            log.exception("payment_probe_record_failed run_id=%s", report.run_id)
        log.info(
            "payment_probe_completed run_id=%s target=%s service=%s results=%s duration_ms=%d",
            report.run_id,
            report.target,
            report.service,
            {r.leg: r.result for r in report.legs},
            round(report.duration_seconds * 1000),
        )

    def _log_reap_failure(self, run_id: str, account_id: str, problem: str) -> None:
        # The target's own sweep of stale cohort accounts is the backstop (PRIOR_ART.md §3).
        self._reap_failures.append(f"account {account_id}: {self.redact(problem)}")
        log.warning(
            "payment_probe_cohort_reap_failed run_id=%s account_id=%s problem=%s",
            run_id,
            account_id,
            self.redact(problem),
        )


async def _close(http: ProbeHttp) -> None:
    try:
        await http.aclose()
    except Exception:  # a pool that will not close must not turn a finished run into an error
        log.warning("payment_probe_client_close_failed", exc_info=True)
