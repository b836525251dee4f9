"""The fake CDP x402 facilitator as an ASGI app: ``create_app(CdpConfig()) -> CdpFakeApp``.

Routes (served at the root and under CDP's ``/platform/v2/x402`` prefix, so either base URL works with
``x402.http.HTTPFacilitatorClient``):

* ``POST /verify``, ``POST /settle``: X402-V1 §7 bodies, v1 and v2 (:mod:`fakes.cdp.payloads`,
  :mod:`fakes.cdp.facilitator`). A judged payment is always HTTP 200 (``isValid``/``success`` false
  with the reason); only a body that is not an x402 request at all is HTTP 400, in the same response
  shape with ``invalid_payload``/``invalid_payment_requirements``/``invalid_x402_version``.
* ``GET /supported``: ``{"kinds": [...], "extensions": [], "signers": {...}}``.
* ``GET /discovery/resources``: the x402 Bazaar list of the resources settled here
  (:mod:`fakes.cdp.discovery`).

Other errors (unknown route, bad bearer token, injected faults, unexpected exceptions) use the CDP
API's error shape ``{"errorType": "<snake_case>", "errorMessage": "..."}`` (from CDP's v2 API
reference as remembered, not in PROCESSORS.md: UNVERIFIED).

Test helpers under ``/_fake/`` (besides the shared control API):

* ``GET /_fake/wallets``: every balance; ``GET /_fake/wallets/{address}``: one balance;
* ``POST /_fake/wallets/fund`` ``{"address", "amount"}``: mint atomic USDC units to an address;
* ``GET /_fake/settlements``: every settlement, oldest first.

Each settlement emits one ``x402.settlement.completed`` webhook (:mod:`fakes.cdp.webhooks`) to the
registered endpoints; an idempotent settle replay emits nothing new.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from eth_utils.address import to_checksum_address

from fakes._common import (
    DeliverySettings,
    FakeApp,
    FakeRequest,
    FakeResponse,
    InvalidFakeArgument,
    Journal,
    Route,
    Run,
    WebhookDelivery,
    json_body,
    json_response,
)
from fakes.cdp.config import KNOWN_NETWORKS, CdpConfig
from fakes.cdp.discovery import Bazaar
from fakes.cdp.facilitator import Facilitator, Settlement
from fakes.cdp.payloads import MalformedRequest, parse_request
from fakes.cdp.wallets import Wallets
from fakes.cdp.webhooks import (
    HOOK0_RETRY_DELAYS_SECONDS,
    SETTLEMENT_EVENT_TYPE,
    EventFactory,
    hook0_signer,
)

__all__ = ["CdpFakeApp", "CdpProcessor", "create_app"]

#: CDP serves its facilitator under this prefix (``https://api.cdp.coinbase.com/platform/v2/x402``).
CDP_PREFIX = "/platform/v2/x402"

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class CdpProcessor:
    """The CDP facilitator plugged into :class:`fakes._common.FakeApp` (see the module docstring)."""

    name = "cdp"
    # The facilitator API has no idempotency header; an identical settle is idempotent by itself.
    idempotency_headers: tuple[str, ...] = ()

    def __init__(self, config: CdpConfig) -> None:
        self.config = config
        self.facilitator = Facilitator(config)
        self.bazaar = Bazaar()
        self._events = EventFactory(config.seed)
        self._webhooks = WebhookDelivery(
            DeliverySettings(
                retry_schedule_seconds=HOOK0_RETRY_DELAYS_SECONDS,
                time_scale=config.time_scale,
                transport=config.delivery_transport,
                now=config.now,
            ),
            sign=hook0_signer(config.now),
            new_secret=lambda: config.webhook_secret,
            endpoint_id_prefix="whsub_",
        )
        self._register_configured_endpoints()

    @property
    def webhooks(self) -> WebhookDelivery:
        """Delivery of ``X-Hook0-Signature`` webhooks to registered endpoints."""
        return self._webhooks

    @property
    def wallets(self) -> Wallets:
        """The fake chain's USDC balances."""
        return self.facilitator.wallets

    def _register_configured_endpoints(self) -> None:
        for url in self.config.webhook_urls:
            self._webhooks.add_endpoint(url)

    # -- Processor protocol ---------------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        """``/verify``, ``/settle``, ``/supported`` at the root and under :data:`CDP_PREFIX`."""
        routes: list[Route] = []
        for prefix in ("", CDP_PREFIX):
            routes += [
                Route(
                    method="POST", template=f"{prefix}/verify", handler=self._verify, name="verify"
                ),
                Route(
                    method="POST", template=f"{prefix}/settle", handler=self._settle, name="settle"
                ),
                Route(
                    method="GET",
                    template=f"{prefix}/supported",
                    handler=self._supported,
                    name="supported",
                ),
                Route(
                    method="GET",
                    template=f"{prefix}/discovery/resources",
                    handler=self._discovery,
                    name="discovery.resources",
                ),
            ]
        return routes

    def control_routes(self) -> Sequence[Route]:
        """Wallet and settlement helpers under ``/_fake/``."""
        return [
            Route(
                method="GET", template="/_fake/wallets", handler=self._wallets, name="fake.wallets"
            ),
            Route(
                method="POST",
                template="/_fake/wallets/fund",
                handler=self._fund,
                name="fake.wallets.fund",
            ),
            Route(
                method="GET",
                template="/_fake/wallets/{address}",
                handler=self._wallet,
                name="fake.wallets.get",
            ),
            Route(
                method="GET",
                template="/_fake/settlements",
                handler=self._settlements,
                name="fake.settlements",
            ),
        ]

    def error_response(self, status: int, *, code: str, message: str) -> FakeResponse:
        """CDP's API error shape: ``{"errorType", "errorMessage"}``."""
        error_type = {"resource_missing": "not_found"}.get(code, code)
        return json_response(status, {"errorType": error_type, "errorMessage": message})

    async def dispatch(self, request: FakeRequest, route: Route | None, run: Run) -> FakeResponse:
        """Check the bearer token (when configured), then execute the route."""
        token = self.config.bearer_token
        if token is not None and request.headers.get("authorization") != f"Bearer {token}":
            return self.error_response(
                401, code="unauthorized", message="missing or invalid Authorization bearer token"
            )
        if route is None:
            return self.error_response(
                404, code="not_found", message=f"no route {request.method} {request.path}"
            )
        return await run()

    def finalize(self, request: FakeRequest, response: FakeResponse) -> None:
        """The facilitator adds no headers of its own."""

    def describe(self) -> dict[str, Any]:
        """Base info for ``GET /_fake/config``: networks, secrets and the funded test wallets."""
        return {
            "processor": self.name,
            "facilitator_paths": ["/", CDP_PREFIX],
            "networks": [
                {
                    "v1": info.v1_name,
                    "caip2": info.caip2,
                    "usdc": info.usdc_address,
                    "eip712_domain": {"name": info.token_name, "version": info.token_version},
                }
                for info in (KNOWN_NETWORKS[name] for name in self.config.networks)
            ],
            "bearer_token": self.config.bearer_token,
            "webhook_secret": self.config.webhook_secret,
            "webhook_event_type": SETTLEMENT_EVENT_TYPE,
            "facilitator_signer": self.facilitator.signer_address,
            "funded_accounts": [
                {
                    "address": account.address,
                    "private_key": account.private_key,
                    "initial_balance": account.balance_atomic,
                }
                for account in self.config.funded_accounts
            ],
        }

    def reset(self) -> None:
        """Restore balances, forget settlements and nonces, events and deliveries."""
        self.facilitator.reset()
        self.bazaar.reset()
        self._events.reset()
        self._webhooks.reset()
        self._register_configured_endpoints()

    # -- facilitator routes ---------------------------------------------------------------------------

    async def _verify(self, request: FakeRequest) -> FakeResponse:
        try:
            parsed = parse_request(request.body)
        except MalformedRequest as exc:
            body: dict[str, Any] = {
                "isValid": False,
                "invalidReason": exc.code,
                "invalidMessage": exc.message,
            }
            if exc.payer is not None:
                body["payer"] = exc.payer
            return json_response(400, body)
        return json_response(200, self.facilitator.verify(parsed))

    async def _settle(self, request: FakeRequest) -> FakeResponse:
        try:
            parsed = parse_request(request.body)
        except MalformedRequest as exc:
            body: dict[str, Any] = {
                "success": False,
                "errorReason": exc.code,
                "errorMessage": exc.message,
                "transaction": "",
                "network": _requested_network(request),
            }
            if exc.payer is not None:
                body["payer"] = exc.payer
            return json_response(400, body)
        outcome = self.facilitator.settle(parsed)
        if outcome.settlement is not None:
            self.bazaar.record(parsed, outcome.settlement.settled_at)
            self.emit_settlement(outcome.settlement)
        return json_response(200, outcome.body)

    async def _supported(self, request: FakeRequest) -> FakeResponse:
        return json_response(200, self.facilitator.supported())

    async def _discovery(self, request: FakeRequest) -> FakeResponse:
        try:
            return json_response(200, self.bazaar.list(dict(request.query_items())))
        except InvalidFakeArgument as exc:
            return self.error_response(400, code="invalid_request", message=str(exc))

    def emit_settlement(self, settlement: Settlement) -> str:
        """Send the webhook for ``settlement``; returns its event id."""
        event_id, body = self._events.settlement_event(settlement)
        self._webhooks.send(event_id, body, event_type=SETTLEMENT_EVENT_TYPE)
        return event_id

    # -- control helpers ------------------------------------------------------------------------------

    async def _wallets(self, request: FakeRequest) -> FakeResponse:
        return json_response(200, {"balances": self.wallets.snapshot()})

    async def _wallet(self, request: FakeRequest) -> FakeResponse:
        address = _address_argument(request.path_params["address"])
        return json_response(
            200,
            {"address": to_checksum_address(address), "balance": self.wallets.balance(address)},
        )

    async def _fund(self, request: FakeRequest) -> FakeResponse:
        data = json_body(request)
        address = _address_argument(data.get("address"))
        amount = data.get("amount")
        if isinstance(amount, str) and amount.isascii() and amount.isdigit():
            amount = int(amount)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidFakeArgument("amount must be a positive integer of atomic USDC units")
        balance = self.wallets.fund(address, amount)
        return json_response(200, {"address": to_checksum_address(address), "balance": balance})

    async def _settlements(self, request: FakeRequest) -> FakeResponse:
        return json_response(200, [s.to_json() for s in self.facilitator.settlements()])


