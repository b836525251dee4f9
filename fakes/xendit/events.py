"""Callbacks of Xendit's newer products: the ``{event, business_id, created, data, api_version}`` envelope.

PROCESSORS.md 2.1 "Envelope (newer products)". Used by recurring (``recurring.plan.*``,
``recurring.cycle.*``), payment requests (``payment.succeeded``, ``payment.failed``,
``payment.awaiting_capture``), payment methods (``payment_method.activated``, ``payment_method.expired``),
refunds (``refund.succeeded``, ``refund.failed``) and payouts (``payout.succeeded``, ``payout.failed``).
The invoice callback is flat and built in :mod:`fakes.xendit.invoices`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from fakes.xendit.config import XenditConfig
from fakes.xendit.ids import IdFactory, isoformat

__all__ = ["Callback", "envelope"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Callback:
    """One callback to deliver: its event name and the envelope body."""

    event_id: str
    event: str
    body: dict[str, Any]


def envelope(
    config: XenditConfig,
    ids: IdFactory,
    event: str,
    data: dict[str, Any],
    *,
    api_version: bool = True,
) -> Callback:
    """The callback ``event`` about ``data`` (a deep copy is taken, so later changes do not leak in).

    ``api_version=False`` leaves the ``api_version`` field out: the SDK's callback models of payments,
    payment methods and refunds (``PaymentCallback``, ``PaymentMethodCallback``, ``RefundCallback``)
    have only ``event``, ``business_id``, ``created`` and ``data``.
    """
    body: dict[str, Any] = {
        "event": event,
        "business_id": config.business_id,
        "created": isoformat(config.now()),
        "data": copy.deepcopy(data),
    }
    if api_version:
        body["api_version"] = config.recurring_api_version
    return Callback(event_id=ids.uuid("callback"), event=event, body=body)
