"""Settings of the reference payments service: frozen config objects, read from the environment only at the
entry point (`settings_from_env`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "USDC_BASE_SEPOLIA",
    "CdpRail",
    "ReferenceSettings",
    "StripeRail",
    "XenditRail",
    "parse_live_flag",
    "settings_from_env",
]

#: USDC on Base Sepolia (PROCESSORS.md 3.1, X402-V1 examples).
USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"

_LIVE_SPELLINGS = frozenset({"1", "true", "yes", "on"})


def parse_live_flag(value: str | None) -> bool:
    """Return True only for `1/true/yes/on` (any case, surrounding spaces ignored).

    Everything else, unset included, means dormant: a typo must never switch money on.
    """
    if value is None:
        return False
    return value.strip().lower() in _LIVE_SPELLINGS


@dataclass(frozen=True, slots=True, kw_only=True)
class StripeRail:
    """How the service reaches Stripe (or the fake Stripe)."""

    api_base: str
    api_key: str
    webhook_secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class XenditRail:
    """How the service reaches Xendit (or the fake Xendit)."""

    api_base: str
    api_key: str
    callback_token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CdpRail:
    """How the service reaches the x402 facilitator and verifies CDP (Hook0) webhooks."""

    facilitator_url: str
    webhook_secret: str
    pay_to: str
    network: str = "base-sepolia"
    asset: str = USDC_BASE_SEPOLIA
    max_timeout_seconds: int = 60


def _default_plans() -> dict[str, int]:
    return {"pro": 20_000_000, "team": 100_000_000}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceSettings:
    """Everything the reference service needs; built once at the edge and passed to `create_app`."""

    payments_live: bool = False
    database_url: str = "sqlite+aiosqlite:///./payharness-reference.sqlite3"
    admin_secret: str | None = None
    stripe: StripeRail | None = None
    xendit: XenditRail | None = None
    cdp: CdpRail | None = None
    default_margin_bps: int = 2_000
    min_margin_bps: int = 0
    max_margin_bps: int = 10_000
    settle_timeout_seconds: float = 30.0
    outbound_timeout_seconds: float = 10.0
    outbound_max_retries: int = 3
    outbound_backoff_seconds: float = 0.05
    max_body_bytes: int = 1024 * 1024
    #: request header limits (431 past either): the total bytes of names and values, and the count
    max_header_bytes: int = 32 * 1024
    max_header_count: int = 100
    public_base_url: str = "http://127.0.0.1:8000"
    #: monthly plan prices in micro-USD
    plan_prices_micros: Mapping[str, int] = field(default_factory=_default_plans)
    create_schema: bool = True

    def __post_init__(self) -> None:
        if self.min_margin_bps < 0:
            raise ValueError("min_margin_bps must be >= 0: a charge is never below cost")
        if self.min_margin_bps > self.max_margin_bps:
            raise ValueError("min_margin_bps must not exceed max_margin_bps")
        if self.settle_timeout_seconds <= 0:
            raise ValueError("settle_timeout_seconds must be positive")


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value not in (None, "") else None


def settings_from_env(env: Mapping[str, str]) -> ReferenceSettings:
    """Build settings from environment variables (the only place the environment is read).

    A rail is configured when all of its variables are set; a half-configured rail is reported as an error
    rather than silently left off.
    """
    stripe = xendit = cdp = None
    stripe_vars = ("STRIPE_API_BASE", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET")
    xendit_vars = ("XENDIT_API_BASE", "XENDIT_API_KEY", "XENDIT_CALLBACK_TOKEN")
    cdp_vars = ("CDP_FACILITATOR_URL", "CDP_WEBHOOK_SECRET", "CDP_PAY_TO")
    for names in (stripe_vars, xendit_vars, cdp_vars):
        present = [n for n in names if _get(env, n)]
        if present and len(present) != len(names):
            missing = ", ".join(n for n in names if n not in present)
            raise ValueError(f"incomplete rail configuration: missing {missing}")
    if _get(env, "STRIPE_API_KEY"):
        stripe = StripeRail(
            api_base=env["STRIPE_API_BASE"],
            api_key=env["STRIPE_API_KEY"],
            webhook_secret=env["STRIPE_WEBHOOK_SECRET"],
        )
    if _get(env, "XENDIT_API_KEY"):
        xendit = XenditRail(
            api_base=env["XENDIT_API_BASE"],
            api_key=env["XENDIT_API_KEY"],
            callback_token=env["XENDIT_CALLBACK_TOKEN"],
        )
    if _get(env, "CDP_FACILITATOR_URL"):
        cdp = CdpRail(
            facilitator_url=env["CDP_FACILITATOR_URL"],
            webhook_secret=env["CDP_WEBHOOK_SECRET"],
            pay_to=env["CDP_PAY_TO"],
            network=env.get("CDP_NETWORK") or "base-sepolia",
            asset=env.get("CDP_ASSET") or USDC_BASE_SEPOLIA,
        )
    kwargs: dict[str, object] = {}
    for var, key, conv in (
        ("PAYHARNESS_DATABASE_URL", "database_url", str),
        ("MIN_MARGIN_BPS", "min_margin_bps", int),
        ("MAX_MARGIN_BPS", "max_margin_bps", int),
        ("DEFAULT_MARGIN_BPS", "default_margin_bps", int),
        ("SETTLE_TIMEOUT_SECONDS", "settle_timeout_seconds", float),
        ("PUBLIC_BASE_URL", "public_base_url", str),
    ):
        raw = _get(env, var)
        if raw is not None:
            kwargs[key] = conv(raw)
    return ReferenceSettings(
        payments_live=parse_live_flag(env.get("PAYMENTS_LIVE")),
        admin_secret=_get(env, "ADMIN_SECRET"),
        stripe=stripe,
        xendit=xendit,
        cdp=cdp,
        **kwargs,  # type: ignore[arg-type]
    )
