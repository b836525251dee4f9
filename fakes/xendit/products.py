"""The fake Xendit's payment products beyond invoices and recurring: their state and HTTP routes.

| route (xendit-python 7 operation) | module |
|---|---|
| ``GET /customers?reference_id=`` (get_customer_by_reference_id), ``PATCH /customers/{id}`` (update_customer) | :mod:`.customers` |
| ``POST``/``GET /v2/payment_methods``, ``GET``/``PATCH /v2/payment_methods/{id}``, ``POST .../expire``, ``POST .../auth``, ``POST .../payments/simulate``, ``GET .../payments`` | :mod:`.payment_methods` |
| ``POST``/``GET /payment_requests``, ``GET /payment_requests/{id}``, ``POST``/``GET .../captures``, ``POST .../auth``, ``POST .../auth/resend``, ``POST .../payments/simulate`` | :mod:`.payment_requests` |
| ``POST``/``GET /refunds``, ``GET /refunds/{id}``, ``POST /refunds/{id}/cancel`` | :mod:`.money_out` |
| ``POST``/``GET /v2/payouts``, ``GET /v2/payouts/{id}``, ``POST /v2/payouts/{id}/cancel``, ``GET /payouts_channels`` | :mod:`.money_out` |
| ``GET /transactions``, ``GET /transactions/{id}`` | :mod:`.ledger` |

Test helpers: ``POST /_fake/payment_methods/{id}/activate``, ``POST /_fake/payment_requests/{id}/fail``
``{"failure_code"?}``, ``POST /_fake/payouts/{id}/complete`` ``{"status"?, "failure_code"?}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from fakes._common import (
    FakeRequest,
    FakeResponse,
    Handler,
    InvalidFakeArgument,
    Route,
    json_response,
)
from fakes.xendit.balances import Balances
from fakes.xendit.config import XenditConfig
from fakes.xendit.customers import CustomerBook
from fakes.xendit.errors import XenditApiError, validation_error
from fakes.xendit.events import Callback
from fakes.xendit.ids import IdFactory
from fakes.xendit.ledger import Ledger
from fakes.xendit.money_out import PAYOUT_FAILURE_CODES, PayoutBook, RefundBook, payout_channels
from fakes.xendit.payment_methods import PaymentMethodBook
from fakes.xendit.payment_requests import PaymentRequestBook

__all__ = ["Products"]

Send = Callable[[Sequence[Callback]], list[str]]


class Products:
    """Payment methods, payment requests, refunds, payouts and transactions of one fake account."""

    def __init__(
        self,
        config: XenditConfig,
        ids: IdFactory,
        customers: CustomerBook,
        balances: Balances,
        send: Send,
    ) -> None:
        self.customers = customers
        self.ledger = Ledger(config, ids, balances)
        self.methods = PaymentMethodBook(config, ids, customers)
        self.requests = PaymentRequestBook(config, ids, self.methods, self.ledger)
        self.refunds = RefundBook(config, ids, self.requests, self.ledger)
        self.payouts = PayoutBook(config, ids, self.ledger, balances)
        self._send = send

    def reset(self) -> None:
        """Forget every object (customers and balances are reset by their owner)."""
        for book in (self.ledger, self.methods, self.requests, self.refunds, self.payouts):
            book.reset()

    def routes(self, wrap: Callable[[Handler], Handler]) -> list[Route]:
        """The API routes, each handler wrapped by ``wrap`` (Xendit error answers)."""
        table: list[tuple[str, str, Handler, str]] = [
            ("GET", "/customers", self._customers_by_reference, "customers.by_reference_id"),
            ("PATCH", "/customers/{id}", self._update_customer, "customers.update"),
            ("POST", "/v2/payment_methods", self._create_method, "payment_methods.create"),
            ("GET", "/v2/payment_methods", self._list_methods, "payment_methods.list"),
            ("GET", "/v2/payment_methods/{id}", self._get_method, "payment_methods.retrieve"),
            ("PATCH", "/v2/payment_methods/{id}", self._update_method, "payment_methods.update"),
            (
                "POST",
                "/v2/payment_methods/{id}/expire",
                self._expire_method,
                "payment_methods.expire",
            ),
            ("POST", "/v2/payment_methods/{id}/auth", self._auth_method, "payment_methods.auth"),
            (
                "POST",
                "/v2/payment_methods/{id}/payments/simulate",
                self._simulate_method_payment,
                "payment_methods.payments.simulate",
            ),
            (
                "GET",
                "/v2/payment_methods/{id}/payments",
                self._method_payments,
                "payment_methods.payments.list",
            ),
            ("POST", "/payment_requests", self._create_request, "payment_requests.create"),
            ("GET", "/payment_requests", self._list_requests, "payment_requests.list"),
            ("GET", "/payment_requests/{id}", self._get_request, "payment_requests.retrieve"),
            ("POST", "/payment_requests/{id}/auth", self._auth_request, "payment_requests.auth"),
            (
                "POST",
                "/payment_requests/{id}/auth/resend",
                self._resend_auth,
                "payment_requests.auth.resend",
            ),
            ("POST", "/payment_requests/{id}/captures", self._capture, "payment_requests.capture"),
            ("GET", "/payment_requests/{id}/captures", self._captures, "payment_requests.captures"),
            (
                "POST",
                "/payment_requests/{id}/payments/simulate",
                self._simulate,
                "payment_requests.simulate",
            ),
            ("POST", "/refunds", self._create_refund, "refunds.create"),
            ("GET", "/refunds", self._list_refunds, "refunds.list"),
            ("GET", "/refunds/{id}", self._get_refund, "refunds.retrieve"),
            ("POST", "/refunds/{id}/cancel", self._cancel_refund, "refunds.cancel"),
            ("POST", "/v2/payouts", self._create_payout, "payouts.create"),
            ("GET", "/v2/payouts", self._list_payouts, "payouts.list"),
            ("GET", "/v2/payouts/{id}", self._get_payout, "payouts.retrieve"),
            ("POST", "/v2/payouts/{id}/cancel", self._cancel_payout, "payouts.cancel"),
            ("GET", "/payouts_channels", self._channels, "payouts.channels"),
            ("GET", "/transactions", self._list_transactions, "transactions.list"),
            ("GET", "/transactions/{id}", self._get_transaction, "transactions.retrieve"),
        ]
        return [Route(method=m, template=t, handler=wrap(h), name=n) for m, t, h, n in table]

    def control_routes(self) -> list[Route]:
        """Test helpers under ``/_fake/``."""
        return [
            Route(
                method="POST",
                template="/_fake/payment_methods/{id}/activate",
                handler=self._fake_activate_method,
                name="fake.payment_methods.activate",
            ),
            Route(
                method="POST",
                template="/_fake/payment_requests/{id}/fail",
                handler=self._fake_fail_request,
                name="fake.payment_requests.fail",
            ),
            Route(
                method="POST",
                template="/_fake/payouts/{id}/complete",
                handler=self._fake_complete_payout,
                name="fake.payouts.complete",
            ),
        ]

    # -- helpers used by trigger and tests ------------------------------------------------------------

    def send(self, result: tuple[dict[str, Any], list[Callback]]) -> dict[str, Any]:
        """Send ``result``'s callbacks and return its object."""
        obj, callbacks = result
        self._send(callbacks)
        return obj

    # -- handlers -------------------------------------------------------------------------------------

    async def _customers_by_reference(self, request: FakeRequest) -> FakeResponse:
        reference_id = dict(request.query_items()).get("reference_id")
        return _ok(self.customers.by_reference_id(reference_id))

    async def _update_customer(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.customers.update(_id(request), _json(request)))

    async def _create_method(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.send(self.methods.create(_json(request))))

    async def _list_methods(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.methods.list_page(request.query_items()))

    async def _get_method(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.methods.get(_id(request)))

    async def _update_method(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.methods.update(_id(request), _json(request)))

    async def _expire_method(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.send(self.methods.expire(_id(request))))

    async def _auth_method(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.send(self.methods.authorize(_id(request), _json(request))))

    async def _simulate_method_payment(self, request: FakeRequest) -> FakeResponse:
        self.send(self.requests.simulate_method_payment(_id(request), _json(request)))
        return _ok({})

    async def _method_payments(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.requests.payments_of_method(_id(request)))

    async def _create_request(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.send(self.requests.create(_json(request))))

    async def _list_requests(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.requests.list_page(request.query_items()))

    async def _get_request(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.requests.get(_id(request)))

    async def _auth_request(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.send(self.requests.authorize(_id(request), _json(request))))

    async def _resend_auth(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.requests.resend_auth(_id(request)))

    async def _capture(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.send(self.requests.capture(_id(request), _json(request))))

    async def _captures(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.requests.captures(_id(request)))

    async def _simulate(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.send(self.requests.simulate(_id(request))))

    async def _create_refund(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.send(self.refunds.create(_json(request))))

    async def _list_refunds(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.refunds.list_page(request.query_items()))

    async def _get_refund(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.refunds.get(_id(request)))

    async def _cancel_refund(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.refunds.cancel(_id(request)))

    async def _create_payout(self, request: FakeRequest) -> FakeResponse:
        key = request.headers.get("idempotency-key")
        return _ok(self.payouts.create(_json(request), key))

    async def _list_payouts(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.payouts.list_page(request.query_items()))

    async def _get_payout(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.payouts.get(_id(request)))

    async def _cancel_payout(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.payouts.cancel(_id(request)))

    async def _channels(self, request: FakeRequest) -> FakeResponse:
        return json_response(200, payout_channels(request.query_items()))

    async def _list_transactions(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.ledger.list_page(request.query_items()))

    async def _get_transaction(self, request: FakeRequest) -> FakeResponse:
        return _ok(self.ledger.get(_id(request)))

    # -- control handlers -----------------------------------------------------------------------------

    async def _fake_activate_method(self, request: FakeRequest) -> FakeResponse:
        return _control(lambda: self.send(self.methods.activate(_id(request))))

    async def _fake_fail_request(self, request: FakeRequest) -> FakeResponse:
        code = _control_body(request).get("failure_code", "INSUFFICIENT_BALANCE")
        if not isinstance(code, str):
            raise InvalidFakeArgument("failure_code must be a string")
        return _control(lambda: self.send(self.requests.fail(_id(request), code)))

    async def _fake_complete_payout(self, request: FakeRequest) -> FakeResponse:
        data = _control_body(request)
        status = data.get("status", "SUCCEEDED")
        code = data.get("failure_code", "INVALID_DESTINATION")
        if status not in ("SUCCEEDED", "FAILED") or code not in PAYOUT_FAILURE_CODES:
            raise InvalidFakeArgument(
                f'status must be "SUCCEEDED" or "FAILED", failure_code one of {PAYOUT_FAILURE_CODES}'
            )
        return _control(
            lambda: self.send(
                self.payouts.complete(
                    _id(request), succeeded=status == "SUCCEEDED", failure_code=code
                )
            )
        )


def _ok(body: Any) -> FakeResponse:
    return json_response(200, body)


def _id(request: FakeRequest) -> str:
    return request.path_params["id"]


def _json(request: FakeRequest) -> Any:
    """The body as JSON with exact decimals; malformed JSON is an API_VALIDATION_ERROR."""
    try:
        return json.loads(request.body, parse_float=Decimal) if request.body.strip() else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise validation_error(f"request body is not valid JSON: {exc}") from exc


def _control_body(request: FakeRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        data = json.loads(request.body)
    except ValueError as exc:
        raise InvalidFakeArgument(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidFakeArgument("body must be a JSON object")
    return data


def _control(action: Callable[[], dict[str, Any]]) -> FakeResponse:
    try:
        return json_response(200, action())
    except XenditApiError as exc:
        return json_response(exc.status, {"error": {"code": exc.code, "message": exc.message}})
