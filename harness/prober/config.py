"""The prober's configuration: frozen objects built once at the edge from arguments and the environment.

`harness/cli.py` is the only place that reads `os.environ`; it hands the mapping to `probe_command`, which
calls `secrets_from_env` and `parse_enabled_flag` here. Nothing else in the prober sees the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from harness.redaction import redact_url

from .errors import InvalidEnabledFlag, InvalidTarget
from .profile import Profile

__all__ = [
    "DEFAULT_TARGET",
    "HTTP_TIMEOUT_CAP_SECONDS",
    "ProbeConfig",
    "ProbeSecrets",
    "Redactor",
    "display_target",
    "leg_timeout_seconds",
    "normalize_target",
    "parse_enabled_flag",
    "secrets_from_env",
]

DEFAULT_TARGET = "http://127.0.0.1:8000"

#: No request, and no leg, waits longer than this (PRIOR_ART.md §3 `paymentProbeHTTPTimeout = 15s`).
HTTP_TIMEOUT_CAP_SECONDS = 15.0

_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"0", "false", "no", "off"})


def parse_enabled_flag(value: str | None) -> bool:
    """`PAYMENT_PROBE_ENABLED`: unset or blank means enabled; `0/false/no/off` (any case) means inert.

    Anything else is refused rather than guessed: a typo must neither silence the heartbeat nor start it
    against a service someone meant to leave alone.
    """
    if value is None or not value.strip():
        return True
    text = value.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InvalidEnabledFlag(
        f"PAYMENT_PROBE_ENABLED={value!r} is neither on (1/true/yes/on) nor off (0/false/no/off)"
    )


def normalize_target(url: str) -> str:
    """An absolute http(s) base URL with a host, trailing `/` trimmed (PRIOR_ART.md §3 URL validation)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InvalidTarget(f"target {url!r} is not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidTarget(f"target {url!r} must start with http:// or https://")
    if not parts.hostname:
        raise InvalidTarget(f"target {url!r} has no host")
    if parts.query or parts.fragment:
        raise InvalidTarget(f"target {url!r} must be a base URL, without query or fragment")
    return text.rstrip("/")


def display_target(url: str) -> str:
    """The target as it may appear in logs, metrics and the audit trail: any `user:password@` removed."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return redact_url(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return redact_url(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)))


def leg_timeout_seconds(budget_seconds: float) -> float:
    """2 x budget, capped at 15 s; a zero budget also gets 15 s (PRIOR_ART.md §3 `runLeg`)."""
    if budget_seconds <= 0:
        return HTTP_TIMEOUT_CAP_SECONDS
    return min(2 * budget_seconds, HTTP_TIMEOUT_CAP_SECONDS)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeSecrets:
    """Values taken from the environment. `repr` hides the secret ones so they never reach a log."""

    token: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    #: which variable the webhook secret came from (a name, safe to print in a "missing" reason)
    webhook_secret_env: str | None = None
    plan_id: str | None = None
    account_id: str | None = None
    #: a standing non-cohort account the reap guard is tried on (`[cohort] guard_account_env`)
    guard_account_id: str | None = None

    def secret_values(self) -> tuple[str, ...]:
        """The values that must never appear in logs, metrics or the audit trail."""
        return tuple(v for v in (self.token, self.webhook_secret) if v)


def _value(env: Mapping[str, str], name: str | None) -> str | None:
    if not name:
        return None
    value = env.get(name)
    return value if value and value.strip() else None


def secrets_from_env(profile: Profile, env: Mapping[str, str]) -> ProbeSecrets:
    """Read the variables the profile names; the first non-empty `secret_env` variable wins."""
    secret = secret_env = None
    for name in profile.webhook.secret_env:
        secret = _value(env, name)
        if secret is not None:
            secret_env = name
            break
    return ProbeSecrets(
        token=_value(env, profile.auth.token_env),
        webhook_secret=secret,
        webhook_secret_env=secret_env,
        plan_id=_value(env, profile.upgrade.plan_id_env if profile.upgrade else None),
        account_id=_value(env, profile.account_id_env),
        guard_account_id=_value(env, profile.cohort.guard_account_env if profile.cohort else None),
    )


class Redactor:
    """Replaces every known secret value in a text by `[redacted]` (longest first, so overlaps go too)."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def __repr__(self) -> str:
        return f"Redactor(secrets={len(self._secrets)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeConfig:
    """One prober: which target, which profile, which secrets, and per-leg budget overrides."""

    target: str
    profile: Profile
    secrets: ProbeSecrets = field(default_factory=ProbeSecrets)
    #: overrides of the profile's budgets, by leg name (seconds)
    budgets_seconds: Mapping[str, float] = field(default_factory=dict)
    user_agent: str = "payharness-payment-probe/1"

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", normalize_target(self.target))

    def budget_for(self, leg: str) -> float:
        """The budget of `leg`: an override, else the profile's, else 15 s."""
        if leg in self.budgets_seconds:
            return self.budgets_seconds[leg]
        return self.profile.budgets_seconds.get(leg, HTTP_TIMEOUT_CAP_SECONDS)
