"""All three fakes at once on loopback ports: what `payharness fakes` runs and what a gate starts for a URL
target. It prints the settings a payments service needs to use them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fakes._common.server import LoopbackServer
from fakes.cdp import CdpConfig, CdpFakeApp
from fakes.cdp import create_app as create_cdp
from fakes.stripe import StripeConfig, StripeFakeApp
from fakes.stripe import create_app as create_stripe
from fakes.xendit import XenditConfig, XenditFakeApp
from fakes.xendit import create_app as create_xendit

__all__ = ["DEFAULT_PAY_TO", "FakeStack", "StackConfig", "service_env"]

#: the merchant address x402 payments go to, unless the target says otherwise
DEFAULT_PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"


def service_env(
    urls: Mapping[str, str],
    *,
    api_keys: Mapping[str, str],
    secrets: Mapping[str, str],
    pay_to: str,
) -> dict[str, str]:
    """The environment a payments service needs for the fakes at `urls` (by rail; absent rails are left out).

    These are exactly the variables the reference service reads (`settings_from_env`).
    """
    env: dict[str, str] = {}
    if "stripe" in urls:
        env.update(
            STRIPE_API_BASE=urls["stripe"],
            STRIPE_API_KEY=api_keys["stripe"],
            STRIPE_WEBHOOK_SECRET=secrets["stripe"],
        )
    if "xendit" in urls:
        env.update(
            XENDIT_API_BASE=urls["xendit"],
            XENDIT_API_KEY=api_keys["xendit"],
            XENDIT_CALLBACK_TOKEN=secrets["xendit"],
        )
    if "cdp" in urls:
        env.update(
            CDP_FACILITATOR_URL=urls["cdp"],
            CDP_WEBHOOK_SECRET=secrets["cdp"],
            CDP_PAY_TO=pay_to,
        )
    return env


@dataclass(frozen=True, slots=True, kw_only=True)
class StackConfig:
    """Where the fakes listen and where their webhooks go."""

    host: str = "127.0.0.1"
    stripe_port: int = 0
    cdp_port: int = 0
    xendit_port: int = 0
    #: base URL of the payments service; its `/v1/payments/webhook/{rail}` receives every fake's events
    webhook_target: str | None = None
    webhook_path: str = "/v1/payments/webhook/{rail}"
    #: full webhook URLs by rail, for a service whose webhook paths are its own; they win over
    #: `webhook_target` + `webhook_path` for their rails
    webhook_urls: Mapping[str, str] = field(default_factory=dict)
    stripe: StripeConfig = field(default_factory=StripeConfig)
    cdp: CdpConfig = field(default_factory=CdpConfig)
    xendit: XenditConfig = field(default_factory=XenditConfig)
    pay_to: str = DEFAULT_PAY_TO


class FakeStack:
    """Fake Stripe, CDP and Xendit, each on its own loopback server; a context manager."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.stripe: StripeFakeApp = create_stripe(self.config.stripe)
        self.cdp: CdpFakeApp = create_cdp(self.config.cdp)
        self.xendit: XenditFakeApp = create_xendit(self.config.xendit)
        c = self.config
        self.servers = {
            "stripe": LoopbackServer(self.stripe, c.host, c.stripe_port),
            "cdp": LoopbackServer(self.cdp, c.host, c.cdp_port),
            "xendit": LoopbackServer(self.xendit, c.host, c.xendit_port),
        }

    @property
    def apps(self) -> dict[str, Any]:
        """The fakes by rail name."""
        return {"stripe": self.stripe, "cdp": self.cdp, "xendit": self.xendit}

    def secrets(self) -> dict[str, str]:
        """The webhook secret (or callback token) each fake signs with."""
        return {
            "stripe": self.config.stripe.webhook_secret,
            "cdp": self.config.cdp.webhook_secret,
            "xendit": self.config.xendit.callback_token,
        }

    def start(self) -> FakeStack:
        """Start every server, then register the webhook target on each fake."""
        for server in self.servers.values():
            server.start()
        if self.config.webhook_target or self.config.webhook_urls:
            self.register_webhook_target(self.config.webhook_target)
        return self

    def webhook_urls(self, base_url: str | None) -> dict[str, str]:
        """Where each rail's webhooks go: `webhook_urls` for its rails, else `base_url` + the rail's path."""
        urls = {
            rail: base_url.rstrip("/") + self.config.webhook_path.format(rail=rail)
            for rail in self.apps
            if base_url
        }
        unknown = set(self.config.webhook_urls) - set(self.apps)
        if unknown:
            raise ValueError(f"no fake for rail(s) {sorted(unknown)}: use stripe, cdp or xendit")
        urls.update(self.config.webhook_urls)
        return urls

    def register_webhook_target(self, base_url: str | None) -> None:
        """Send each fake's webhooks to its URL (see :meth:`webhook_urls`), signed with its secret."""
        secrets = self.secrets()
        for rail, url in self.webhook_urls(base_url).items():
            self.apps[rail].webhooks.add_endpoint(url, secret=secrets[rail])

    def stop(self) -> None:
        """Stop every server."""
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> FakeStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The environment a payments service needs to use these fakes (the reference reads exactly these)."""
        return service_env(
            {rail: server.base_url for rail, server in self.servers.items()},
            api_keys={
                "stripe": self.config.stripe.api_keys[0],
                "xendit": self.config.xendit.secret_key,
            },
            secrets=self.secrets(),
            pay_to=self.config.pay_to,
        )

    def test_wallets(self) -> list[tuple[str, str, int]]:
        """Funded x402 test wallets: (address, private key, balance in atomic USDC)."""
        return [
            (a.address, a.private_key, a.balance_atomic) for a in self.config.cdp.funded_accounts
        ]
