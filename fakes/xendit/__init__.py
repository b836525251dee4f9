"""Fake Xendit: invoices with flat PAID callbacks, customers, recurring plans and cycles, balance.

``create_app(XenditConfig())`` returns an ASGI app that xendit-python's ``InvoiceApi`` and ``BalanceApi``
accept, with Basic auth on a development key, ``idempotency-key`` replay, ``x-callback-token`` callbacks
on Xendit's retry schedule, and test helpers under ``/_fake/`` (see :mod:`fakes.xendit.app`).
"""

from __future__ import annotations

from fakes.xendit.app import XenditFakeApp, XenditProcessor, create_app
from fakes.xendit.config import CALLBACK_RETRY_DELAYS_SECONDS, XenditConfig

__all__ = [
    "CALLBACK_RETRY_DELAYS_SECONDS",
    "XenditConfig",
    "XenditFakeApp",
    "XenditProcessor",
    "create_app",
]
