"""The four single-request legs and the verdict rules every leg shares (`upgrade.py` holds the fifth).

Rules (PRIOR_ART.md §3, with our names):

* reachability (`checkout_reachable`, `billing_state`, `invoices_reachable`): no answer or a 5xx fails;
  any other status passes, a 4xx included ("alive but blocked");
* `webhook_security` posts an unsigned payload: a 2xx fails with a reason starting `SECURITY:`; only the
  profile's expected rejection (status and error code) passes; anything else fails. It always runs and
  needs no secret;
* a profile's *dormant* answers (the reference's 503 `payments_not_live`) make any leg degraded: the
  target is alive and deliberately not taking money, which is not an outage and must not page;
* missing configuration (no token where the profile requires one) is degraded, with nothing sent.

Budgets, timeouts and the panic boundary belong to the runner, not to the legs.
"""

from __future__ import annotations

from .context import LegContext
from .http import Answer
from .profile import ExpectedError, RequestTemplate
from .results import LegOutcome
from .templates import TemplateValues, render_path, render_value

__all__ = [
    "billing_state",
    "checkout_reachable",
    "dormant_outcome",
    "invoices_reachable",
    "reachability_verdict",
    "webhook_security",
]


def dormant_outcome(answer: Answer, dormant: tuple[ExpectedError, ...]) -> LegOutcome | None:
    """Degraded when `answer` is one of the profile's "alive but deliberately off" answers."""
    for expected in dormant:
        if answer.status == expected.status and answer.code == expected.code:
            return LegOutcome(
                result="degraded",
                reason=f"dormant: {expected.status} {expected.code} (alive but not taking money)",
                http_status=answer.status,
            )
    return None


def reachability_verdict(answer: Answer, dormant: tuple[ExpectedError, ...]) -> LegOutcome:
    """No answer or a 5xx fails; a dormant answer is degraded; any other status passes."""
    if answer.status is None:
        return LegOutcome(result="fail", reason=answer.describe())
    quiet = dormant_outcome(answer, dormant)
    if quiet is not None:
        return quiet
    if answer.status >= 500:
        return LegOutcome(
            result="fail", reason=f"{answer.describe()} (5xx)", http_status=answer.status
        )
    return LegOutcome(
        result="pass", reason=f"{answer.brief()} (reachable)", http_status=answer.status
    )


async def _reach(ctx: LegContext, template: RequestTemplate) -> LegOutcome:
    skipped = ctx.auth_missing()
    if skipped is not None:
        return skipped
    values: dict[str, str | int] = {"run_id": ctx.run_id}
    if template.uses("account_id"):
        account = ctx.run_account
        if account is None or account.account_id is None:
            if account is None:  # the runner prepares one whenever a template names it
                return LegOutcome(result="degraded", reason="no probe account prepared")
            return account.unavailable()
        values["account_id"] = account.account_id
    answer = await ctx.http.request(
        template.method,
        render_path(template.path, values),
        json_body=None if template.body is None else render_value(template.body, values),
    )
    return reachability_verdict(answer, ctx.profile.dormant)


async def checkout_reachable(ctx: LegContext) -> LegOutcome:
    """Start a checkout for the probe account: is the money entrance open?"""
    return await _reach(ctx, ctx.profile.checkout)


async def billing_state(ctx: LegContext) -> LegOutcome:
    """Read billing state: can a customer see their plan?"""
    return await _reach(ctx, ctx.profile.billing)


async def invoices_reachable(ctx: LegContext) -> LegOutcome:
    """List invoices: can a customer see what they paid?"""
    return await _reach(ctx, ctx.profile.invoices)


async def webhook_security(ctx: LegContext) -> LegOutcome:
    """Post an unsigned webhook; only the profile's exact rejection passes."""
    webhook = ctx.profile.webhook
    values: TemplateValues = {"run_id": ctx.run_id, "now": int(ctx.now())}
    answer = await ctx.http.request(
        "POST", webhook.path, json_body=render_value(webhook.unsigned_body, values), auth=False
    )
    if answer.status is None:
        return LegOutcome(result="fail", reason=answer.describe())
    quiet = dormant_outcome(answer, ctx.profile.dormant)
    if quiet is not None:
        return quiet
    want = f"want {webhook.rejection.status} {webhook.rejection.code}"
    if 200 <= answer.status < 300:
        return LegOutcome(
            result="fail",
            reason=f"SECURITY: unsigned payload ACCEPTED with {answer.describe()}; {want}",
            http_status=answer.status,
        )
    if answer.status != webhook.rejection.status or answer.code != webhook.rejection.code:
        return LegOutcome(
            result="fail",
            reason=f"unsigned payload got {answer.describe()}; {want}",
            http_status=answer.status,
        )
    return LegOutcome(
        result="pass",
        reason=f"unsigned payload refused with {answer.status} {answer.code}",
        http_status=answer.status,
    )
