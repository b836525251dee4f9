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

__all__ = ["EVENT_TYPES", "Callback", "envelope"]

#: Every callback event the Xendit fake sends (the envelope ones and the flat ``invoice.paid``): the
#: catalog ``payharness trigger xendit`` must cover. :func:`envelope` refuses any other.
EVENT_TYPES: frozenset[str] = frozenset(
    {
        "invoice.paid",
        "payment.awaiting_capture",
        "payment.failed",
        "payment.succeeded",
        "payment_method.activated",
        "payment_method.expired",
        "payout.failed",
        "payout.succeeded",
        "recurring.cycle.created",
        "recurring.cycle.failed",
        "recurring.cycle.force_attempt_failed",
        "recurring.cycle.retrying",
        "recurring.cycle.succeeded",
        "recurring.plan.activated",
        "recurring.plan.inactivated",
        "refund.failed",
        "refund.succeeded",
    }
)


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
    if event not in EVENT_TYPES:
        # A new event goes in EVENT_TYPES, with a trigger recipe (fakes/trigger/xendit.py).
        raise ValueError(f"{event!r} is not in fakes.xendit.events.EVENT_TYPES")
    body: dict[str, Any] = {
        "event": event,
        "business_id": config.business_id,
        "created": isoformat(config.now()),
        "data": copy.deepcopy(data),
    }
    if api_version:
        body["api_version"] = config.recurring_api_version
    return Callback(event_id=ids.uuid("callback"), event=event, body=body)
