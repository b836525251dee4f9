"""Xendit Payment Methods v2 (``/v2/payment_methods``): create, get, list, update, expire, authorize.

Shape: xendit-python's ``payment_method.model.PaymentMethod`` (``id`` ``pm-<uuid>``, ``business_id``,
``type``, ``country``, ``customer_id``, ``reference_id``, ``description``, ``status``,
``reusability``, ``actions``, ``metadata``, ``billing_information``, ``failure_code``, ``created``,
``updated``, and the type's own object ``ewallet``/``direct_debit``/``card``/``over_the_counter``/
``virtual_account``/``qr_code``, echoed from the request's parameters of the same name).

Lifecycle in the fake: a ``MULTIPLE_USE`` EWALLET or DIRECT_DEBIT method needs the customer to link
it, so it is created ``REQUIRES_ACTION`` with an ``AUTH`` action, until ``POST .../auth`` with any
``auth_code`` (the fake accepts every code) or the test helper activates it; every other method is
``ACTIVE`` at once. ``POST .../expire`` → ``EXPIRED`` (``payment_method.expired``); ``PATCH`` changes
``description``, ``reference_id``, ``reusability``, ``metadata`` or ``status`` (ACTIVE/INACTIVE).
Activation sends ``payment_method.activated``. List: newest first, filters ``id``, ``type``,
``status``, ``reusability``, ``customer_id``, ``reference_id``; ``limit`` (default 10), ``after_id``,
``before_id``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from fakes.xendit.config import XenditConfig
from fakes.xendit.customers import CustomerBook
from fakes.xendit.errors import XenditApiError, validation_error
from fakes.xendit.events import Callback, envelope
from fakes.xendit.ids import IdFactory, isoformat
from fakes.xendit.invoices import plain_json
from fakes.xendit.paging import page

__all__ = ["PAYMENT_METHOD_TYPES", "PaymentMethodBook"]

#: PaymentMethodType values and the request/response field of each type's own object.
PAYMENT_METHOD_TYPES: dict[str, str] = {
    "CARD": "card",
    "DIRECT_DEBIT": "direct_debit",
    "EWALLET": "ewallet",
    "OVER_THE_COUNTER": "over_the_counter",
    "VIRTUAL_ACCOUNT": "virtual_account",
    "QR_CODE": "qr_code",
}
_REUSABILITY = ("MULTIPLE_USE", "ONE_TIME_USE")
_NEEDS_LINKING = ("EWALLET", "DIRECT_DEBIT")
_COUNTRIES = ("ID", "PH", "VN", "TH", "MY")
_FILTERS = {
    "id": "id",
    "type": "type",
    "status": "status",
    "reusability": "reusability",
    "customer_id": "customer_id",
    "reference_id": "reference_id",
}


class PaymentMethodBook:
    """Payment methods of one fake account (thread-safe)."""

    def __init__(self, config: XenditConfig, ids: IdFactory, customers: CustomerBook) -> None:
        self._config = config
        self._ids = ids
        self._customers = customers
        self._lock = threading.Lock()
        self._methods: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget every payment method."""
        with self._lock:
            self._methods.clear()

    def create(self, body: object) -> tuple[dict[str, Any], list[Callback]]:
        """Validate and store a payment method (``PaymentMethodParameters``)."""
        method = self.build(body)
        callbacks: list[Callback] = []
        if method["status"] == "ACTIVE":
            callbacks.append(
                envelope(
                    self._config, self._ids, "payment_method.activated", method, api_version=False
                )
            )
        with self._lock:
            self._methods[method["id"]] = method
        return dict(method), callbacks

    def build(self, body: object) -> dict[str, Any]:
        """A new payment method from ``PaymentMethodParameters`` (not stored: a payment request's
        inline ``payment_method`` is stored through :meth:`store`)."""
        if not isinstance(body, dict):
            raise validation_error("payment method must be a JSON object")
        kind = body.get("type")
        if kind not in PAYMENT_METHOD_TYPES:
            raise validation_error(f'"type" must be one of {list(PAYMENT_METHOD_TYPES)}')
        reusability = body.get("reusability")
        if reusability not in _REUSABILITY:
            raise validation_error(f'"reusability" must be one of {list(_REUSABILITY)}')
        field = PAYMENT_METHOD_TYPES[kind]
        details = body.get(field)
        if not isinstance(details, dict):
            raise validation_error(f'"{field}" is required for a {kind} payment method')
        if kind != "CARD" and not isinstance(details.get("channel_code"), str):
            raise validation_error(f'"{field}.channel_code" is required')
        country = body.get("country")
        if country is not None and country not in _COUNTRIES:
            raise validation_error(f'"country" must be one of {list(_COUNTRIES)}')
        customer_id = body.get("customer_id")
        if customer_id is not None and not self._customers.exists(str(customer_id)):
            raise XenditApiError(404, "DATA_NOT_FOUND", f"customer {customer_id} was not found")
        for name in ("reference_id", "description"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise validation_error(f'"{name}" must be a string')
        method_id = self._ids.prefixed("pm-")
        linking = kind in _NEEDS_LINKING and reusability == "MULTIPLE_USE"
        now = isoformat(self._config.now())
        method: dict[str, Any] = {
            "id": method_id,
            "business_id": self._config.business_id,
            "type": kind,
            "country": country,
            "customer_id": customer_id,
            "reference_id": body.get("reference_id") or self._ids.uuid("pm-reference"),
            "description": body.get("description"),
            "status": "REQUIRES_ACTION" if linking else "ACTIVE",
            "reusability": reusability,
            "actions": [self._auth_action(method_id)] if linking else [],
            "metadata": plain_json(body.get("metadata")),
            "billing_information": plain_json(body.get("billing_information")),
            "failure_code": None,
            "created": now,
            "updated": now,
            field: plain_json(details),
        }
        return method

    def store(self, method: dict[str, Any]) -> None:
        """Keep ``method`` (built by :meth:`build`)."""
        with self._lock:
            self._methods[method["id"]] = method

    def get(self, method_id: str) -> dict[str, Any]:
        """The payment method ``method_id``, or 404 ``DATA_NOT_FOUND``."""
        with self._lock:
            return dict(self._method(method_id))

    def list_page(self, query: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The ``GET /v2/payment_methods`` body ``{"data", "has_more"}``."""
        with self._lock:
            newest_first = [dict(m) for m in reversed(self._methods.values())]
        result = page(newest_first, query, _FILTERS, default_limit=10)
        return {"data": result.items, "has_more": result.has_more}

    def authorize(self, method_id: str, body: object) -> tuple[dict[str, Any], list[Callback]]:
        """``POST /v2/payment_methods/{id}/auth`` ``{"auth_code"}``: REQUIRES_ACTION → ACTIVE."""
        if not isinstance(body, dict) or not isinstance(body.get("auth_code"), str):
            raise validation_error('"auth_code" is required')
        return self.activate(method_id)

    def activate(self, method_id: str) -> tuple[dict[str, Any], list[Callback]]:
        """The customer linked the method: REQUIRES_ACTION → ACTIVE (``payment_method.activated``)."""
        with self._lock:
            method = self._method(method_id)
            if method["status"] != "REQUIRES_ACTION":
                raise XenditApiError(
                    400,
                    "INVALID_PAYMENT_METHOD",
                    f"payment method {method_id} is {method['status']}, not REQUIRES_ACTION",
                )
            method.update(status="ACTIVE", actions=[], updated=isoformat(self._config.now()))
            snapshot = dict(method)
        return snapshot, [
            envelope(
                self._config, self._ids, "payment_method.activated", snapshot, api_version=False
            )
        ]

    def update(self, method_id: str, body: object) -> dict[str, Any]:
        """``PATCH /v2/payment_methods/{id}`` (``PaymentMethodUpdateParameters``)."""
        if not isinstance(body, dict):
            raise validation_error("request body must be a JSON object")
        changes: dict[str, Any] = {}
        for name in ("description", "reference_id"):
            if name in body:
                if not isinstance(body[name], str):
                    raise validation_error(f'"{name}" must be a string')
                changes[name] = body[name]
        if "reusability" in body:
            if body["reusability"] not in _REUSABILITY:
                raise validation_error(f'"reusability" must be one of {list(_REUSABILITY)}')
            changes["reusability"] = body["reusability"]
        if "status" in body:
            if body["status"] not in ("ACTIVE", "INACTIVE"):
                raise validation_error('"status" can only be set to ACTIVE or INACTIVE')
            changes["status"] = body["status"]
        if "metadata" in body:
            changes["metadata"] = plain_json(body["metadata"])
        with self._lock:
            method = self._method(method_id)
            if method["status"] == "EXPIRED":
                raise XenditApiError(
                    400, "INVALID_PAYMENT_METHOD", f"payment method {method_id} is EXPIRED"
                )
            method.update(changes, updated=isoformat(self._config.now()))
            return dict(method)

    def expire(self, method_id: str) -> tuple[dict[str, Any], list[Callback]]:
        """``POST /v2/payment_methods/{id}/expire``: → EXPIRED (``payment_method.expired``)."""
        with self._lock:
            method = self._method(method_id)
            if method["status"] == "EXPIRED":
                raise XenditApiError(
                    400, "INVALID_PAYMENT_METHOD", f"payment method {method_id} is already EXPIRED"
                )
            method.update(status="EXPIRED", actions=[], updated=isoformat(self._config.now()))
            snapshot = dict(method)
        return snapshot, [
            envelope(self._config, self._ids, "payment_method.expired", snapshot, api_version=False)
        ]

    def _method(self, method_id: str) -> dict[str, Any]:
        # Caller holds the lock.
        method = self._methods.get(method_id)
        if method is None:
            raise XenditApiError(404, "DATA_NOT_FOUND", f"payment method {method_id} was not found")
        return method

    def _auth_action(self, method_id: str) -> dict[str, Any]:
        return {
            "action": "AUTH",
            "method": "GET",
            "url": f"{self._config.checkout_base_url}/linking/{method_id}",
            "url_type": "WEB",
        }
