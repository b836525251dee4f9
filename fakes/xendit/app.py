"""The fake Xendit as an ASGI app: ``create_app(XenditConfig()) -> XenditFakeApp``.

API routes (base URL stands for ``https://api.xendit.co``):

| route | what |
|---|---|
| ``POST /v2/invoices`` (and ``/v2/invoices/``, which xendit-python calls) | create an invoice |
| ``GET /v2/invoices``, ``GET /v2/invoices/{id}``, ``POST /invoices/{id}/expire!`` | list, read, expire |
| ``GET /balance`` | ``{"balance": n}`` for ``account_type`` (CASH default) and ``currency`` |
| ``POST /customers``, ``GET /customers/{id}`` | customers for recurring plans |
| ``POST /recurring/plans``, ``GET /recurring/plans/{id}``, ``POST /recurring/plans/{id}/deactivate``, ``GET /recurring/plans/{id}/cycles`` | recurring plans |
| payment methods, payment requests, refunds, payouts, transactions, customer lookup/update | :mod:`fakes.xendit.products` |

Test helpers under ``/_fake/`` (besides the shared control API): ``POST /_fake/invoices/{id}/pay``
``{"paid_amount"?, "payment_method"?, "payment_channel"?}``, ``POST /_fake/recurring/plans/{id}/activate``,
``POST /_fake/recurring/plans/{id}/cycle`` ``{"status": "SUCCEEDED"|"FAILED", "failure_code"?}``,
``GET /_fake/balances``.

Auth and idempotency: :mod:`fakes.xendit.access`.

**Callbacks** go to every registered endpoint with ``x-callback-token`` (``fakes.signing.
XenditCallbackToken``) and Xendit's retry schedule (original, then +15m/45m/2h/3h/6h/12h, time-scaled;
30 s timeout). Invoice callbacks are flat; recurring ones use the ``{event, business_id, created, data,
api_version}`` envelope.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fakes._common import (
    DeliverySettings,
    FakeApp,
    FakeRequest,
    FakeResponse,
    Handler,
    IdempotencyStore,
    InvalidFakeArgument,
    Journal,
    Route,
    Run,
    WebhookDelivery,
    WebhookEndpoint,
    json_body,
    json_response,
)
from fakes.signing import XenditCallbackToken
from fakes.xendit.access import IDEMPOTENCY_HEADERS, check_api_key, run_idempotently
from fakes.xendit.amounts import from_minor, to_minor
from fakes.xendit.balances import ACCOUNT_TYPES, Balances
from fakes.xendit.config import (
    CALLBACK_RETRY_DELAYS_SECONDS,
    CALLBACK_TIMEOUT_SECONDS,
    XenditConfig,
)
from fakes.xendit.customers import CustomerBook
from fakes.xendit.errors import XenditApiError, error_body, validation_error
from fakes.xendit.ids import IdFactory
from fakes.xendit.invoices import Invoice, InvoiceBook
from fakes.xendit.products import Products
from fakes.xendit.recurring import Callback, RecurringBook

__all__ = ["XenditFakeApp", "XenditProcessor", "create_app"]

# Generic codes from fakes._common (faults, unknown routes, crashes) in Xendit's vocabulary, by status.
_CODES_BY_STATUS = {
    400: "API_VALIDATION_ERROR",
    401: "INVALID_API_KEY",
    403: "REQUEST_FORBIDDEN_ERROR",
    404: "DATA_NOT_FOUND",
    409: "DUPLICATE_ERROR",
    429: "RATE_LIMIT_EXCEEDED",
}


def _sign_callback(endpoint: WebhookEndpoint, body: bytes) -> dict[str, str]:
    # The endpoint's secret is the account's callback token (one static token per account).
    return XenditCallbackToken(endpoint.secret).sign(body)


class XenditProcessor:
    """Xendit plugged into :class:`fakes._common.FakeApp` (see the module docstring)."""

    name = "xendit"
    idempotency_headers: tuple[str, ...] = IDEMPOTENCY_HEADERS

    def __init__(self, config: XenditConfig) -> None:
        self.config = config
        self.ids = IdFactory(config.seed)
        self.balances = Balances(config.initial_balances)
        self.invoices = InvoiceBook(config, self.ids, self.balances)
        self.customers = CustomerBook(config, self.ids)
        self.recurring = RecurringBook(config, self.ids, self.customers, self.balances)
        self.products = Products(
            config, self.ids, self.customers, self.balances, send=self.send_callbacks
        )
        self._idempotency = IdempotencyStore(now=config.now)
        self._webhooks = WebhookDelivery(
            DeliverySettings(
                retry_schedule_seconds=CALLBACK_RETRY_DELAYS_SECONDS,
                time_scale=config.time_scale,
                timeout_seconds=CALLBACK_TIMEOUT_SECONDS,
                transport=config.delivery_transport,
                now=config.now,
            ),
            sign=_sign_callback,
            new_secret=lambda: config.callback_token,
            endpoint_id_prefix="cb_",
        )
        self._register_configured_endpoints()

    @property
    def webhooks(self) -> WebhookDelivery:
        """Callback delivery with ``x-callback-token``."""
        return self._webhooks

    def _register_configured_endpoints(self) -> None:
        for url in self.config.webhook_urls:
            self._webhooks.add_endpoint(url)

    # -- Processor protocol ---------------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        """The Xendit API routes the fake implements."""

        def route(method: str, template: str, handler: Handler, name: str) -> Route:
            return Route(method=method, template=template, handler=_answering(handler), name=name)

        return [
            route("POST", "/v2/invoices", self._create_invoice, "invoices.create"),
            route("POST", "/v2/invoices/", self._create_invoice, "invoices.create"),
            route("GET", "/v2/invoices", self._list_invoices, "invoices.list"),
            route("GET", "/v2/invoices/{invoice_id}", self._get_invoice, "invoices.retrieve"),
            route(
                "POST", "/invoices/{invoice_id}/expire!", self._expire_invoice, "invoices.expire"
            ),
            route("GET", "/balance", self._balance, "balance.retrieve"),
            route("POST", "/customers", self._create_customer, "customers.create"),
            route("GET", "/customers/{customer_id}", self._get_customer, "customers.retrieve"),
            route("POST", "/recurring/plans", self._create_plan, "recurring.plans.create"),
            route("GET", "/recurring/plans/{plan_id}", self._get_plan, "recurring.plans.retrieve"),
            route(
                "POST",
                "/recurring/plans/{plan_id}/deactivate",
                self._deactivate_plan,
                "recurring.plans.deactivate",
            ),
            route(
                "GET",
                "/recurring/plans/{plan_id}/cycles",
                self._list_cycles,
                "recurring.cycles.list",
            ),
            *self.products.routes(_answering),
        ]

    def control_routes(self) -> Sequence[Route]:
        """Test helpers: pay an invoice, activate a plan, charge a cycle, read balances."""
        return [
            Route(
                method="POST",
                template="/_fake/invoices/{invoice_id}/pay",
                handler=self._fake_pay,
                name="fake.invoices.pay",
            ),
            Route(
                method="POST",
                template="/_fake/recurring/plans/{plan_id}/activate",
                handler=self._fake_activate,
                name="fake.recurring.plans.activate",
            ),
            Route(
                method="POST",
                template="/_fake/recurring/plans/{plan_id}/cycle",
                handler=self._fake_cycle,
                name="fake.recurring.plans.cycle",
            ),
            Route(
                method="GET",
                template="/_fake/balances",
                handler=self._fake_balances,
                name="fake.balances",
            ),
            *self.products.control_routes(),
        ]

    def error_response(self, status: int, *, code: str, message: str) -> FakeResponse:
        """Xendit's ``{"error_code", "message"}``; lowercase generic codes become Xendit codes."""
        if not code.isupper():
            code = _CODES_BY_STATUS.get(status, "SERVER_ERROR")
        return json_response(status, error_body(code, message))

    async def dispatch(self, request: FakeRequest, route: Route | None, run: Run) -> FakeResponse:
        """Basic auth, then 404 for unknown routes, then idempotency on POSTs, then the handler."""
        try:
            refusal = check_api_key(request, self.config.secret_key)
            if refusal is not None:
                raise refusal
            if route is None:
                raise XenditApiError(
                    404, "DATA_NOT_FOUND", f"no route {request.method} {request.path}"
                )
            return await run_idempotently(
                self._idempotency,
                scope=self.config.secret_key,
                request=request,
                endpoint=f"POST {route.template.rstrip('/')}",
                run=run,
            )
        except XenditApiError as exc:
            return json_response(exc.status, exc.body())

    def finalize(self, request: FakeRequest, response: FakeResponse) -> None:
        """Xendit adds no headers the fake reproduces."""

    def describe(self) -> dict[str, Any]:
        """Base info for ``GET /_fake/config``: test keys, callback token, account identity."""
        return {
            "processor": self.name,
            "secret_key": self.config.secret_key,
            "callback_token": self.config.callback_token,
            "business_id": self.config.business_id,
            "currencies": list(self.config.currencies),
            "default_currency": self.config.default_currency,
            "callback_retry_delays_seconds": list(CALLBACK_RETRY_DELAYS_SECONDS),
            "time_scale": self.config.time_scale,
        }

    def reset(self) -> None:
        """Forget invoices, customers, plans, balances, idempotency keys and deliveries."""
        self.ids.reset()
        self.balances.reset()
        self.invoices.reset()
        self.customers.reset()
        self.recurring.reset()
        self.products.reset()
        self._idempotency.clear()
        self._webhooks.reset()
        self._register_configured_endpoints()

    # -- sending callbacks ----------------------------------------------------------------------------

    def send_invoice_callback(self, invoice: Invoice) -> str:
        """Send the flat PAID callback for ``invoice``; returns the delivery's event id."""
        event_id = self.ids.uuid("callback")
        body = json.dumps(self.invoices.callback_json(invoice), separators=(",", ":")).encode()
        self._webhooks.send(event_id, body, event_type="invoice.paid")
        return event_id

    def send_callbacks(self, callbacks: Sequence[Callback]) -> list[str]:
        """Send recurring callbacks in order; returns their event ids."""
        for callback in callbacks:
            body = json.dumps(callback.body, separators=(",", ":")).encode()
            self._webhooks.send(callback.event_id, body, event_type=callback.event)
        return [callback.event_id for callback in callbacks]

    def pay_invoice(
        self,
        invoice_id: str,
        *,
        paid_amount_minor: int | None = None,
        payment_method: str = "BANK_TRANSFER",
        payment_channel: str = "MANDIRI",
    ) -> Invoice:
        """Mark an invoice PAID, credit the balance and send its callback."""
        invoice = self.invoices.pay(
            invoice_id,
            paid_amount_minor=paid_amount_minor,
            payment_method=payment_method,
            payment_channel=payment_channel,
        )
        self.products.ledger.record(
            kind="PAYMENT",
            product_id=invoice.id,
            reference_id=invoice.external_id,
            currency=invoice.currency,
            amount_minor=invoice.paid_amount_minor or invoice.amount_minor,
            channel_category="INVOICE",
            channel_code=payment_channel,
            move_money=False,
        )
        self.send_invoice_callback(invoice)
        return invoice

    def charge_cycle(
        self, plan_id: str, *, succeeded: bool, failure_code: str, force: bool
    ) -> dict[str, Any]:
        """One charge attempt of a plan (:meth:`RecurringBook.charge_cycle`), recorded in the
        ledger when it succeeds, callbacks sent; returns the cycle JSON."""
        cycle, callbacks = self.recurring.charge_cycle(
            plan_id, succeeded=succeeded, failure_code=failure_code, force=force
        )
        if succeeded:
            self.products.ledger.record(
                kind="PAYMENT",
                product_id=str(cycle["id"]),
                reference_id=str(cycle["reference_id"]),
                currency=str(cycle["currency"]),
                amount_minor=to_minor(Decimal(str(cycle["amount"])), str(cycle["currency"])),
                channel_category="OTHER",
                move_money=False,
            )
        self.send_callbacks(callbacks)
        return cycle

    # -- API handlers ---------------------------------------------------------------------------------

    async def _create_invoice(self, request: FakeRequest) -> FakeResponse:
        invoice = self.invoices.create(_json(request))
        return json_response(200, self.invoices.to_json(invoice))

    async def _list_invoices(self, request: FakeRequest) -> FakeResponse:
        invoices = self.invoices.list(request.query_items())
        return json_response(200, [self.invoices.to_json(invoice) for invoice in invoices])

    async def _get_invoice(self, request: FakeRequest) -> FakeResponse:
        invoice = self.invoices.get(request.path_params["invoice_id"])
        return json_response(200, self.invoices.to_json(invoice))

    async def _expire_invoice(self, request: FakeRequest) -> FakeResponse:
        invoice = self.invoices.expire(request.path_params["invoice_id"])
        return json_response(200, self.invoices.to_json(invoice))

    async def _balance(self, request: FakeRequest) -> FakeResponse:
        query = dict(request.query_items())
        # The current doc lists CASH|HOLDING, an older one lowercase cash|holding|tax (PROCESSORS.md 2.3).
        account_type = query.get("account_type", "CASH").upper()
        if account_type not in ACCOUNT_TYPES:
            raise validation_error(f'"account_type" must be one of {list(ACCOUNT_TYPES)}')
        currency = query.get("currency", self.config.default_currency).upper()
        if currency not in self.config.currencies:
            raise XenditApiError(
                400,
                "UNSUPPORTED_CURRENCY",
                f"currency {currency!r} is not activated on this account",
            )
        amount = self.balances.get(account_type, currency)
        return json_response(200, {"balance": from_minor(amount, currency)})

    async def _create_customer(self, request: FakeRequest) -> FakeResponse:
        return json_response(200, self.customers.create(_json(request)))

    async def _get_customer(self, request: FakeRequest) -> FakeResponse:
        return json_response(200, self.customers.get(request.path_params["customer_id"]))

    async def _create_plan(self, request: FakeRequest) -> FakeResponse:
        plan, callbacks = self.recurring.create_plan(_json(request))
        self.send_callbacks(callbacks)
        return json_response(200, plan)

    async def _get_plan(self, request: FakeRequest) -> FakeResponse:
        return json_response(200, self.recurring.get_plan(request.path_params["plan_id"]))

    async def _deactivate_plan(self, request: FakeRequest) -> FakeResponse:
        plan, callbacks = self.recurring.deactivate_plan(request.path_params["plan_id"])
        self.send_callbacks(callbacks)
        return json_response(200, plan)

    async def _list_cycles(self, request: FakeRequest) -> FakeResponse:
        cycles = self.recurring.cycles(request.path_params["plan_id"])
        return json_response(200, {"data": cycles, "has_more": False})

    # -- control helpers ------------------------------------------------------------------------------

    async def _fake_pay(self, request: FakeRequest) -> FakeResponse:
        data = _control_json(request)
        invoice_id = request.path_params["invoice_id"]
        paid_amount_minor = None
        try:
            if data.get("paid_amount") is not None:
                currency = self.invoices.get(invoice_id).currency
                try:
                    paid_amount_minor = to_minor(data["paid_amount"], currency)
                except ValueError as exc:
                    raise InvalidFakeArgument(f"paid_amount is invalid: {exc}") from exc
            options = {
                name: data[name]
                for name in ("payment_method", "payment_channel")
                if data.get(name) is not None
            }
            for name, value in options.items():
                if not isinstance(value, str):
                    raise InvalidFakeArgument(f"{name} must be a string")
            invoice = self.pay_invoice(invoice_id, paid_amount_minor=paid_amount_minor, **options)
        except XenditApiError as exc:
            return _control_error(exc)
        return json_response(200, self.invoices.to_json(invoice))

    async def _fake_activate(self, request: FakeRequest) -> FakeResponse:
        try:
            plan, callbacks = self.recurring.activate_plan(request.path_params["plan_id"])
        except XenditApiError as exc:
            return _control_error(exc)
        self.send_callbacks(callbacks)
        return json_response(200, plan)

    async def _fake_cycle(self, request: FakeRequest) -> FakeResponse:
        data = _control_json(request)
        status = data.get("status", "SUCCEEDED")
        failure_code = data.get("failure_code", "INSUFFICIENT_BALANCE")
        force = data.get("force", False)
        if not isinstance(force, bool):
            raise InvalidFakeArgument("force must be a boolean")
        if status not in ("SUCCEEDED", "FAILED"):
            raise InvalidFakeArgument('status must be "SUCCEEDED" or "FAILED"')
        if not isinstance(failure_code, str):
            raise InvalidFakeArgument("failure_code must be a string")
        try:
            cycle = self.charge_cycle(
                request.path_params["plan_id"],
                succeeded=status == "SUCCEEDED",
                failure_code=failure_code,
                force=force,
            )
        except XenditApiError as exc:
            return _control_error(exc)
        return json_response(200, cycle)

    async def _fake_balances(self, request: FakeRequest) -> FakeResponse:
        return json_response(200, {"balances_minor": self.balances.snapshot()})


