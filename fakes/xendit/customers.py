"""Xendit customers: ``POST /customers``, ``GET /customers/{id}``, ``GET /customers?reference_id=``
(``{"data": [...], "has_more"}``, xendit-python's ``GetCustomerByReferenceID200Response``) and
``PATCH /customers/{id}`` (``PatchCustomer``: the given fields replace the stored ones; a new
``reference_id`` must still be unique).

Shape: xendit-python's ``Customer`` model (``id`` ``cust-<uuid>``, ``reference_id``, ``type``,
``individual_detail``, ``business_detail``, ``email``, ``mobile_number``, ``phone_number``,
``description``, ``addresses``, ``identity_accounts``, ``kyc_documents``, ``metadata``, ``created``,
``updated``). A second customer with the same ``reference_id`` is refused with 409 ``DUPLICATE_ERROR``
(the code is in xendit-python's error enum; the status is UNVERIFIED).
"""

from __future__ import annotations

import threading
from typing import Any

from fakes.xendit.config import XenditConfig
from fakes.xendit.errors import XenditApiError, validation_error
from fakes.xendit.ids import IdFactory, isoformat
from fakes.xendit.invoices import plain_json

__all__ = ["CustomerBook"]

_TYPES = ("INDIVIDUAL", "BUSINESS")


class CustomerBook:
    """Customers of one fake account, as stored JSON documents (thread-safe)."""

    def __init__(self, config: XenditConfig, ids: IdFactory) -> None:
        self._config = config
        self._ids = ids
        self._lock = threading.Lock()
        self._customers: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget every customer."""
        with self._lock:
            self._customers.clear()

    def create(self, body: object) -> dict[str, Any]:
        """Validate and store a customer; ``reference_id`` is required and unique."""
        if not isinstance(body, dict):
            raise validation_error("request body must be a JSON object")
        reference_id = body.get("reference_id")
        if not isinstance(reference_id, str) or not reference_id:
            raise validation_error('"reference_id" is required')
        kind = body.get("type", "INDIVIDUAL")
        if kind not in _TYPES:
            raise validation_error(f'"type" must be one of {list(_TYPES)}')
        for name in ("email", "mobile_number", "phone_number", "description"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise validation_error(f'"{name}" must be a string')
        for name in ("addresses", "identity_accounts", "kyc_documents"):
            if body.get(name) is not None and not isinstance(body[name], list):
                raise validation_error(f'"{name}" must be a list')
        for name in ("individual_detail", "business_detail", "metadata"):
            if body.get(name) is not None and not isinstance(body[name], dict):
                raise validation_error(f'"{name}" must be an object')
        if kind == "BUSINESS" and body.get("business_detail") is None:
            raise validation_error('"business_detail" is required for a BUSINESS customer')
        now = isoformat(self._config.now())
        customer: dict[str, Any] = {
            "id": self._ids.prefixed("cust-"),
            "reference_id": reference_id,
            "type": kind,
            "individual_detail": plain_json(body.get("individual_detail") or {})
            if kind == "INDIVIDUAL"
            else None,
            "business_detail": plain_json(body.get("business_detail")),
            "email": body.get("email"),
            "mobile_number": body.get("mobile_number"),
            "phone_number": body.get("phone_number"),
            "description": body.get("description"),
            "addresses": plain_json(body.get("addresses") or []),
            "identity_accounts": plain_json(body.get("identity_accounts") or []),
            "kyc_documents": plain_json(body.get("kyc_documents") or []),
            "metadata": plain_json(body.get("metadata")),
            "created": now,
            "updated": now,
        }
        with self._lock:
            if any(c["reference_id"] == reference_id for c in self._customers.values()):
                raise XenditApiError(
                    409, "DUPLICATE_ERROR", f"reference_id {reference_id!r} is already used"
                )
            self._customers[customer["id"]] = customer
        return dict(customer)

    def get(self, customer_id: str) -> dict[str, Any]:
        """The customer ``customer_id``, or 404 ``DATA_NOT_FOUND``."""
        with self._lock:
            customer = self._customers.get(customer_id)
        if customer is None:
            raise XenditApiError(404, "DATA_NOT_FOUND", f"customer {customer_id} was not found")
        return dict(customer)

    def by_reference_id(self, reference_id: str | None) -> dict[str, Any]:
        """``GET /customers?reference_id=``: the customers with that reference id (0 or 1)."""
        if not reference_id:
            raise validation_error('"reference_id" is required')
        with self._lock:
            found = [dict(c) for c in self._customers.values() if c["reference_id"] == reference_id]
        return {"data": found, "has_more": False}

    def update(self, customer_id: str, body: object) -> dict[str, Any]:
        """``PATCH /customers/{id}``: replace the given fields."""
        if not isinstance(body, dict):
            raise validation_error("request body must be a JSON object")
        changes: dict[str, Any] = {}
        for name in ("reference_id", "email", "mobile_number", "phone_number", "description"):
            if name in body:
                if body[name] is not None and not isinstance(body[name], str):
                    raise validation_error(f'"{name}" must be a string')
                changes[name] = body[name]
        if changes.get("reference_id", "x") in ("", None):
            raise validation_error('"reference_id" cannot be emptied')
        for name in ("addresses", "identity_accounts", "kyc_documents"):
            if name in body:
                if not isinstance(body[name], list):
                    raise validation_error(f'"{name}" must be a list')
                changes[name] = plain_json(body[name])
        for name in ("individual_detail", "business_detail", "metadata"):
            if name in body:
                if body[name] is not None and not isinstance(body[name], dict):
                    raise validation_error(f'"{name}" must be an object')
                changes[name] = plain_json(body[name])
        with self._lock:
            customer = self._customers.get(customer_id)
            if customer is None:
                raise XenditApiError(404, "DATA_NOT_FOUND", f"customer {customer_id} was not found")
            new_reference = changes.get("reference_id")
            if new_reference is not None and any(
                c["reference_id"] == new_reference and c["id"] != customer_id
                for c in self._customers.values()
            ):
                raise XenditApiError(
                    409, "DUPLICATE_ERROR", f"reference_id {new_reference!r} is already used"
                )
            customer.update(changes, updated=isoformat(self._config.now()))
            return dict(customer)

    def exists(self, customer_id: str) -> bool:
        """Whether ``customer_id`` is a customer of this account."""
        with self._lock:
            return customer_id in self._customers
