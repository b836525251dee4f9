"""`webhook_security`: the forgery set the profile's signature scheme allows; every one must be refused.

The forgeries (built with `fakes.signing`, the same signers the fakes deliver with):

| forgery | sent | needs the secret |
|---|---|---|
| `no signature header` | the unsigned body, none of the scheme's headers | no |
| `empty signature header` | the scheme's headers present and empty | no |
| `wrong secret` | a correct-looking signature made with a random secret | no |
| `valid signature over another body` | the real secret's signature of a different body (not for `xendit`, whose static token signs no body) | yes |
| `stale timestamp` | the real secret's signature, one hour old (timed schemes: `stripe`, `cdp`, `standard_webhooks`) | yes |

Verdict: a 2xx to any forgery fails with a reason starting `SECURITY:` naming each forgery that got in;
the unsigned one must get the profile's exact `[webhook.rejection]`, the others any 4xx; no answer or a
5xx fails. When every forgery got one of the profile's dormant answers the leg is degraded with a
`dormant:` reason saying that the signature check was not reached (the runner's one dormancy verdict then
decides whether that is a dormant service or a half-switched-off one). Forgeries that need the secret are
listed as not sent when it is unset, never skipped in silence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fakes.signing import signer_for

from .context import LegContext
from .http import Answer
from .legs import dormant_outcome
from .results import DORMANT_PREFIX, SECURITY_PREFIX, LegOutcome
from .templates import render_value

__all__ = ["FORGERIES", "TIMED_SCHEMES", "Forgery", "forgeries", "webhook_security"]

TIMED_SCHEMES = frozenset({"stripe", "cdp", "standard_webhooks"})
UNSIGNED = "no signature header"
FORGERIES = (
    UNSIGNED,
    "empty signature header",
    "wrong secret",
    "valid signature over another body",
    "stale timestamp",
)
STALE_SECONDS = 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class Forgery:
    """One forged delivery: its name, the bytes and the headers."""

    name: str
    body: bytes
    headers: dict[str, str]


def forgeries(ctx: LegContext) -> tuple[list[Forgery], list[str]]:
    """The forgeries to send for the profile's scheme, and the names of those that need the secret."""
    webhook = ctx.profile.webhook
    now = ctx.now()
    values: dict[str, str | int] = {"run_id": ctx.run_id, "now": int(now)}
    body = json.dumps(render_value(webhook.unsigned_body, values), separators=(",", ":")).encode()
    other = json.dumps({"payprobe": "another-body", "run_id": ctx.run_id}).encode()
    plain = {"Content-Type": "application/json"}
    if webhook.event_id_header:
        plain[webhook.event_id_header] = f"evt_payprobe_forged_{ctx.token_hex(8)}"
    wrong = signer_for(webhook.scheme, f"payprobe-wrong-{ctx.token_hex(16)}", now=ctx.now)
    names = tuple(wrong.header_names)
    out = [
        Forgery(name=UNSIGNED, body=body, headers=dict(plain)),
        Forgery(name=FORGERIES[1], body=body, headers={**plain, **{n: "" for n in names}}),
        Forgery(name=FORGERIES[2], body=body, headers={**plain, **wrong.sign(body)}),
    ]
    wanted = []
    if webhook.scheme != "xendit":
        wanted.append(FORGERIES[3])
    if webhook.scheme in TIMED_SCHEMES:
        wanted.append(FORGERIES[4])
    secret = ctx.secrets.webhook_secret
    if secret is None:
        return out, wanted
    real = signer_for(webhook.scheme, secret, now=ctx.now)
    if FORGERIES[3] in wanted:
        out.append(Forgery(name=FORGERIES[3], body=body, headers={**plain, **real.sign(other)}))
    if FORGERIES[4] in wanted:
        old = signer_for(webhook.scheme, secret, now=lambda: now - STALE_SECONDS)
        out.append(Forgery(name=FORGERIES[4], body=body, headers={**plain, **old.sign(body)}))
    return out, []


async def webhook_security(ctx: LegContext) -> LegOutcome:
    """Send every forgery; only refusals pass (see the module docstring)."""
    webhook = ctx.profile.webhook
    sent, unsent = forgeries(ctx)
    accepted: list[str] = []
    wrong: list[str] = []
    dormant: list[LegOutcome] = []
    last: Answer | None = None
    for forgery in sent:
        answer = await ctx.http.request(
            "POST", webhook.path, content=forgery.body, headers=forgery.headers, auth=False
        )
        last = answer
        if answer.status is None:
            return LegOutcome(result="fail", reason=f"target down: {answer.describe()}")
        quiet = dormant_outcome(answer, ctx.profile.dormant)
        if quiet is not None:
            dormant.append(quiet)
        elif 200 <= answer.status < 300:
            accepted.append(f"{forgery.name} ({answer.status})")
        elif answer.status >= 500:
            wrong.append(f"{forgery.name} got {answer.describe()} (5xx)")
        elif forgery.name == UNSIGNED and (
            answer.status != webhook.rejection.status or answer.code != webhook.rejection.code
        ):
            want = f"{webhook.rejection.status} {webhook.rejection.code}"
            wrong.append(f"unsigned payload got {answer.describe()}; want {want}")
    status = None if last is None else last.status
    if accepted:
        return LegOutcome(
            result="fail",
            reason=f"{SECURITY_PREFIX} forged webhook ACCEPTED: {', '.join(accepted)}; "
            "every forgery must be refused",
            http_status=200,
        )
    if wrong:
        return LegOutcome(result="fail", reason="; ".join(wrong), http_status=status)
    note = ""
    if unsent:
        env = " / ".join(webhook.secret_env)
        note = f" (not sent, {env} unset: {', '.join(unsent)})"
    if dormant and len(dormant) == len(sent):
        first = dormant[0].reason.removeprefix(DORMANT_PREFIX).strip()
        return LegOutcome(
            result="degraded",
            reason=f"{DORMANT_PREFIX} {first}; the signature check was not reached{note}",
            http_status=status,
        )
    return LegOutcome(
        result="pass",
        reason=f"{len(sent)} forgeries refused ({', '.join(f.name for f in sent)}){note}",
        http_status=status,
    )
