"""Xendit's error answers: ``{"error_code": "<UPPER_SNAKE>", "message": "..."}`` with an HTTP status.

These are the only two fields of xendit-python's generated ``Error`` model (PROCESSORS.md 2.2, X-PY).
Codes used by the fake, and the status each is answered with:

| code | status | when |
|---|---|---|
| ``API_VALIDATION_ERROR`` | 400 | a body or query that does not validate (PROCESSORS.md 2.2) |
| ``UNSUPPORTED_CURRENCY`` | 400 | a currency the account does not hold (xendit-python invoice ``BadRequestError``) |
| ``EMAIL_FORMAT_ERROR`` | 400 | ``payer_email`` without ``@`` (xendit-python invoice ``BadRequestError``) |
| ``DUPLICATE_ERROR`` | 400 | an ``idempotency-key`` reused with another body (see ``fakes.xendit.access``) |
| ``IDEMPOTENCY_ERROR`` | 409 | an ``idempotency-key`` whose first request is still running |
| ``DUPLICATE_ERROR`` | 409 | a customer ``reference_id`` already used (status UNVERIFIED) |
| ``MAXIMUM_TRANSFER_AMOUNT_ERROR`` | 400 | an amount above the fake's ceiling (xendit-python ``BadRequestError``) |
| ``INVALID_API_KEY`` | 401 | missing or wrong Basic auth (xendit-python ``UnauthorizedError``; 401 is UNVERIFIED) |
| ``INVOICE_NOT_FOUND_ERROR`` | 404 | unknown invoice id (xendit-python ``InvoiceError404ResponseDefinition``) |
| ``DATA_NOT_FOUND`` | 404 | unknown customer, plan, or route (PROCESSORS.md 2.2) |
| ``INVALID_STATUS_TRANSITION`` | 400 | paying or expiring an invoice that is not PENDING (the fake's own code) |
| ``SERVER_ERROR`` | 500 | an unexpected exception inside the fake (logged) |
"""

from __future__ import annotations

from typing import Any

__all__ = ["XenditApiError", "error_body", "validation_error"]


def error_body(error_code: str, message: str) -> dict[str, Any]:
    """The JSON body of a Xendit error."""
    return {"error_code": error_code, "message": message}


class XenditApiError(Exception):
    """Raised by the fake's Xendit logic; the app answers it as ``status`` with :func:`error_body`.

    ``code`` (snake_case, like every payharness error) mirrors ``error_code`` for grepping.
    """

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.code = error_code.lower()

    def body(self) -> dict[str, Any]:
        """The JSON body Xendit sends for this error."""
        return error_body(self.error_code, self.message)


def validation_error(message: str) -> XenditApiError:
    """A 400 ``API_VALIDATION_ERROR`` with ``message``."""
    return XenditApiError(400, "API_VALIDATION_ERROR", message)
