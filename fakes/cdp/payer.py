"""A test payer: turns x402 payment requirements into a signed ``X-PAYMENT`` payload with a test key.

The x402 package's own client signer (``x402.mechanisms.evm``) needs ``web3`` (the ``x402[evm]``
extra), which payharness does not install; this payer does the same with eth-account alone, following
the x402 v1 client (x402/mechanisms/evm/exact/v1/client.py): ``validAfter = now - 600``,
``validBefore = now + maxTimeoutSeconds`` (600 when absent), a random 32-byte nonce, and the EIP-712
domain from ``extra`` (``{"name": "USDC", "version": "2"}``). The header is base64 of the JSON
``PaymentPayload`` (PROCESSORS.md 3.1 "Client request").
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account

from fakes.cdp.config import KNOWN_NETWORKS
from fakes.cdp.eip3009 import Authorization, TokenDomain, sign_authorization

__all__ = ["X402Payer"]


@dataclass(frozen=True, slots=True, kw_only=True)
class X402Payer:
    """Signs EIP-3009 authorizations for one test wallet (``private_key``), on an injected clock."""

    private_key: str
    now: Callable[[], float] = time.time

    @property
    def address(self) -> str:
        """The checksummed address of the wallet."""
        return str(Account.from_key(self.private_key).address)

    def payment_payload(
        self,
        requirements: Mapping[str, Any],
        *,
        value_atomic: int | None = None,
        valid_after: int | None = None,
        valid_before: int | None = None,
        nonce: str | None = None,
        pay_to: str | None = None,
    ) -> dict[str, Any]:
        """Return the v1 ``PaymentPayload`` JSON paying ``requirements`` (one ``accepts`` entry).

        Keyword overrides build deliberately wrong payments for tests (short value, expired window,
        reused nonce, another recipient).
        """
        network = KNOWN_NETWORKS.get(str(requirements["network"]))
        if network is None:
            raise ValueError(f"unknown v1 network {requirements['network']!r}")
        extra = requirements.get("extra") or {}
        now = int(self.now())
        timeout = int(requirements.get("maxTimeoutSeconds") or 600)
        authorization = Authorization(
            from_address=self.address,
            to=pay_to if pay_to is not None else str(requirements["payTo"]),
            value_atomic=(
                value_atomic if value_atomic is not None else int(requirements["maxAmountRequired"])
            ),
            valid_after=valid_after if valid_after is not None else now - 600,
            valid_before=valid_before if valid_before is not None else now + timeout,
            nonce=nonce if nonce is not None else "0x" + secrets.token_hex(32),
        )
        domain = TokenDomain(
            name=str(extra.get("name", network.token_name)),
            version=str(extra.get("version", network.token_version)),
            chain_id=network.chain_id,
            verifying_contract=str(requirements["asset"]),
        )
        return {
            "x402Version": 1,
            "scheme": str(requirements["scheme"]),
            "network": network.v1_name,
            "payload": {
                "signature": sign_authorization(self.private_key, authorization, domain),
                "authorization": authorization.to_wire(),
            },
        }

    def x_payment(self, requirements: Mapping[str, Any], **overrides: Any) -> str:
        """Return the ``X-PAYMENT`` header value: base64 of the compact payload JSON."""
        payload = self.payment_payload(requirements, **overrides)
        return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
