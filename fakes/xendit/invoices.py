"""Xendit invoices: create, read, list, expire, and the test-only "customer paid" transition.

Wire shapes follow xendit-python's generated models (``Invoice``, ``InvoiceCallback``) and PROCESSORS.md
2.3/2.4. Statuses: ``PENDING`` → ``PAID`` (test helper) or ``EXPIRED`` (``expire!``, or ``expiry_date``
passing on the injected clock, applied lazily on read). ``SETTLED`` is never reached: the fake has no
settlement cycle. Paying credits the account's CASH balance in the invoice currency.

Invoices have no documented idempotency header (PROCESSORS.md 2.5 item 7); the fake honours
``idempotency-key`` on them anyway (in the app), and does not reject a repeated ``external_id``
(UNVERIFIED whether Xendit does), because a reference service keys its own retries on it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fakes.xendit.amounts import check_amount, from_minor, to_minor
from fakes.xendit.balances import Balances
from fakes.xendit.config import XenditConfig
from fakes.xendit.errors import XenditApiError, validation_error
from fakes.xendit.ids import IdFactory, isoformat

__all__ = ["MAX_INVOICE_DURATION_SECONDS", "Invoice", "InvoiceBook", "plain_json"]

_STATUSES = ("PENDING", "PAID", "SETTLED", "EXPIRED")
#: One year; Xendit's own ceiling is UNVERIFIED, but an unbounded duration cannot be dated.
MAX_INVOICE_DURATION_SECONDS = 365 * 24 * 3600
_PAYMENT_METHODS = (
    "BANK_TRANSFER",
    "CREDIT_CARD",
    "EWALLET",
    "RETAIL_OUTLET",
    "QR_CODE",
    "DIRECT_DEBIT",
    "PAYLATER",
)
# The Xendit default invoice logo; the SDK's Invoice model requires the field.
_PROFILE_PICTURE_URL = "https://du8nwjtfkinx.cloudfront.net/xendit.png"
_ECHOED = ("description", "payer_email", "success_redirect_url", "failure_redirect_url", "locale")
_ECHOED_STRUCTURES = ("items", "fees", "metadata", "customer", "customer_notification_preference")


def plain_json(value: Any) -> Any:
    """``value`` with every ``Decimal`` (from ``parse_float=Decimal``) turned back into int/float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value


@dataclass(slots=True, kw_only=True)
class Invoice:
    """One invoice's state; ``*_minor`` amounts are integer minor units of ``currency``."""

    id: str
    external_id: str
    currency: str
    amount_minor: int
    created: float
    expires_at: float
    status: str = "PENDING"
    updated: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)
    paid_amount_minor: int | None = None
    paid_at: float | None = None
    payment: dict[str, Any] = field(default_factory=dict)