class CdpFakeApp(FakeApp[CdpProcessor]):
    """The CDP fake's ASGI app with its Python handle (journal, faults, webhooks, wallets, settlements)."""

    @property
    def config(self) -> CdpConfig:
        """The configuration this fake was built with."""
        return self.processor.config

    @property
    def facilitator(self) -> Facilitator:
        """The facilitator state machine (verify/settle in-process, settlements)."""
        return self.processor.facilitator

    @property
    def wallets(self) -> Wallets:
        """USDC balances of the fake chain."""
        return self.processor.wallets

    def fund(self, address: str, amount_atomic: int) -> int:
        """Mint ``amount_atomic`` USDC units to ``address``; returns the new balance."""
        return self.wallets.fund(address, amount_atomic)

    def balance(self, address: str) -> int:
        """The USDC balance of ``address`` in atomic units."""
        return self.wallets.balance(address)

    def settlements(self) -> list[Settlement]:
        """Every settlement, oldest first."""
        return self.facilitator.settlements()


def create_app(config: CdpConfig | None = None) -> CdpFakeApp:
    """Build a fake CDP x402 facilitator; ``create_app()`` uses the deterministic defaults."""
    config = config if config is not None else CdpConfig()
    return CdpFakeApp(CdpProcessor(config), journal=Journal(config.journal_size, now=config.now))


def _address_argument(value: object) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise InvalidFakeArgument("address must be a 0x-prefixed 20-byte hex address")
    return value


def _requested_network(request: FakeRequest) -> str:
    """The requirements' network of a malformed settle body, if readable (``network`` is required)."""
    try:
        document = request.json()
    except ValueError:
        return ""
    if isinstance(document, dict):
        requirements = document.get("paymentRequirements")
        if isinstance(requirements, dict) and isinstance(requirements.get("network"), str):
            return str(requirements["network"])
    return ""
