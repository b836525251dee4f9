"""CDP trigger recipe: ``x402.settlement.completed``, from a real signed x402 payment settled on the fake.

The recipe signs an EIP-3009 authorization with the fake's first funded test wallet (its key is in
``GET /_fake/config``) for 0.01 USDC on the first served network and posts it to ``/settle``, so the
wallet is debited and the fake emits its Hook0-signed settlement webhook as for any payment.
"""

from __future__ import annotations

from fakes._common.errors import FakeError
from fakes._common.triggering import Recipe, TriggerContext
from fakes.cdp.payer import X402Payer
from fakes.trigger._http import call

__all__ = ["RECIPES"]

#: Where the triggered payment goes (a fixed address with no key: nobody spends it).
TRIGGER_PAY_TO = "0x000000000000000000000000000000000000dEaD"


async def settlement_completed(ctx: TriggerContext) -> None:
    network = ctx.config["networks"][0]
    account = ctx.config["funded_accounts"][0]
    requirements = {
        "scheme": "exact",
        "network": network["v1"],
        "maxAmountRequired": "10000",
        "resource": "https://payharness.invalid/trigger",
        "description": "payharness trigger",
        "mimeType": "application/json",
        "payTo": TRIGGER_PAY_TO,
        "maxTimeoutSeconds": 600,
        "asset": network["usdc"],
        "extra": dict(network["eip712_domain"]),
    }
    payment = X402Payer(private_key=account["private_key"]).payment_payload(requirements)
    headers: dict[str, str] = {}
    if ctx.config.get("bearer_token"):
        headers["Authorization"] = f"Bearer {ctx.config['bearer_token']}"
    body = {"x402Version": 1, "paymentPayload": payment, "paymentRequirements": requirements}
    settled = await call(ctx.api, "POST", "/settle", json=body, headers=headers)
    if not settled.get("success"):
        raise FakeError(
            f"the trigger payment was refused: {settled.get('errorReason')}",
            code="trigger_step_failed",
        )


RECIPES: dict[str, Recipe] = {"x402.settlement.completed": settlement_completed}
