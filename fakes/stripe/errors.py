"""Stripe's error shape and statuses (PROCESSORS.md 1.6, S-ERR), as an exception handlers raise.

The body is ``{"error": {"type", "code", "message", "param", "doc_url"?}}`` with ``type`` one of
``api_error``, ``card_error``, ``idempotency_error``, ``invalid_request_error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes._common import FakeResponse, json_response

__all__ = ["StripeApiError", "error_payload", "error_type_for_status", "missing", "no_such"]


def error_type_for_status(status: int) -> str:
    """The Stripe error ``type`` a status usually carries (402 is a card error, 5xx an API error)."""
    if status == 402:
        return "card_error"
    if status >= 500:
        return "api_error"
    return "invalid_request_error"


def error_payload(
    *,
    type: str,
    message: str,
    code: str | None = None,
    param: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Stripe's error JSON; ``doc_url`` is present when there is a code, as Stripe sends it; ``extra``
    adds a card error's members (``decline_code``, ``charge``, ``payment_intent``, ...)."""
    error: dict[str, Any] = {"type": type, "message": message, **(extra or {})}
    if code is not None:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param is not None:
        error["param"] = param
    return {"error": error}


class StripeApiError(Exception):
    """A Stripe API error a handler raises; the processor turns it into the HTTP response.

    ``pre_execution`` marks failures that happen before the endpoint executes (parameter validation,
    lookups of the objects named in the request): Stripe does not save those under an idempotency key
    (PROCESSORS.md 1.5, S-IDEM), so a corrected retry with the same key can succeed.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,
        pre_execution: bool | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = type or error_type_for_status(status)
        self.extra = dict(extra or {})
        self.pre_execution = status in (400, 404) if pre_execution is None else pre_execution

    def response(self) -> FakeResponse:
        """The error as Stripe would send it."""
        payload = error_payload(
            type=self.type, message=self.message, code=self.code, param=self.param, extra=self.extra
        )
        return json_response(self.status, payload)


def no_such(kind: str, object_id: str, *, param: str | None = None) -> StripeApiError:
    """Stripe's "No such customer: 'cus_x'": 404 on a path, 400 when it names a parameter."""
    return StripeApiError(
        400 if param is not None else 404,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param or "id",
    )


def missing(param: str) -> StripeApiError:
    """Stripe's ``parameter_missing`` error."""
    return StripeApiError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )
