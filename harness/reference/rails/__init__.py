"""Rail adapters: how the reference service talks to each processor, behind one Protocol."""

from __future__ import annotations

from .base import (
    CheckoutStarted,
    PayloadInvalid,
    PaymentReceived,
    ProcessorEvent,
    ProcessorRecord,
    RailAdapter,
    RailError,
    SignatureInvalid,
    SignatureMissing,
    SubscriptionCanceled,
    SubscriptionLinked,
    SubscriptionPaid,
    TopupStarted,
)

__all__ = [
    "CheckoutStarted",
    "PayloadInvalid",
    "PaymentReceived",
    "ProcessorEvent",
    "ProcessorRecord",
    "RailAdapter",
    "RailError",
    "SignatureInvalid",
    "SignatureMissing",
    "SubscriptionCanceled",
    "SubscriptionLinked",
    "SubscriptionPaid",
    "TopupStarted",
]
