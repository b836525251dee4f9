"""Money leaving the account: Xendit Refunds (``/refunds``) and Payouts v2 (``/v2/payouts``).

**Refunds** (xendit-python ``refund.model.Refund``: ``id`` ``rfd-<uuid>``, ``payment_request_id``,
``invoice_id``, ``payment_id``, ``amount``, ``channel_code``, ``country``, ``currency``,
``reference_id``, ``failure_code``, ``refund_fee_amount``, ``status``, ``reason``, ``created``,
``updated``, ``metadata``). A refund names a payment request with a succeeded payment; ``amount``
defaults to what is left to refund, and the refunds of one payment never exceed it (400
``MAXIMUM_REFUND_AMOUNT_REACHED``, a code of xendit-python's refund error enum). Refunds succeed at once:
the CASH balance is debited through the ledger (a REFUND transaction) and ``refund.succeeded`` is
sent (data: the SDK's ``RefundCallbackData``). When the balance cannot cover it the refund is stored
FAILED (``failure_code: INSUFFICIENT_BALANCE``) and ``refund.failed`` is sent. ``POST
/refunds/{id}/cancel`` cancels a PENDING refund only, and a fake refund is never PENDING: 400
``REFUND_NOT_CANCELLABLE`` (the code is the fake's, UNVERIFIED). Reasons: the SDK's
``FRAUDULENT``, ``DUPLICATE``, ``REQUESTED_BY_CUSTOMER``, ``CANCELLATION``, ``OTHERS``.

**Payouts** (xendit-python ``GetPayouts200ResponseDataInner``: ``id`` ``disb-<uuid>``,
``reference_id``, ``channel_code``, ``channel_properties``, ``amount``, ``currency``, ``description``,
``receipt_notification``, ``metadata``, ``business_id``, ``status``, ``failure_code`` (absent unless
FAILED: the SDK's enum has no null),
``estimated_arrival_time``, ``created``, ``updated``). ``POST /v2/payouts`` needs an
``idempotency-key`` header (the SDK makes it a required argument). A payout is ACCEPTED and the CASH
balance is debited at once (a DISBURSEMENT transaction; 400 ``INSUFFICIENT_BALANCE`` refuses it
before anything is stored). ``POST /v2/payouts/{id}/cancel`` cancels an ACCEPTED payout (CANCELLED,
the money comes back as a PAYMENT-free reversal: the balance is credited and the transaction list
keeps the debit; the fake's simplification). The test helper ``POST /_fake/payouts/{id}/complete``
``{"status": "SUCCEEDED"|"FAILED", "failure_code"?}`` ends an ACCEPTED payout and sends
``payout.succeeded`` / ``payout.failed`` (a failed payout is credited back). ``GET /v2/payouts``
lists by ``reference_id`` (required by the SDK); ``GET /payouts_channels`` lists the channels the fake
pays out to.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from fakes.xendit.amounts import check_amount, from_minor, to_minor
from fakes.xendit.balances import Balances
from fakes.xendit.config import XenditConfig
from fakes.xendit.errors import XenditApiError, validation_error
from fakes.xendit.events import Callback, envelope
from fakes.xendit.ids import IdFactory, isoformat
from fakes.xendit.invoices import plain_json
from fakes.xendit.ledger import Ledger
from fakes.xendit.paging import page
from fakes.xendit.payment_methods import PAYMENT_METHOD_TYPES
from fakes.xendit.payment_requests import PaymentRequestBook

__all__ = ["PAYOUT_CHANNELS", "PAYOUT_FAILURE_CODES", "PayoutBook", "RefundBook"]

#: ``failure_code`` values of the SDK's payout model.
PAYOUT_FAILURE_CODES: tuple[str, ...] = (
    "INSUFFICIENT_BALANCE",
    "REJECTED_BY_CHANNEL",
    "TEMPORARY_TRANSFER_ERROR",
    "INVALID_DESTINATION",
    "TRANSFER_ERROR",
)
_REASONS = ("FRAUDULENT", "DUPLICATE", "REQUESTED_BY_CUSTOMER", "CANCELLATION", "OTHERS")

#: (channel_code, channel_category, currency, channel_name) the fake pays out to.
PAYOUT_CHANNELS: tuple[tuple[str, str, str, str], ...] = (
    ("ID_BCA", "BANK", "IDR", "Bank Central Asia (BCA)"),
    ("ID_MANDIRI", "BANK", "IDR", "Bank Mandiri"),
    ("ID_OVO", "EWALLET", "IDR", "OVO"),
    ("PH_BDO", "BANK", "PHP", "Banco de Oro (BDO)"),
    ("PH_GCASH", "EWALLET", "PHP", "GCash"),
)


class RefundBook:
    """Refunds of succeeded payment requests (thread-safe)."""

    def __init__(
        self,
        config: XenditConfig,
        ids: IdFactory,
        payments: PaymentRequestBook,
        ledger: Ledger,
    ) -> None:
        self._config = config
        self._ids = ids
        self._payments = payments
        self._ledger = ledger
        self._lock = threading.Lock()
        self._refunds: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget every refund."""
        with self._lock:
            self._refunds.clear()

    def create(self, body: object) -> tuple[dict[str, Any], list[Callback]]:
        """``POST /refunds`` (``CreateRefund``)."""
        if not isinstance(body, dict):
            raise validation_error("request body must be a JSON object")
        request_id = body.get("payment_request_id")
        if body.get("invoice_id") is not None:
            raise validation_error("the fake refunds payment requests only; use payment_request_id")
        if not isinstance(request_id, str) or not request_id:
            raise validation_error('"payment_request_id" is required')
        reason = body.get("reason") or "REQUESTED_BY_CUSTOMER"
        if reason not in _REASONS:
            raise validation_error(f'"reason" must be one of {list(_REASONS)}')
        payment = self._payments.payment_of(request_id)
        currency = str(payment["currency"])
        if body.get("currency") not in (None, currency):
            raise validation_error(f'"currency" must be the payment\'s {currency}')
        paid_minor = to_minor(payment["amount"], currency)
        with self._lock:
            refunded = sum(
                to_minor(r["amount"], currency)
                for r in self._refunds.values()
                if r["payment_request_id"] == request_id and r["status"] == "SUCCEEDED"
            )
            left = paid_minor - refunded
            try:
                amount_minor = (
                    left if body.get("amount") is None else to_minor(body["amount"], currency)
                )
            except ValueError as exc:
                raise validation_error(f'"amount" is invalid: {exc}') from exc
            if left <= 0 or amount_minor > left:
                raise XenditApiError(
                    400,
                    "MAXIMUM_REFUND_AMOUNT_REACHED",
                    f"payment {payment['id']} has {from_minor(left, currency)} {currency} "
                    "left to refund",
                )
            check_amount(amount_minor, currency)
            method = payment["payment_method"]
            details = method.get(PAYMENT_METHOD_TYPES[method["type"]]) or {}
            refund_id = self._ids.prefixed("rfd-")
            try:
                self._ledger.record(
                    kind="REFUND",
                    product_id=refund_id,
                    reference_id=str(body.get("reference_id") or refund_id),
                    currency=currency,
                    amount_minor=amount_minor,
                    channel_category=_category(method["type"]),
                    channel_code=details.get("channel_code"),
                )
                status, failure = "SUCCEEDED", None
            except XenditApiError as exc:
                status, failure = "FAILED", exc.error_code
            now = isoformat(self._config.now())
            refund: dict[str, Any] = {
                "id": refund_id,
                "payment_request_id": request_id,
                "invoice_id": None,
                "payment_id": payment["id"],
                "payment_method_type": method["type"],
                "amount": from_minor(amount_minor, currency),
                "channel_code": str(details.get("channel_code") or method["type"]),
                "country": payment["country"],
                "currency": currency,
                "reference_id": body.get("reference_id"),
                "failure_code": failure,
                "refund_fee_amount": None,
                "status": status,
                "reason": reason,
                "created": now,
                "updated": now,
                "metadata": plain_json(body.get("metadata")),
            }
            self._refunds[refund_id] = refund
        event = "refund.succeeded" if status == "SUCCEEDED" else "refund.failed"
        return dict(refund), [envelope(self._config, self._ids, event, refund, api_version=False)]

    def get(self, refund_id: str) -> dict[str, Any]:
        """The refund ``refund_id``, or 404 ``DATA_NOT_FOUND``."""
        with self._lock:
            refund = self._refunds.get(refund_id)
        if refund is None:
            raise XenditApiError(404, "DATA_NOT_FOUND", f"refund {refund_id} was not found")
        return dict(refund)

    def list_page(self, query: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The ``GET /refunds`` body ``{"data", "has_more"}``."""
        filters = {"payment_request_id": "payment_request_id", "channel_code": "channel_code"}
        with self._lock:
            newest_first = [dict(r) for r in reversed(self._refunds.values())]
        result = page(newest_first, query, filters, default_limit=10)
        return {"data": result.items, "has_more": result.has_more}

    def cancel(self, refund_id: str) -> dict[str, Any]:
        """``POST /refunds/{id}/cancel``: only a PENDING refund cancels; fake refunds never are."""
        refund = self.get(refund_id)
        raise XenditApiError(
            400,
            "REFUND_NOT_CANCELLABLE",
            f"refund {refund_id} is {refund['status']}; only a PENDING refund can be cancelled",
        )


class PayoutBook:
    """Payouts v2 of one fake account (thread-safe)."""

    def __init__(
        self, config: XenditConfig, ids: IdFactory, ledger: Ledger, balances: Balances
    ) -> None:
        self._config = config
        self._ids = ids
        self._ledger = ledger
        self._balances = balances
        self._lock = threading.Lock()
        self._payouts: dict[str, dict[str, Any]] = {}
        self._amounts_minor: dict[str, int] = {}

    def reset(self) -> None:
        """Forget every payout."""
        with self._lock:
            self._payouts.clear()
            self._amounts_minor.clear()

    def create(self, body: object, idempotency_key: str | None) -> dict[str, Any]:
        """``POST /v2/payouts`` (``CreatePayoutRequest``)."""
        if not idempotency_key:
            raise validation_error('the "idempotency-key" header is required')
        if not isinstance(body, dict):
            raise validation_error("request body must be a JSON object")
        for name in ("reference_id", "channel_code", "currency"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise validation_error(f'"{name}" is required')
        channel = next((c for c in PAYOUT_CHANNELS if c[0] == body["channel_code"]), None)
        if channel is None:
            raise XenditApiError(
                400, "CHANNEL_NOT_ACTIVATED", f"channel {body['channel_code']} is not activated"
            )
        currency = str(body["currency"])
        if currency != channel[2] or currency not in self._config.currencies:
            raise validation_error(f"channel {channel[0]} pays out in {channel[2]} only")
        properties = body.get("channel_properties")
        if not isinstance(properties, dict) or not isinstance(
            properties.get("account_number"), str
        ):
            raise validation_error('"channel_properties.account_number" is required')
        try:
            amount_minor = to_minor(body.get("amount"), currency)
        except ValueError as exc:
            raise validation_error(f'"amount" is invalid: {exc}') from exc
        check_amount(amount_minor, currency)
        payout_id = self._ids.prefixed("disb-")
        self._ledger.record(
            kind="DISBURSEMENT",
            product_id=payout_id,
            reference_id=str(body["reference_id"]),
            currency=currency,
            amount_minor=amount_minor,
            channel_category=channel[1],
            channel_code=channel[0],
            account_identifier=str(properties["account_number"]),
        )
        now = isoformat(self._config.now())
        payout: dict[str, Any] = {
            "id": payout_id,
            "reference_id": body["reference_id"],
            "channel_code": channel[0],
            "channel_properties": plain_json(properties),
            "amount": from_minor(amount_minor, currency),
            "currency": currency,
            "description": body.get("description"),
            "receipt_notification": plain_json(body.get("receipt_notification")),
            "metadata": plain_json(body.get("metadata")),
            "business_id": self._config.business_id,
            "status": "ACCEPTED",
            "estimated_arrival_time": isoformat(self._config.now() + 3600),
            "created": now,
            "updated": now,
        }
        with self._lock:
            self._payouts[payout_id] = payout
            self._amounts_minor[payout_id] = amount_minor
        return dict(payout)

    def get(self, payout_id: str) -> dict[str, Any]:
        """The payout ``payout_id``, or 404 ``DATA_NOT_FOUND``."""
        with self._lock:
            return dict(self._payout(payout_id))

    def list_page(self, query: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The ``GET /v2/payouts`` body ``{"data", "has_more", "links"?}``."""
        if not dict(query).get("reference_id"):
            raise validation_error('"reference_id" is required')
        with self._lock:
            newest_first = [dict(p) for p in reversed(self._payouts.values())]
        result = page(newest_first, query, {"reference_id": "reference_id"}, default_limit=10)
        body: dict[str, Any] = {"data": result.items, "has_more": result.has_more}
        if result.links:
            body["links"] = result.links[0]
        return body

    def cancel(self, payout_id: str) -> dict[str, Any]:
        """``POST /v2/payouts/{id}/cancel``: ACCEPTED → CANCELLED, the money comes back."""
        payout, _ = self._finish(payout_id, "CANCELLED", None)
        return payout

    def complete(
        self, payout_id: str, *, succeeded: bool, failure_code: str
    ) -> tuple[dict[str, Any], list[Callback]]:
        """Test helper: the bank paid out (``payout.succeeded``) or refused (``payout.failed``)."""
        status = "SUCCEEDED" if succeeded else "FAILED"
        payout, _ = self._finish(payout_id, status, None if succeeded else failure_code)
        event = "payout.succeeded" if succeeded else "payout.failed"
        return payout, [envelope(self._config, self._ids, event, payout, api_version=False)]

    def _finish(
        self, payout_id: str, status: str, failure_code: str | None
    ) -> tuple[dict[str, Any], int]:
        with self._lock:
            payout = self._payout(payout_id)
            if payout["status"] != "ACCEPTED":
                raise XenditApiError(
                    400,
                    "PAYOUT_NOT_CANCELLABLE"
                    if status == "CANCELLED"
                    else "INVALID_STATUS_TRANSITION",
                    f"payout {payout_id} is {payout['status']}, not ACCEPTED",
                )
            payout.update(status=status, updated=isoformat(self._config.now()))
            if failure_code is not None:
                # The SDK's enum has no null: ``failure_code`` is absent until a payout fails.
                payout["failure_code"] = failure_code
            amount_minor = self._amounts_minor[payout_id]
            snapshot = dict(payout)
        if status in ("CANCELLED", "FAILED"):
            self._balances.credit("CASH", str(snapshot["currency"]), amount_minor)
        return snapshot, amount_minor

    def _payout(self, payout_id: str) -> dict[str, Any]:
        # Caller holds the lock.
        payout = self._payouts.get(payout_id)
        if payout is None:
            raise XenditApiError(404, "DATA_NOT_FOUND", f"payout {payout_id} was not found")
        return payout


def payout_channels(query: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The ``GET /payouts_channels`` body (the SDK's ``[Channel]``), filtered like the API."""
    wanted = dict(query)
    categories = {v for k, v in query if k.removesuffix("[]") == "channel_category"}
    return [
        {
            "channel_code": code,
            "channel_category": category,
            "currency": currency,
            "channel_name": name,
            "amount_limits": {"minimum": 1, "maximum": 100_000_000, "minimum_increment": 1},
        }
        for code, category, currency, name in PAYOUT_CHANNELS
        if wanted.get("currency") in (None, currency)
        and wanted.get("channel_code") in (None, code)
        and (not categories or category in categories)
    ]


def _category(kind: str) -> str:
    return {
        "CARD": "CARDS",
        "OVER_THE_COUNTER": "RETAIL_OUTLET",
    }.get(kind, kind)