class XenditFakeApp(FakeApp[XenditProcessor]):
    """The Xendit fake's ASGI app with its Python handle (state plus the test helpers)."""

    @property
    def config(self) -> XenditConfig:
        """The configuration this fake was built with."""
        return self.processor.config

    def pay_invoice(
        self,
        invoice_id: str,
        *,
        paid_amount_minor: int | None = None,
        payment_method: str = "BANK_TRANSFER",
        payment_channel: str = "MANDIRI",
    ) -> dict[str, Any]:
        """Pay an invoice as a customer would (callback sent); returns the invoice JSON."""
        invoice = self.processor.pay_invoice(
            invoice_id,
            paid_amount_minor=paid_amount_minor,
            payment_method=payment_method,
            payment_channel=payment_channel,
        )
        return self.processor.invoices.to_json(invoice)

    def activate_plan(self, plan_id: str) -> dict[str, Any]:
        """Play the customer linking a payment method: the plan turns ACTIVE (callback sent)."""
        plan, callbacks = self.processor.recurring.activate_plan(plan_id)
        self.processor.send_callbacks(callbacks)
        return plan

    def charge_cycle(
        self,
        plan_id: str,
        *,
        succeeded: bool = True,
        failure_code: str = "INSUFFICIENT_BALANCE",
        force: bool = False,
    ) -> dict[str, Any]:
        """Run one charge attempt of an ACTIVE plan now (callbacks sent); returns the cycle JSON."""
        return self.processor.charge_cycle(
            plan_id, succeeded=succeeded, failure_code=failure_code, force=force
        )

    def balance_minor(self, currency: str, account_type: str = "CASH") -> int:
        """The account balance in minor units of ``currency``."""
        return self.processor.balances.get(account_type, currency)


