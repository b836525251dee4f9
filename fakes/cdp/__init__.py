"""Fake Coinbase CDP x402 facilitator (``/verify``, ``/settle``, ``/supported``) with CDP webhooks.

``create_app(CdpConfig())`` returns an ASGI app that verifies real EIP-712 ``TransferWithAuthorization``
signatures from funded test wallets, settles them on an in-memory USDC ledger (one settlement per nonce,
idempotent retries), and sends an ``X-Hook0-Signature``-signed ``x402.settlement.completed`` webhook
for each settlement. See :mod:`fakes.cdp.facilitator` for the checks and :mod:`fakes.cdp.webhooks` for
the event body.
"""

from __future__ import annotations

from fakes.cdp.app import CdpFakeApp, CdpProcessor, create_app
from fakes.cdp.config import (
    BASE_SEPOLIA_USDC,
    KNOWN_NETWORKS,
    CdpConfig,
    FundedAccount,
    NetworkInfo,
    default_funded_accounts,
    derive_test_key,
)
from fakes.cdp.eip3009 import Authorization, TokenDomain, recover_signer, sign_authorization
from fakes.cdp.facilitator import Facilitator, Settlement
from fakes.cdp.webhooks import SETTLEMENT_EVENT_TYPE

__all__ = [
    "BASE_SEPOLIA_USDC",
    "KNOWN_NETWORKS",
    "SETTLEMENT_EVENT_TYPE",
    "Authorization",
    "CdpConfig",
    "CdpFakeApp",
    "CdpProcessor",
    "Facilitator",
    "FundedAccount",
    "NetworkInfo",
    "Settlement",
    "TokenDomain",
    "create_app",
    "default_funded_accounts",
    "derive_test_key",
    "recover_signer",
    "sign_authorization",
]
