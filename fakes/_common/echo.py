"""The smallest :class:`~fakes._common.app.Processor`: a template for new fakes and a test app for the
shared machinery (like schemathesis' catalog of test apps).

Routes: ``GET /v1/things/{id}`` echoes its id, ``POST /v1/things`` echoes the body and emits a webhook
``thing.created``. Errors are ``{"error": {"code", "message"}}``; auth is ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from fakes._common.app import FakeApp, Run
from fakes._common.delivery import DeliverySettings, WebhookDelivery, WebhookEndpoint
from fakes._common.http import FakeRequest, FakeResponse, Route, json_response
from fakes._common.journal import Journal

__all__ = ["EchoProcessor", "create_echo_app"]


class EchoProcessor:
    """A processor with two routes, bearer auth, and webhooks signed with the endpoint secret."""

    name: str = "echo"
    idempotency_headers: tuple[str, ...] = ("idempotency-key",)

    def __init__(
        self, *, token: str = "echo-token", delivery: DeliverySettings | None = None
    ) -> None:
        self.token = token
        self._webhooks = WebhookDelivery(
            delivery or DeliverySettings(), sign=self._sign, new_secret=lambda: "echo-secret"
        )
        self._ids = itertools.count(1)

    @property
    def webhooks(self) -> WebhookDelivery:
        """Deliveries signed with a plain ``x-echo-secret`` header."""
        return self._webhooks

    @staticmethod
    def _sign(endpoint: WebhookEndpoint, body: bytes) -> Mapping[str, str]:
        return {"x-echo-secret": endpoint.secret}

    def routes(self) -> Sequence[Route]:
        """``GET /v1/things/{id}`` and ``POST /v1/things``."""

        async def get_thing(request: FakeRequest) -> FakeResponse:
            return json_response(200, {"id": request.path_params["id"]})

        async def create_thing(request: FakeRequest) -> FakeResponse:
            event_id = f"evt_{next(self._ids)}"
            self._webhooks.send(event_id, request.body, event_type="thing.created")
            return json_response(
                200, {"event": event_id, "body": request.body.decode(errors="replace")}
            )

        return [
            Route(method="GET", template="/v1/things/{id}", handler=get_thing, name="things.get"),
            Route(method="POST", template="/v1/things", handler=create_thing, name="things.create"),
        ]

    def control_routes(self) -> Sequence[Route]:
        """No processor-specific helpers."""
        return []

    def error_response(self, status: int, *, code: str, message: str) -> FakeResponse:
        """``{"error": {"code", "message"}}``."""
        return json_response(status, {"error": {"code": code, "message": message}})

    async def dispatch(self, request: FakeRequest, route: Route | None, run: Run) -> FakeResponse:
        """Bearer auth, then a 404 for unknown routes, then the handler."""
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self.error_response(401, code="unauthorized", message="bad token")
        if route is None:
            return self.error_response(404, code="not_found", message=f"no route {request.path}")
        return await run()

    def finalize(self, request: FakeRequest, response: FakeResponse) -> None:
        """Tag every processor response."""
        response.headers.append((b"x-echo", b"1"))

    def describe(self) -> dict[str, Any]:
        """The token, for ``GET /_fake/config``."""
        return {"processor": "echo", "token": self.token}

    def reset(self) -> None:
        """Forget deliveries."""
        self._webhooks.reset()


def create_echo_app(
    *, delivery: DeliverySettings | None = None, journal_size: int = 10_000, **kwargs: Any
) -> FakeApp[EchoProcessor]:
    """An echo fake; ``kwargs`` go to :class:`FakeApp` (``sleep``, ``faults``)."""
    return FakeApp(EchoProcessor(delivery=delivery), journal=Journal(journal_size), **kwargs)
