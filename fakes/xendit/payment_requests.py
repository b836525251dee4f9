"""Xendit Payment Requests (``/payment_requests``, the v2 Payments API xendit-python 7 calls).

Shape: xendit-python's ``payment_request.model.PaymentRequest`` (``id`` ``pr-<uuid>``, ``created``,
``updated``, ``reference_id``, ``business_id``, ``customer_id``, ``currency``, ``amount``,
``country``, ``description``, ``failure_code``, ``capture_method``, ``initiator``, ``actions``,
``metadata``, ``status``, and ``payment_method``: the method's id, type, reusability, status and
type object).

Lifecycle in the fake (statuses from the SDK's ``PaymentRequestStatus``):

* with ``payment_method_id`` of an ACTIVE multiple-use method (a linked wallet or debit account, a
  saved card): charged at once → SUCCEEDED (``capture_method: MANUAL`` → AWAITING_CAPTURE);
* with an inline ``payment_method``: EWALLET, DIRECT_DEBIT and CARD need the customer
  (REQUIRES_ACTION, ``AUTH`` action) and complete on ``POST .../auth`` (``POST .../auth/resend``
  answers the request unchanged); VIRTUAL_ACCOUNT,
  OVER_THE_COUNTER and QR_CODE wait for the customer's transfer (PENDING, QR: a
  ``PRESENT_TO_CUSTOMER`` action with ``qr_code``) and complete on ``POST .../payments/simulate``
  (the SDK's ``simulate_payment_request_payment``, test mode only, as on Xendit);
* ``POST .../captures`` ``{"capture_amount"}`` captures an AWAITING_CAPTURE request (up to its amount)
  → SUCCEEDED; ``GET .../captures`` lists the captures;
* the test helper ``POST /_fake/payment_requests/{id}/fail`` ``{"failure_code"?}`` plays a declined
  payment → FAILED.

A completed payment credits the CASH balance through the ledger (a PAYMENT transaction) and sends
``payment.succeeded`` (``payment.awaiting_capture`` for a manual capture); a failure sends
``payment.failed``. Their ``data`` is the SDK's ``PaymentCallbackData`` (``id`` ``py-<uuid>``,
``payment_request_id``, ``reference_id``, ``status``, ``amount``, ``currency``, ``country``,
``payment_method``, ...).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from fakes.xendit.amounts import check_amount, from_minor, to_minor
from fakes.xendit.config import XenditConfig
from fakes.xendit.errors import XenditApiError, validation_error
from fakes.xendit.events import Callback, envelope
from fakes.xendit.ids import IdFactory, isoformat
from fakes.xendit.invoices import plain_json
from fakes.xendit.ledger import Ledger
from fakes.xendit.paging import page
from fakes.xendit.payment_methods import PAYMENT_METHOD_TYPES, PaymentMethodBook

__all__ = ["PaymentRequestBook"]

_NEEDS_CUSTOMER = ("EWALLET", "DIRECT_DEBIT", "CARD")
_CAPTURE_METHODS = ("AUTOMATIC", "MANUAL")
_COUNTRY_OF_CURRENCY = {
    "IDR": "ID",
    "PHP": "PH",
    "VND": "VN",
    "THB": "TH",
    "MYR": "MY",
    "USD": "PH",
}
_CHANNEL_CATEGORY = {
    "CARD": "CARDS",
    "DIRECT_DEBIT": "DIRECT_DEBIT",
    "EWALLET": "EWALLET",
    "OVER_THE_COUNTER": "RETAIL_OUTLET",
    "VIRTUAL_ACCOUNT": "VIRTUAL_ACCOUNT",
    "QR_CODE": "QR_CODE",
}
_FILTERS = {"reference_id": "reference_id", "id": "id", "customer_id": "customer_id"}


class PaymentRequestBook:
    """Payment requests, their payments and captures, of one fake account (thread-safe)."""

    def __init__(
        self,
        config: XenditConfig,
        ids: IdFactory,
        methods: PaymentMethodBook,
        ledger: Ledger,
    ) -> None:
        self._config = config
        self._ids = ids
        self._methods = methods
        self._ledger = ledger
        self._lock = threading.Lock()
        self._requests: dict[str, dict[str, Any]] = {}
        self._amounts_minor: dict[str, int] = {}
        self._captures: dict[str, list[dict[str, Any]]] = {}
        self._payments: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget every payment request, payment and capture."""
        with self._lock:
            self._requests.clear()
            self._amounts_minor.clear()
            self._captures.clear()
            self._payments.clear()

    # -- API ------------------------------------------------------------------------------------------

    def create(self, body: object) -> tuple[dict[str, Any], list[Callback]]:
        """``POST /payment_requests`` (``PaymentRequestParameters``)."""
        if not isinstance(body, dict):
            raise validation_error("request body must be a JSON object")
        if (body.get("capture_method") or "AUTOMATIC") not in _CAPTURE_METHODS:
            raise validation_error(f'"capture_method" must be one of {list(_CAPTURE_METHODS)}')
        for name in ("reference_id", "description", "customer_id"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise validation_error(f'"{name}" must be a string')
        method, saved = self._payment_method(body)
        return self._create(body, method, charge_now=saved)

    def _create(
        self, body: dict[str, Any], method: dict[str, Any], *, charge_now: bool
    ) -> tuple[dict[str, Any], list[Callback]]:
        """Store a request for ``method``; ``charge_now`` completes it at once."""
        currency = body.get("currency")
        if currency not in self._config.currencies:
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
        capture_method = body.get("capture_method") or "AUTOMATIC"
        request_id = self._ids.prefixed("pr-")
        now = isoformat(self._config.now())
        kind = method["type"]
        request: dict[str, Any] = {
            "id": request_id,
            "created": now,
            "updated": now,
            "reference_id": body.get("reference_id") or self._ids.uuid("pr-reference"),
            "business_id": self._config.business_id,
            "customer_id": body.get("customer_id") or method.get("customer_id"),
            "currency": currency,
            "amount": from_minor(amount_minor, currency),
            "country": method.get("country") or _COUNTRY_OF_CURRENCY[currency],
            "description": body.get("description"),
            "failure_code": None,
            "capture_method": capture_method,
            "initiator": body.get("initiator"),
            "actions": [] if charge_now else self._actions(request_id, kind),
            "metadata": plain_json(body.get("metadata")),
            "status": "PENDING"
            if charge_now
            else ("REQUIRES_ACTION" if kind in _NEEDS_CUSTOMER else "PENDING"),
            "payment_method": _embedded(method),
        }
        with self._lock:
            self._requests[request_id] = request
            self._amounts_minor[request_id] = amount_minor
            self._captures[request_id] = []
            if charge_now:
                return self._complete(request)
            return dict(request), []

    def simulate_method_payment(
        self, method_id: str, body: object
    ) -> tuple[dict[str, Any], list[Callback]]:
        """``POST /v2/payment_methods/{id}/payments/simulate`` ``{"amount"}``: the customer paid into
        an ACTIVE virtual account, over-the-counter code or QR code. The payment is recorded as a
        SUCCEEDED payment request on that method (``payment.succeeded``, CASH credited)."""
        method = self._methods.get(method_id)
        if method["type"] not in ("VIRTUAL_ACCOUNT", "OVER_THE_COUNTER", "QR_CODE"):
            raise XenditApiError(
                400,
                "INVALID_PAYMENT_METHOD",
                f"only virtual account, over-the-counter and QR code payments are simulated, "
                f"not {method['type']}",
            )
        if method["status"] != "ACTIVE":
            raise XenditApiError(
                400, "INVALID_PAYMENT_METHOD", f"payment method {method_id} is {method['status']}"
            )
        amount = body.get("amount") if isinstance(body, dict) else None
        details = method.get(PAYMENT_METHOD_TYPES[method["type"]]) or {}
        currency = details.get("currency") or self._config.default_currency
        request_body = {
            "currency": currency,
            "amount": amount if amount is not None else details.get("amount"),
            "reference_id": method["reference_id"],
            "customer_id": method.get("customer_id"),
        }
        return self._create(request_body, method, charge_now=True)

    def payments_of_method(self, method_id: str) -> dict[str, Any]:
        """``GET /v2/payment_methods/{id}/payments``: the payments made with that method, newest
        first (``{"data", "has_more"}``)."""
        self._methods.get(method_id)
        with self._lock:
            payments = [
                dict(p)
                for p in reversed(self._payments.values())
                if p["payment_method"]["id"] == method_id
            ]
        return {"data": payments, "has_more": False}

    def get(self, request_id: str) -> dict[str, Any]:
        """The payment request ``request_id``, or 404 ``DATA_NOT_FOUND``."""
        with self._lock:
            return dict(self._request(request_id))

    def list_page(self, query: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The ``GET /payment_requests`` body ``{"data", "has_more"}``."""
        with self._lock:
            newest_first = [dict(r) for r in reversed(self._requests.values())]
        result = page(newest_first, query, _FILTERS, default_limit=10)
        return {"data": result.items, "has_more": result.has_more}

    def authorize(self, request_id: str, body: object) -> tuple[dict[str, Any], list[Callback]]:
        """``POST /payment_requests/{id}/auth`` ``{"auth_code"}``: the customer approved."""
        if not isinstance(body, dict) or not isinstance(body.get("auth_code"), str):
            raise validation_error('"auth_code" is required')
        with self._lock:
            request = self._request(request_id)
            self._expect(request, "REQUIRES_ACTION")
            return self._complete(request)

    def resend_auth(self, request_id: str) -> dict[str, Any]:
        """``POST /payment_requests/{id}/auth/resend``: the REQUIRES_ACTION request, auth re-sent."""
        with self._lock:
            request = self._request(request_id)
            self._expect(request, "REQUIRES_ACTION")
            return dict(request)

    def simulate(self, request_id: str) -> tuple[dict[str, Any], list[Callback]]:
        """``POST /payment_requests/{id}/payments/simulate``: the customer paid a PENDING request."""
        with self._lock:
            request = self._request(request_id)
            self._expect(request, "PENDING")
            _, callbacks = self._complete(request)
        message = "Payment simulation is successful; the payment callback follows."
        return {"status": "PENDING", "message": message}, callbacks

    def fail(self, request_id: str, failure_code: str) -> tuple[dict[str, Any], list[Callback]]:
        """Test helper: the payment of a PENDING or REQUIRES_ACTION request was declined."""
        with self._lock:
            request = self._request(request_id)
            self._expect(request, "PENDING", "REQUIRES_ACTION")
            request.update(
                status="FAILED",
                failure_code=failure_code,
                actions=[],
                updated=isoformat(self._config.now()),
            )
            payment = self._payment(request, "FAILED")
            event = envelope(self._config, self._ids, "payment.failed", payment, api_version=False)
            return dict(request), [event]

    def capture(self, request_id: str, body: object) -> tuple[dict[str, Any], list[Callback]]:
        """``POST /payment_requests/{id}/captures`` ``{"capture_amount", "reference_id"?}``."""
        if not isinstance(body, dict):
            raise validation_error("request body must be a JSON object")
        with self._lock:
            request = self._request(request_id)
            self._expect(request, "AWAITING_CAPTURE")
            currency = str(request["currency"])
            try:
                captured_minor = to_minor(body.get("capture_amount"), currency)
            except ValueError as exc:
                raise validation_error(f'"capture_amount" is invalid: {exc}') from exc
            authorized_minor = self._amounts_minor[request_id]
            if not 0 < captured_minor <= authorized_minor:
                raise validation_error(
                    f'"capture_amount" must be between 0 and the authorized {request["amount"]}'
                )
            now = isoformat(self._config.now())
            payment = self._payments[request_id]
            capture = {
                "id": payment["id"],
                "payment_request_id": request_id,
                "payment_id": payment["id"],
                "reference_id": body.get("reference_id") or request["reference_id"],
                "currency": currency,
                "authorized_amount": request["amount"],
                "captured_amount": from_minor(captured_minor, currency),
                "status": "SUCCEEDED",
                "payment_method": request["payment_method"],
                "failure_code": None,
                "customer_id": request["customer_id"],
                "metadata": request["metadata"],
                "channel_properties": None,
                "created": now,
                "updated": now,
            }
            self._captures[request_id].append(capture)
            request.update(status="SUCCEEDED", updated=now)
            self._record_payment(request, captured_minor)
            succeeded = self._payment(request, "SUCCEEDED", amount_minor=captured_minor)
            event = envelope(
                self._config, self._ids, "payment.succeeded", succeeded, api_version=False
            )
            return dict(capture), [event]

    def captures(self, request_id: str) -> dict[str, Any]:
        """The ``GET /payment_requests/{id}/captures`` body ``{"data", "has_more"}``."""
        with self._lock:
            self._request(request_id)
            return {"data": [dict(c) for c in self._captures[request_id]], "has_more": False}

    def payment_of(self, request_id: str) -> dict[str, Any]:
        """The succeeded payment of ``request_id`` (what a refund refers to), or 404."""
        with self._lock:
            payment = self._payments.get(request_id)
            if payment is None or payment["status"] != "SUCCEEDED":
                raise XenditApiError(
                    404, "DATA_NOT_FOUND", f"payment request {request_id} has no succeeded payment"
                )
            return dict(payment)

    # -- helpers (the caller holds the lock where noted) ----------------------------------------------

    def _complete(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[Callback]]:
        # Caller holds the lock. The customer paid: SUCCEEDED, or AWAITING_CAPTURE when manual.
        manual = request["capture_method"] == "MANUAL"
        status = "AWAITING_CAPTURE" if manual else "SUCCEEDED"
        request.update(status=status, actions=[], updated=isoformat(self._config.now()))
        request["payment_method"]["status"] = "ACTIVE"
        payment = self._payment(request, status)
        if not manual:
            self._record_payment(request, self._amounts_minor[request["id"]])
        event = "payment.awaiting_capture" if manual else "payment.succeeded"
        return dict(request), [envelope(self._config, self._ids, event, payment, api_version=False)]

    def _payment(
        self, request: dict[str, Any], status: str, *, amount_minor: int | None = None
    ) -> dict[str, Any]:
        # Caller holds the lock. The payment object of `request` (one per request), updated.
        currency = str(request["currency"])
        previous = self._payments.get(request["id"])
        now = isoformat(self._config.now())
        minor = amount_minor if amount_minor is not None else self._amounts_minor[request["id"]]
        payment = {
            "id": previous["id"] if previous else self._ids.prefixed("py-"),
            "payment_request_id": request["id"],
            "reference_id": request["reference_id"],
            "customer_id": request["customer_id"],
            "currency": currency,
            "amount": from_minor(minor, currency),
            "country": request["country"],
            "status": status,
            "payment_method": dict(request["payment_method"]),
            "failure_code": request["failure_code"],
            "metadata": request["metadata"],
            "created": previous["created"] if previous else now,
            "updated": now,
        }
        self._payments[request["id"]] = payment
        return dict(payment)

    def _record_payment(self, request: dict[str, Any], amount_minor: int) -> None:
        method = request["payment_method"]
        details = method.get(PAYMENT_METHOD_TYPES[method["type"]]) or {}
        self._ledger.record(
            kind="PAYMENT",
            product_id=str(request["id"]),
            reference_id=str(request["reference_id"]),
            currency=str(request["currency"]),
            amount_minor=amount_minor,
            channel_category=_CHANNEL_CATEGORY[method["type"]],
            channel_code=details.get("channel_code"),
        )

    def _payment_method(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The method to charge and whether it is a saved (already linked) one."""
        method_id = body.get("payment_method_id")
        inline = body.get("payment_method")
        if (method_id is None) == (inline is None):
            raise validation_error(
                'exactly one of "payment_method" and "payment_method_id" is required'
            )
        if method_id is not None:
            method = self._methods.get(str(method_id))
            if method["status"] != "ACTIVE" or method["reusability"] != "MULTIPLE_USE":
                raise XenditApiError(
                    400,
                    "INVALID_PAYMENT_METHOD",
                    f"payment method {method_id} is {method['status']} "
                    f"{method['reusability']}; only an ACTIVE MULTIPLE_USE method is charged",
                )
            return method, True
        method = self._methods.build(inline)
        method.update(status="PENDING", actions=[])
        self._methods.store(method)
        return method, False

    def _actions(self, request_id: str, kind: str) -> list[dict[str, Any]]:
        if kind in _NEEDS_CUSTOMER:
            url = f"{self._config.checkout_base_url}/payment_requests/{request_id}/auth"
            return [
                {"action": "AUTH", "url_type": "WEB", "method": "GET", "url": url, "qr_code": None}
            ]
        if kind == "QR_CODE":
            code = f"00020101021226660014ID.CO.XENDIT.WWW{request_id}"
            return [
                {
                    "action": "PRESENT_TO_CUSTOMER",
                    "url_type": "API",
                    "method": None,
                    "url": None,
                    "qr_code": code,
                }
            ]
        return []

    def _request(self, request_id: str) -> dict[str, Any]:
        # Caller holds the lock.
        request = self._requests.get(request_id)
        if request is None:
            raise XenditApiError(
                404, "DATA_NOT_FOUND", f"payment request {request_id} was not found"
            )
        return request

    @staticmethod
    def _expect(request: dict[str, Any], *statuses: str) -> None:
        if request["status"] not in statuses:
            raise XenditApiError(
                400,
                "INACTIVE_PAYMENT_REQUEST",
                f"payment request {request['id']} is {request['status']}, not {' or '.join(statuses)}",
            )


def _embedded(method: dict[str, Any]) -> dict[str, Any]:
    """The payment method as a payment request embeds it (the SDK's payment_request PaymentMethod)."""
    field = PAYMENT_METHOD_TYPES[method["type"]]
    return {
        "id": method["id"],
        "type": method["type"],
        "reusability": method["reusability"],
        "status": method["status"],
        "created": method["created"],
        "updated": method["updated"],
        "description": method["description"],
        "reference_id": method["reference_id"],
        "metadata": method["metadata"],
        field: method[field],
    }