class InvoiceBook:
    """Every invoice of one fake Xendit account (thread-safe)."""

    def __init__(self, config: XenditConfig, ids: IdFactory, balances: Balances) -> None:
        self._config = config
        self._ids = ids
        self._balances = balances
        self._lock = threading.Lock()
        self._invoices: dict[str, Invoice] = {}

    def reset(self) -> None:
        """Forget every invoice."""
        with self._lock:
            self._invoices.clear()

    def create(self, body: object) -> Invoice:
        """Validate a ``POST /v2/invoices`` body (parsed with ``parse_float=Decimal``) and store it."""
        if not isinstance(body, dict):
            raise validation_error("request body must be a JSON object")
        external_id = body.get("external_id")
        if not isinstance(external_id, str) or not external_id.strip():
            raise validation_error('"external_id" is required and must be a non-empty string')
        currency = body.get("currency", self._config.default_currency)
        if not isinstance(currency, str) or currency not in self._config.currencies:
            raise XenditApiError(
                400,
                "UNSUPPORTED_CURRENCY",
                f"currency {currency!r} is not activated on this account",
            )
        try:
            amount_minor = to_minor(body.get("amount"), currency)
        except ValueError as exc:
            raise validation_error(f'"amount" is invalid: {exc}') from exc
        check_amount(amount_minor, currency)
        email = body.get("payer_email")
        if email is not None and (not isinstance(email, str) or "@" not in email):
            raise XenditApiError(400, "EMAIL_FORMAT_ERROR", '"payer_email" is not a valid email')
        duration = body.get("invoice_duration", self._config.invoice_duration_seconds)
        if (
            isinstance(duration, bool)
            or not isinstance(duration, (int, Decimal))
            or not 0 < duration <= MAX_INVOICE_DURATION_SECONDS
        ):
            raise validation_error(
                f'"invoice_duration" must be between 1 and {MAX_INVOICE_DURATION_SECONDS} seconds'
            )
        for name in _ECHOED:
            if body.get(name) is not None and not isinstance(body[name], str):
                raise validation_error(f'"{name}" must be a string')
        now = self._config.now()
        invoice = Invoice(
            id=self._ids.object_id("invoice", now),
            external_id=external_id,
            currency=currency,
            amount_minor=amount_minor,
            created=now,
            updated=now,
            expires_at=now + float(duration),
            fields={
                name: plain_json(body[name])
                for name in (*_ECHOED, *_ECHOED_STRUCTURES)
                if body.get(name) is not None
            },
        )
        with self._lock:
            self._invoices[invoice.id] = invoice
        return invoice

    def get(self, invoice_id: str) -> Invoice:
        """The invoice ``invoice_id`` (expired first if its time has passed), or 404."""
        with self._lock:
            invoice = self._invoices.get(invoice_id)
            if invoice is None:
                raise XenditApiError(
                    404, "INVOICE_NOT_FOUND_ERROR", f"invoice {invoice_id} was not found"
                )
            self._expire_if_due(invoice)
            return invoice

    def list(self, query: list[tuple[str, str]]) -> list[Invoice]:
        """``GET /v2/invoices``: newest first; filters ``external_id``, ``statuses``, ``limit``,
        ``last_invoice`` (return invoices after that id). Other filters are ignored."""
        external_id: str | None = None
        statuses: set[str] = set()
        limit = 10
        last_invoice: str | None = None
        for name, value in query:
            if name == "external_id":
                external_id = value
            elif name in ("statuses", "statuses[]"):
                # The SDK repeats the parameter; Xendit's docs show a JSON-ish list: accept both.
                statuses.update(s.strip(' "') for s in value.strip("[]").split(",") if s.strip())
            elif name == "limit":
                try:
                    limit = int(Decimal(value))
                except ArithmeticError as exc:
                    raise validation_error('"limit" must be a number') from exc
                if not 1 <= limit <= 100:
                    raise validation_error('"limit" must be between 1 and 100')
            elif name == "last_invoice":
                last_invoice = value
        unknown = statuses - set(_STATUSES)
        if unknown:
            raise validation_error(f'"statuses" has unknown values {sorted(unknown)}')
        with self._lock:
            invoices = sorted(
                self._invoices.values(), key=lambda i: (i.created, i.id), reverse=True
            )
            for invoice in invoices:
                self._expire_if_due(invoice)
        if last_invoice is not None:
            ids = [invoice.id for invoice in invoices]
            invoices = invoices[ids.index(last_invoice) + 1 :] if last_invoice in ids else []
        selected = [
            invoice
            for invoice in invoices
            if (external_id is None or invoice.external_id == external_id)
            and (not statuses or invoice.status in statuses)
        ]
        return selected[:limit]

    def expire(self, invoice_id: str) -> Invoice:
        """``POST /invoices/{id}/expire!``: a PENDING invoice becomes EXPIRED."""
        invoice = self.get(invoice_id)
        with self._lock:
            if invoice.status != "PENDING":
                raise XenditApiError(
                    400,
                    "INVALID_STATUS_TRANSITION",
                    f"invoice {invoice_id} is {invoice.status} and cannot be expired",
                )
            invoice.status = "EXPIRED"
            invoice.updated = self._config.now()
            return invoice

    def pay(
        self,
        invoice_id: str,
        *,
        paid_amount_minor: int | None = None,
        payment_method: str = "BANK_TRANSFER",
        payment_channel: str = "MANDIRI",
    ) -> Invoice:
        """Simulate the customer paying: PENDING → PAID, CASH balance credited. Test helper only."""
        if payment_method not in _PAYMENT_METHODS:
            raise validation_error(f"payment_method must be one of {list(_PAYMENT_METHODS)}")
        invoice = self.get(invoice_id)
        with self._lock:
            if invoice.status != "PENDING":
                raise XenditApiError(
                    400,
                    "INVALID_STATUS_TRANSITION",
                    f"invoice {invoice_id} is {invoice.status} and cannot be paid",
                )
            amount = invoice.amount_minor if paid_amount_minor is None else paid_amount_minor
            if amount <= 0:
                raise validation_error("paid amount must be greater than 0")
            now = self._config.now()
            invoice.status = "PAID"
            invoice.paid_amount_minor = amount
            invoice.paid_at = now
            invoice.updated = now
            invoice.payment = {
                "payment_method": payment_method,
                "payment_channel": payment_channel,
                "payment_id": self._ids.uuid("payment"),
                "payment_destination": str(int(self._ids.object_id("destination", 0), 16))[:13],
            }
            if payment_method == "BANK_TRANSFER":
                invoice.payment["bank_code"] = payment_channel
            elif payment_method == "EWALLET":
                invoice.payment["ewallet_type"] = payment_channel
        self._balances.credit("CASH", invoice.currency, amount)
        return invoice

    def to_json(self, invoice: Invoice) -> dict[str, Any]:
        """The ``Invoice`` object as ``GET /v2/invoices/{id}`` returns it."""
        document: dict[str, Any] = {
            "id": invoice.id,
            "external_id": invoice.external_id,
            "user_id": self._config.business_id,
            "status": invoice.status,
            "merchant_name": self._config.merchant_name,
            "merchant_profile_picture_url": _PROFILE_PICTURE_URL,
            "amount": from_minor(invoice.amount_minor, invoice.currency),
            "expiry_date": isoformat(invoice.expires_at),
            "invoice_url": f"{self._config.checkout_base_url}/web/{invoice.id}",
            "available_banks": [],
            "available_retail_outlets": [],
            "available_ewallets": [],
            "available_qr_codes": [],
            "available_direct_debits": [],
            "available_paylaters": [],
            "should_exclude_credit_card": False,
            "should_send_email": False,
            "created": isoformat(invoice.created),
            "updated": isoformat(invoice.updated),
            "currency": invoice.currency,
            **invoice.fields,
        }
        if invoice.paid_amount_minor is not None and invoice.paid_at is not None:
            document["paid_amount"] = from_minor(invoice.paid_amount_minor, invoice.currency)
            document["paid_at"] = isoformat(invoice.paid_at)
            document["payment_method"] = invoice.payment["payment_method"]
            document["payment_channel"] = invoice.payment["payment_channel"]
        return document

    def callback_json(self, invoice: Invoice) -> dict[str, Any]:
        """The flat invoice callback (no envelope), PROCESSORS.md 2.4: the SDK's ``InvoiceCallback``
        fields, plus ``is_high`` and ``initial_amount`` as seen in a real capture."""
        if invoice.paid_amount_minor is None or invoice.paid_at is None:
            raise ValueError(f"invoice {invoice.id} is not paid")
        callback: dict[str, Any] = {
            "id": invoice.id,
            "external_id": invoice.external_id,
            "user_id": self._config.business_id,
            "is_high": False,
            "status": invoice.status,
            "merchant_name": self._config.merchant_name,
            "amount": from_minor(invoice.amount_minor, invoice.currency),
            "initial_amount": from_minor(invoice.amount_minor, invoice.currency),
            "paid_amount": from_minor(invoice.paid_amount_minor, invoice.currency),
            "paid_at": isoformat(invoice.paid_at),
            "created": isoformat(invoice.created),
            "updated": isoformat(invoice.updated),
            "currency": invoice.currency,
            **invoice.payment,
        }
        for name in ("payer_email", "description", "success_redirect_url", "failure_redirect_url"):
            if name in invoice.fields:
                callback[name] = invoice.fields[name]
        for name in ("items", "fees"):
            if name in invoice.fields:
                callback[name] = invoice.fields[name]
        return callback

    def _expire_if_due(self, invoice: Invoice) -> None:
        # Caller holds the lock. Expiry is applied on read against the injected clock.
        now = self._config.now()
        if invoice.status == "PENDING" and now >= invoice.expires_at:
            invoice.status = "EXPIRED"
            invoice.updated = invoice.expires_at
