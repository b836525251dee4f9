"""`upgrade_webhook_e2e`: mint a cohort account, deliver a signed paid event for it, read the tier, reap.

The money heartbeat proper (PRIOR_ART.md §3, leg 5). The truth surface is the tier flip, not the webhook's
200: a target that answers 200 and changes nothing fails. Steps and verdicts:

1. configuration: a profile without `[upgrade]` or `[cohort]` is degraded (nothing to do); an unset
   variable (the bearer token if required, the webhook test secret, the test plan id if the profile
   names one) is `misconfigured`, naming the variable, with nothing sent;
2. mint a test-cohort account: no answer or a 5xx fails (the target is down), a 401/403 is
   `misconfigured`, a dormant answer is degraded, any other refusal is degraded (set-up drift);
3. read the tier before the event (to tell "did not advance" from "advanced to the wrong plan");
4. sign the event once and send exactly the signed bytes (re-serialising would break the HMAC,
   PROCESSORS.md §4.1): no answer fails, a dormant answer is degraded, one of the profile's
   `unknown_plan` answers or a refusal of our signature is `misconfigured` (naming the plan id or secret
   variable), any other status but the profile's `accepted_status` fails;
5. read the tier: no answer, a non-2xx or a missing field fails; the same tier as before fails ("did NOT
   advance"); another tier than the plan fails ("advanced to the WRONG plan");
6. reap the account in a `finally`, whatever happened above and even after the leg's timeout, and read it
   back: a failed reap or an account still there is reported to the runner
   (`payment_probe_cohort_reap_failed`, a warning line, the leaked-account gauge) and fails the one-shot
   run, but leaves this leg's verdict on the money path alone.
"""

from __future__ import annotations

import json

from fakes.signing import signer_for

from .cohort import field_at, mint, reap
from .context import LegContext
from .http import Answer
from .legs import auth_refused, dormant_outcome
from .profile import UpgradeSpec
from .results import LegOutcome
from .templates import TemplateValues, render_path, render_value

__all__ = ["upgrade_webhook_e2e"]


def _skip(reason: str) -> LegOutcome:
    return LegOutcome(result="degraded", reason=f"{reason}: upgrade leg skipped, nothing sent")


def _unset(name: str, what: str) -> LegOutcome:
    return LegOutcome(
        result="misconfigured",
        reason=f"{name} unset: set it to {what} (upgrade leg skipped, nothing sent)",
    )


def _missing_configuration(ctx: LegContext) -> LegOutcome | None:
    profile, secrets = ctx.profile, ctx.secrets
    if profile.upgrade is None:
        return _skip(f"profile {profile.name} has no [upgrade]")
    if profile.cohort is None:
        return _skip(f"profile {profile.name} has no [cohort] to mint a test account with")
    if profile.auth.required and not secrets.token:
        return _unset(str(profile.auth.token_env), "a bearer token for the target")
    if not secrets.webhook_secret:
        return _unset(" / ".join(profile.webhook.secret_env), "the target's test webhook secret")
    if profile.upgrade.plan_id_env and not secrets.plan_id:
        return _unset(
            profile.upgrade.plan_id_env,
            f"a test plan id the target maps to {profile.upgrade.plan!r}",
        )
    return None


async def _read_tier(
    ctx: LegContext, upgrade: UpgradeSpec, values: TemplateValues
) -> LegOutcome | object:
    """The tier field's value, or the failing verdict of the read."""
    read = await ctx.http.request("GET", render_path(upgrade.tier_path, values))
    refused = auth_refused(ctx, read, "tier read")
    if refused is not None:
        return refused
    if read.status is None or not 200 <= read.status < 300:
        reason = f"tier read: {read.describe()}"
        if read.status is None:
            reason = f"target down: {reason}"
        return LegOutcome(result="fail", reason=reason, http_status=read.status)
    tier: object = field_at(read.json(), upgrade.tier_field)
    if tier is None:
        return LegOutcome(
            result="fail",
            reason=f"shape: tier read: {read.status} answer lacks `{upgrade.tier_field}`",
            http_status=read.status,
        )
    return tier


def _refused_signed(ctx: LegContext, upgrade: UpgradeSpec, answer: Answer) -> LegOutcome | None:
    """`misconfigured` when the signed event was refused for our plan id or our secret."""
    for expected in upgrade.unknown_plan:
        if answer.status == expected.status and answer.code == expected.code:
            env = upgrade.plan_id_env or "the [upgrade] plan"
            return LegOutcome(
                result="misconfigured",
                reason=f"the target does not know our plan id ({answer.brief()}): "
                f"set {env} to a test plan id it maps to {upgrade.plan!r}",
                http_status=answer.status,
            )
    webhook = ctx.profile.webhook
    code = answer.code or ""
    rejected = answer.status == webhook.rejection.status and code == webhook.rejection.code
    if rejected or (
        answer.status is not None and 400 <= answer.status < 500 and "signature" in code
    ):
        env = ctx.secrets.webhook_secret_env or " / ".join(webhook.secret_env)
        return LegOutcome(
            result="misconfigured",
            reason=f"the target refused our signature ({answer.brief()}): "
            f"set {env} to the target's test webhook secret",
            http_status=answer.status,
        )
    return None


