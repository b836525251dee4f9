"""The rail Protocol, the normalised events adapters produce, and outbound retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, TypeVar

__all__ = [
    "RAILS",
    "CheckoutStarted",
    "PayloadInvalid",
    "PaymentReceived",
    "ProcessorEvent",
    "ProcessorRecord",
    "RailAdapter",
    "RailError",
    "RetryPolicy",
    "SignatureInvalid",
    "SignatureMissing",
    "SubscriptionCanceled",
    "SubscriptionLinked",
    "SubscriptionPaid",
    "TopupStarted",
    "call_with_retries",
]

log = logging.getLogger("payharness.reference.rails")

RAILS = ("stripe", "cdp", "xendit")
T = TypeVar("T")


class RailError(Exception):
    """A processor call that did not succeed; `retryable` says whether trying again could help."""

    def __init__(
        self, rail: str, code: str, message: str, *, retryable: bool, status: int | None = None
    ):
        super().__init__(f"{rail}: {code}: {message}")
        self.rail = rail
        self.code = code
        self.message = message
        self.retryable = retryable
        self.status = status


class SignatureMissing(Exception):
    """The webhook carries no signature header of its rail."""


class SignatureInvalid(Exception):
    """The webhook's signature does not verify (or is outside its time window)."""


class PayloadInvalid(Exception):
    """The webhook verified but its body is not an event we can read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Bounded retries with exponential backoff, on 5xx, timeouts and resets only."""

    max_retries: int = 3
    backoff_seconds: float = 0.05


async def call_with_retries(rail: str, policy: RetryPolicy, op: Callable[[], Awaitable[T]]) -> T:
    """Run `op`, retrying retryable `RailError`s. The caller fixes the idempotency key outside `op`, so
    every attempt carries the same key (the processor sees one object)."""
    attempt = 0
    while True:
        try:
            return await op()
        except RailError as exc:
            if not exc.retryable or attempt >= policy.max_retries:
                raise
            delay = policy.backoff_seconds * (2**attempt)
            attempt += 1
            log.warning("retrying %s call after %s (attempt %d)", rail, exc.code, attempt)
            await asyncio.sleep(delay)


@dataclass(frozen=True, slots=True, kw_only=True)
class TopupStarted:
    """What a processor gave back when a top-up started."""

    processor_ref: str | None
    details: dict[str, Any] = field(default_factory=dict)
    customer_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutStarted:
    """What a processor gave back when a subscription checkout started."""

    checkout_ref: str
    url: str | None
    subscription_ref: str | None = None
    customer_ref: str | None = None


#: The JSON types an effect's fields may hold (annotations are strings under postponed evaluation).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "str | None": (str, type(None)),
    "int | None": (int, type(None)),
}


def _typed(effect: object) -> None:
    """Refuse an effect whose field holds another JSON type (a list for an account id, a bool for an
    amount): `TypeError`, which the adapters turn into `400 invalid_payload`, never a 500 further on."""
    for f in fields(effect):  # type: ignore[arg-type]
        allowed = _FIELD_TYPES.get(str(f.type))
        value = getattr(effect, f.name)
        if allowed and (not isinstance(value, allowed) or isinstance(value, bool)):
            raise TypeError(f"{f.name} is a {type(value).__name__}, not {f.type}")


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentReceived:
    """Money the processor says it received (credit the wallet if it is USD and attributable)."""

    processor_ref: str
    amount_text: str  # exact amount in the currency's major units
    currency: str
    amount_micros: int | None  # None when the currency is not USD
    customer_ref: str | None = None
    topup_ref: str | None = None
    account_id: str | None = None

    def __post_init__(self) -> None:
        _typed(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionLinked:
    """A checkout turned into a processor subscription (no tier change by itself)."""

    subscription_ref: str
    checkout_ref: str | None
    account_id: str | None
    plan: str | None
    local_id: str | None = None

    def __post_init__(self) -> None:
        _typed(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionPaid:
    """The processor charged a subscription: the only event that raises `plan_tier`."""

    subscription_ref: str
    invoice_ref: str
    amount_text: str
    currency: str
    account_id: str | None = None
    plan: str | None = None
    checkout_ref: str | None = None
    local_id: str | None = None

    def __post_init__(self) -> None:
        _typed(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionCanceled:
    """The subscription ended: the tier falls back to free."""

    subscription_ref: str
    local_id: str | None = None

    def __post_init__(self) -> None:
        _typed(self)


Effect = PaymentReceived | SubscriptionLinked | SubscriptionPaid | SubscriptionCanceled


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessorEvent:
    """A verified webhook, normalised: its dedupe id, type, time and what it means for us."""

    event_id: str
    event_type: str
    #: the processor's timestamp (unix seconds, 0 when absent or unreadable), for the record only: no
    #: effect depends on it (dedupe is by event id; order is settled by state, e.g. a remembered
    #: cancellation, not by time), so a misread `created` changes nothing a client can see
    created: int
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessorRecord:
    """A payment as the processor lists it, for reconciliation."""

    processor_ref: str
    amount_text: str
    currency: str
    amount_micros: int | None
    customer_ref: str | None = None
    topup_ref: str | None = None


class RailAdapter(Protocol):
    """One processor, as the service needs it."""

    name: str

    async def start_topup(
        self, *, topup_id: str, account_id: str, amount_micros: int, customer_ref: str | None
    ) -> TopupStarted:
        """Start a top-up at the processor (idempotently, keyed by `topup_id`)."""
        ...

    async def start_checkout(
        self,
        *,
        subscription_id: str,
        account_id: str,
        plan: str,
        price_micros: int,
        customer_ref: str | None,
    ) -> CheckoutStarted:
        """Start a plan subscription at the processor."""
        ...

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise `SignatureMissing` or `SignatureInvalid` unless the delivery is authentic."""
        ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """Read a verified delivery; raise `PayloadInvalid` when it is not an event."""
        ...

    async def list_payments(self, customer_refs: list[str]) -> list[ProcessorRecord] | None:
        """The processor's own records of received money, or None when it has no listing API."""
        ...

    async def aclose(self) -> None:
        """Release HTTP clients."""
        ...
