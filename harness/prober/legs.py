"""The three reachability legs and the verdict rules every leg shares (`security.py` holds the fourth,
`upgrade.py` the fifth).

Rules (PRIOR_ART.md §3, with our names):

* reachability (`checkout_reachable`, `billing_state`, `invoices_reachable`): no answer or a 5xx fails;
  any other status passes, a 4xx included ("alive but blocked"), except a 401/403, which means the run
  cannot do its job: `misconfigured`, naming the variable to set;
* a route the profile marks `authed` is first asked without the token: a 2xx there fails ("auth not
  enforced");
* a 2xx answer must carry the profile's `fields` for that route (the shape the leg relies on), else it
  fails;
* a profile's *dormant* answers (the reference's 503 `payments_not_live`) make a leg degraded with a reason
  starting `dormant:`; whether the service as a whole is dormant or half switched off is decided once per
  run by the runner (`service.py`);
* missing configuration (no token where the profile requires one) is `misconfigured`, with nothing sent.

Budgets, timeouts and the panic boundary belong to the runner, not to the legs.
"""

from __future__ import annotations

from .cohort import field_at
from .context import LegContext
from .http import Answer
from .profile import ExpectedError, RequestTemplate
from .results import DORMANT_PREFIX, LegOutcome
from .templates import render_path, render_value

__all__ = [
    "auth_refused",
    "billing_state",
    "checkout_reachable",
    "dormant_outcome",
    "invoices_reachable",
    "reachability_verdict",
]


def dormant_outcome(answer: Answer, dormant: tuple[ExpectedError, ...]) -> LegOutcome | None:
    """Degraded when `answer` is one of the profile's "alive but deliberately off" answers."""
    for expected in dormant:
        if answer.status == expected.status and answer.code == expected.code:
            return LegOutcome(
                result="degraded",
                reason=f"{DORMANT_PREFIX} {expected.status} {expected.code} (alive but not taking money)",
                http_status=answer.status,
            )
    return None


def auth_refused(ctx: LegContext, answer: Answer, what: str) -> LegOutcome | None:
    """`misconfigured` when the target refused our credentials (401/403), naming the variable to set."""
    if answer.status not in (401, 403):
        return None
    env = ctx.profile.auth.token_env
    if env is None:
        fix = "the profile names no [auth] token_env: add one and set it"
    elif ctx.secrets.token:
        fix = f"the token in {env} is wrong or expired: set {env} to a valid token"
    else:
        fix = f"{env} is unset: set it to a bearer token for the target"
    return LegOutcome(
        result="misconfigured",
        reason=f"{what} refused our credentials with {answer.brief()}: {fix}",
        http_status=answer.status,
    )


def reachability_verdict(answer: Answer, dormant: tuple[ExpectedError, ...]) -> LegOutcome:
    """No answer or a 5xx fails; a dormant answer is degraded; any other status passes."""
    if answer.status is None:
        return LegOutcome(result="fail", reason=f"target down: {answer.describe()}")
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


def shape_problem(answer: Answer, fields: tuple[str, ...]) -> str | None:
    """Which of `fields` a 2xx answer lacks, or None (only 2xx answers have a shape to check)."""
    if answer.status is None or not 200 <= answer.status < 300 or not fields:
        return None
    body = answer.json()
    missing = [f for f in fields if field_at(body, f) is None]
    if not missing:
        return None
    return f"shape: {answer.status} answer lacks {', '.join('`' + f + '`' for f in missing)}"


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
    path = render_path(template.path, values)
    body = None if template.body is None else render_value(template.body, values)
    route = f"{template.method} {template.path.split('?')[0]}"
    if template.authed:
        bare = await ctx.http.request(template.method, path, json_body=body, auth=False)
        if bare.status is not None and 200 <= bare.status < 300:
            return LegOutcome(
                result="fail",
                reason=f"auth not enforced: {route} answered {bare.status} without a token",
                http_status=bare.status,
            )
    answer = await ctx.http.request(template.method, path, json_body=body)
    refused = auth_refused(ctx, answer, route)
    if refused is not None:
        return refused
    verdict = reachability_verdict(answer, ctx.profile.dormant)
    problem = shape_problem(answer, template.fields)
    if verdict.result == "pass" and problem is not None:
        return LegOutcome(result="fail", reason=problem, http_status=answer.status)
    if verdict.result == "pass" and template.fields and 200 <= (answer.status or 0) < 300:
        shown = ", ".join(template.fields)
        return LegOutcome(
            result="pass", reason=f"{answer.brief()} with {shown}", http_status=answer.status
        )
    return verdict


async def checkout_reachable(ctx: LegContext) -> LegOutcome:
    """Start a checkout for the probe account: is the money entrance open?"""
    return await _reach(ctx, ctx.profile.checkout)


async def billing_state(ctx: LegContext) -> LegOutcome:
    """Read billing state: can a customer see their plan?"""
    return await _reach(ctx, ctx.profile.billing)


async def invoices_reachable(ctx: LegContext) -> LegOutcome:
    """List invoices: can a customer see what they paid?"""
    return await _reach(ctx, ctx.profile.invoices)