def _event_values(ctx: LegContext, upgrade: UpgradeSpec, account_id: str) -> TemplateValues:
    # Fresh ids every run, in the processors' own shapes with a payprobe marker (PRIOR_ART.md §3:
    # evt_payprobe_<uuid>, sub_payprobe_<12>, pay_payprobe_<12>).
    return {
        "account_id": account_id,
        "plan": upgrade.plan,
        "plan_id": ctx.secrets.plan_id or upgrade.plan,
        "event_id": f"evt_payprobe_{ctx.token_hex(16)}",
        "subscription_id": f"sub_payprobe_{ctx.token_hex(6)}",
        "invoice_id": f"in_payprobe_{ctx.token_hex(6)}",
        "payment_id": f"pay_payprobe_{ctx.token_hex(6)}",
        "run_id": ctx.run_id,
        "now": int(ctx.now()),
    }


async def _deliver_and_check(ctx: LegContext, upgrade: UpgradeSpec, account_id: str) -> LegOutcome:
    webhook = ctx.profile.webhook
    assert ctx.secrets.webhook_secret is not None  # checked by _missing_configuration
    values = _event_values(ctx, upgrade, account_id)
    before = await _read_tier(ctx, upgrade, values)
    if isinstance(before, LegOutcome):
        return before
    body = json.dumps(render_value(upgrade.event, values), separators=(",", ":")).encode()
    signer = signer_for(webhook.scheme, ctx.secrets.webhook_secret, now=ctx.now)
    headers = {"Content-Type": "application/json", **signer.sign(body)}
    if webhook.event_id_header:
        headers[webhook.event_id_header] = str(values["event_id"])
    answer = await ctx.http.request("POST", webhook.path, content=body, headers=headers, auth=False)
    if answer.status is None:
        return LegOutcome(result="fail", reason=f"target down: signed webhook: {answer.describe()}")
    quiet = dormant_outcome(answer, ctx.profile.dormant) or _refused_signed(ctx, upgrade, answer)
    if quiet is not None:
        return quiet
    if answer.status != webhook.accepted_status:
        return LegOutcome(
            result="fail",
            reason=f"signed webhook got {answer.describe()}; want {webhook.accepted_status}",
            http_status=answer.status,
        )
    tier = await _read_tier(ctx, upgrade, values)
    if isinstance(tier, LegOutcome):
        return tier
    if tier != upgrade.plan:
        moved = (
            "did NOT advance" if tier == before else f"advanced to the WRONG plan (from {before!r})"
        )
        return LegOutcome(
            result="fail",
            reason=(
                f"webhook {answer.status} but tier {moved}: "
                f"{upgrade.tier_field}={tier!r}, want {upgrade.plan!r}"
            ),
            http_status=answer.status,
        )
    return LegOutcome(
        result="pass",
        reason=f"signed {webhook.scheme} event accepted; tier advanced to {upgrade.plan}",
        http_status=answer.status,
    )


def _mint_failed(ctx: LegContext, answer: Answer, failure: str) -> LegOutcome:
    status = answer.status
    if status is None:
        return LegOutcome(result="fail", reason=f"target down: cohort mint: {failure}")
    quiet = dormant_outcome(answer, ctx.profile.dormant) or auth_refused(ctx, answer, "cohort mint")
    if quiet is not None:
        return quiet
    if status >= 500:
        return LegOutcome(result="fail", reason=f"cohort mint: {failure} (5xx)", http_status=status)
    return LegOutcome(
        result="degraded",
        reason=f"cohort mint failed: {failure} (set-up drift in the test-cohort API, not a payment outage)",
        http_status=status,
    )


async def upgrade_webhook_e2e(ctx: LegContext) -> LegOutcome:
    """Mint → signed paid event → tier must advance → always reap."""
    skipped = _missing_configuration(ctx)
    if skipped is not None:
        return skipped
    upgrade, cohort = ctx.profile.upgrade, ctx.profile.cohort
    assert upgrade is not None and cohort is not None
    minted = await mint(ctx.http, cohort, {"run_id": ctx.run_id})
    if minted.account_id is None:
        return _mint_failed(ctx, minted.answer, minted.failure())
    account_id = minted.account_id
    try:
        verdict = await _deliver_and_check(ctx, upgrade, account_id)
    finally:
        problem = await reap(ctx.http, cohort, account_id)
        if problem is not None:
            ctx.log_reap_failure(account_id, problem)
    return LegOutcome(
        result=verdict.result,
        reason=verdict.reason,
        http_status=verdict.http_status,
        details={"cohort_account_id": account_id, "reaped": "yes" if problem is None else "no"},
    )