def create_app(config: XenditConfig | None = None) -> XenditFakeApp:
    """Build a fake Xendit; ``create_app()`` uses the deterministic defaults."""
    config = config if config is not None else XenditConfig()
    return XenditFakeApp(
        XenditProcessor(config), journal=Journal(config.journal_size, now=config.now)
    )


def _answering(handler: Handler) -> Handler:
    """Wrap an API handler so a :class:`XenditApiError` becomes Xendit's error response."""

    async def answer(request: FakeRequest) -> FakeResponse:
        try:
            return await handler(request)
        except XenditApiError as exc:
            return json_response(exc.status, exc.body())

    return answer


def _json(request: FakeRequest) -> Any:
    """The request body as JSON with exact decimals; malformed JSON is an API_VALIDATION_ERROR."""
    try:
        return json.loads(request.body, parse_float=Decimal) if request.body.strip() else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise validation_error(f"request body is not valid JSON: {exc}") from exc


def _control_json(request: FakeRequest) -> dict[str, Any]:
    data = json_body(request)
    # Re-read with exact decimals: a paid amount must not pass through a float.
    parsed: dict[str, Any] = json.loads(request.body, parse_float=Decimal) if data else {}
    return parsed


def _control_error(exc: XenditApiError) -> FakeResponse:
    return json_response(exc.status, {"error": {"code": exc.code, "message": exc.message}})
