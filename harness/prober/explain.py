"""`payharness probe --profile NAME --explain`: what a profile needs, so a user can wire it without the TOML.

The text lists the environment variables (which are required, which optional, what each is for), every
route the legs call with the fields they rely on and whether they must refuse a request without the token,
the webhook and its forgery set, and the test-cohort API the target must offer.
"""

from __future__ import annotations

from .profile import Profile, RequestTemplate
from .security import FORGERIES, TIMED_SCHEMES

__all__ = ["explain_profile", "profile_variables"]


def profile_variables(profile: Profile) -> list[tuple[str, bool, str]]:
    """(variable, required, what for) for every environment variable the profile names."""
    out: list[tuple[str, bool, str]] = []
    if profile.auth.token_env:
        out.append(
            (
                profile.auth.token_env,
                profile.auth.required,
                "bearer token sent to the authed routes",
            )
        )
    secret = " / ".join(profile.webhook.secret_env)
    why = f"the target's test webhook secret ({profile.webhook.scheme} scheme; first set one wins)"
    out.append((secret, profile.upgrade is not None, why))
    if profile.upgrade is not None and profile.upgrade.plan_id_env:
        why = f"a test plan id the target maps to {profile.upgrade.plan!r}"
        out.append((profile.upgrade.plan_id_env, True, why))
    if profile.account_id_env:
        out.append(
            (profile.account_id_env, False, "a standing probe account (else one is minted per run)")
        )
    if profile.cohort is not None and profile.cohort.guard_account_env:
        why = (
            "a standing NON-cohort account: each run tries to delete it and the target must refuse"
        )
        out.append((profile.cohort.guard_account_env, False, why))
    out.append(("PAYMENT_PROBE_BASE_URL", False, "the target's base URL (or --target)"))
    out.append(("PAYMENT_PROBE_ENABLED", False, "0/false/no/off makes the prober inert"))
    return out


def _route(name: str, t: RequestTemplate) -> str:
    extra = []
    if t.fields:
        extra.append(f"2xx answer must carry {', '.join(t.fields)}")
    if t.authed:
        extra.append("must refuse a request without the token")
    tail = f" ({'; '.join(extra)})" if extra else ""
    return f"  {name:<20} {t.method} {t.path}{tail}"


def explain_profile(profile: Profile) -> str:
    """The profile as a wiring checklist (plain text)."""
    lines = [f"profile {profile.name}: {profile.description}".rstrip(": "), "", "environment:"]
    for name, required, why in profile_variables(profile):
        lines.append(f"  {name:<40} {'required' if required else 'optional'}  {why}")
    lines += ["", "routes:"]
    for name, template in (
        ("checkout_reachable", profile.checkout),
        ("billing_state", profile.billing),
        ("invoices_reachable", profile.invoices),
    ):
        lines.append(_route(name, template))
    webhook = profile.webhook
    sent = [FORGERIES[0], FORGERIES[1], FORGERIES[2]]
    if webhook.scheme != "xendit":
        sent.append(FORGERIES[3])
    if webhook.scheme in TIMED_SCHEMES:
        sent.append(FORGERIES[4])
    lines += [
        f"  {'webhook_security':<20} POST {webhook.path} ({webhook.scheme} scheme); forgeries sent: "
        f"{', '.join(sent)}; each must be refused, the unsigned one with "
        f"{webhook.rejection.status} {webhook.rejection.code}",
    ]
    upgrade = profile.upgrade
    if upgrade is None:
        lines.append(f"  {'upgrade_webhook_e2e':<20} not configured (no [upgrade])")
    else:
        lines.append(
            f"  {'upgrade_webhook_e2e':<20} signed event to POST {webhook.path} must answer "
            f"{webhook.accepted_status}, then GET {upgrade.tier_path} must show "
            f"{upgrade.tier_field}={upgrade.plan!r}"
        )
        for e in upgrade.unknown_plan:
            lines.append(f"  {'':<20} {e.status} {e.code} to the signed event = unknown plan id")
    for d in profile.dormant:
        lines.append(
            f"  dormant answer       {d.status} {d.code} (switched off: degraded, no page)"
        )
    lines += ["", "test-cohort API (the target must offer it):"]
    cohort = profile.cohort
    if cohort is None:
        lines.append("  none: the upgrade leg is skipped")
    else:
        lines += [
            f"  mint   POST {cohort.create.path} with {dict(cohort.create.body or {})}; the new id at "
            f"`{cohort.id_field}` of the 2xx answer",
            f"  reap   DELETE {cohort.delete_path}: must delete test-cohort accounts only "
            "(refuse any other, e.g. 409 not_test_cohort)",
            f"  check  GET {cohort.read_path} after the reap: must answer 404 or 410",
        ]
    return "\n".join(lines) + "\n"
