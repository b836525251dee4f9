"""`upgrade_webhook_e2e`: mint a cohort account, deliver a signed paid event for it, read the tier, reap.

The money heartbeat proper (PRIOR_ART.md §3, leg 5). The truth surface is the tier flip, not the webhook's
200: a target that answers 200 and changes nothing fails. Steps and verdicts:

1. configuration, in order, each missing piece degraded with nothing sent: the profile's `[upgrade]` and
   `[cohort]`, the bearer token if required, the webhook test secret, the test plan id if the profile
   names one;
2. mint a test-cohort account: a refusal of any kind is degraded (set-up drift, not a payment outage);
3. sign the event once and send exactly the signed bytes (re-serialising would break the HMAC,
   PROCESSORS.md §4.1): no answer fails, a dormant answer is degraded, any status but the profile's
   `accepted_status` fails;
4. read the tier: no answer, a non-2xx or a missing field fails; a tier other than the plan fails;
5. reap the account in a `finally`, whatever happened above and even after the leg's timeout. A failed
   reap is logged (`payment_probe_cohort_reap_failed`) and leaves the verdict alone.
"""

from __future__ import annotations

import json

from fakes.signing import signer_for

from .cohort import field_at, mint, reap
from .context import LegContext
from .legs import dormant_outcome
from .profile import UpgradeSpec
from .results import LegOutcome
from .templates import TemplateValues, render_path, render_value

__all__ = ["upgrade_webhook_e2e"]


def _skip(reason: str) -> LegOutcome:
    return LegOutcome(result="degraded", reason=f"{reason}: upgrade leg skipped, nothing sent")


def _missing_configuration(ctx: LegContext) -> LegOutcome | None:
    profile, secrets = ctx.profile, ctx.secrets
    if profile.upgrade is None:
        return _skip(f"profile {profile.name} has no [upgrade]")
    if profile.cohort is None:
        return _skip(f"profile {profile.name} has no [cohort] to mint a test account with")
    if profile.auth.required and not secrets.token:
        return _skip(f"{profile.auth.token_env} unset")
    if not secrets.webhook_secret:
        return _skip(f"{' / '.join(profile.webhook.secret_env)} unset")
    if profile.upgrade.plan_id_env and not secrets.plan_id:
        return _skip(f"{profile.upgrade.plan_id_env} unset")
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
    body = json.dumps(render_value(upgrade.event, values), separators=(",", ":")).encode()
    signer = signer_for(webhook.scheme, ctx.secrets.webhook_secret, now=ctx.now)
    headers = {"Content-Type": "application/json", **signer.sign(body)}
    if webhook.event_id_header:
        headers[webhook.event_id_header] = str(values["event_id"])
    answer = await ctx.http.request("POST", webhook.path, content=body, headers=headers, auth=False)
    if answer.status is None:
        return LegOutcome(result="fail", reason=f"signed webhook: {answer.describe()}")
    quiet = dormant_outcome(answer, ctx.profile.dormant)
    if quiet is not None:
        return quiet
    if answer.status != webhook.accepted_status:
        return LegOutcome(
            result="fail",
            reason=f"signed webhook got {answer.describe()}; want {webhook.accepted_status}",
            http_status=answer.status,
        )
    read = await ctx.http.request("GET", render_path(upgrade.tier_path, values))
    if read.status is None or not 200 <= read.status < 300:
        return LegOutcome(
            result="fail", reason=f"tier read: {read.describe()}", http_status=read.status
        )
    tier = field_at(read.json(), upgrade.tier_field)
    if tier is None:
        return LegOutcome(
            result="fail",
            reason=f"tier read: no `{upgrade.tier_field}` in the answer",
            http_status=read.status,
        )
    if tier != upgrade.plan:
        return LegOutcome(
            result="fail",
            reason=(
                f"webhook {answer.status} but tier did NOT advance: "
                f"{upgrade.tier_field}={tier!r}, want {upgrade.plan!r}"
            ),
            http_status=answer.status,
        )
    return LegOutcome(
        result="pass",
        reason=f"signed {webhook.scheme} event accepted; tier advanced to {upgrade.plan}",
        http_status=answer.status,
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
        return LegOutcome(
            result="degraded",
            reason=f"cohort mint failed: {minted.failure()} (set-up drift, not a payment outage)",
            http_status=minted.answer.status,
        )
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
