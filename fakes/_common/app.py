"""The ASGI app every fake is: journal, faults, the processor's routes and the ``/_fake/`` control API.

A processor package supplies a :class:`Processor` (its routes, its error shape, auth and idempotency in its
``dispatch``, its webhook delivery) and wraps it in :class:`FakeApp`. The request path is:

1. ``/_fake/...`` goes to the control API: never journaled, never faulted;
2. route lookup; an edge fault (``during_execution=False``) may delay, fail, time out or drop the request;
   a ``lose_answer`` fault lets it run and drops the connection once it is journaled;
3. ``processor.dispatch(request, route, run)``: the processor authenticates, answers 404 for unknown routes,
   handles idempotency, and calls ``run()`` which applies an execution fault and then the route's handler;
4. ``processor.finalize`` adds the processor's response headers (e.g. ``Request-Id``); the journal records
   the request with its final status.

An unexpected exception anywhere becomes the processor's own 500 body and is logged, never a bare 500.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from fakes._common.control import control_routes
from fakes._common.delivery import WebhookDelivery
from fakes._common.errors import ConnectionDropped, FakeError, FakeNotFound, InvalidFakeArgument
from fakes._common.faults import Fault, FaultSet
from fakes._common.http import FakeRequest, FakeResponse, Route, Router, json_response
from fakes._common.journal import Journal

__all__ = ["FakeApp", "Processor", "Run"]

_log = logging.getLogger(__name__)

Run = Callable[[], Awaitable[FakeResponse]]
# The ASGI callable types (as starlette.types spells them), so httpx.ASGITransport and uvicorn accept us.
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_CONTROL_PREFIX = "/_fake/"


class Processor(Protocol):
    """What a processor package plugs into :class:`FakeApp`."""

    @property
    def name(self) -> str:
        """Short processor name (``"stripe"``), used in logs."""
        ...

    @property
    def idempotency_headers(self) -> tuple[str, ...]:
        """Lowercase header names whose value the journal records as the idempotency key."""
        ...

    @property
    def webhooks(self) -> WebhookDelivery:
        """The processor's webhook delivery (signed in its own scheme)."""
        ...

    def routes(self) -> Sequence[Route]:
        """The processor API's routes."""
        ...

    def control_routes(self) -> Sequence[Route]:
        """Extra ``/_fake/...`` routes (test helpers the real processor lacks)."""
        ...

    def error_response(self, status: int, *, code: str, message: str) -> FakeResponse:
        """An error in the processor's own JSON shape."""
        ...

    async def dispatch(self, request: FakeRequest, route: Route | None, run: Run) -> FakeResponse:
        """Authenticate, answer unknown routes, apply idempotency, and call ``run`` to execute."""
        ...

    def finalize(self, request: FakeRequest, response: FakeResponse) -> None:
        """Add the processor's headers to every response (faults and errors included)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What ``GET /_fake/config`` shows: base info, test keys and secrets."""
        ...

    def reset(self) -> None:
        """Drop all processor state (objects, events, idempotency keys, deliveries)."""
        ...


P = TypeVar("P", bound=Processor)


class FakeApp(Generic[P]):
    """A stateful fake processor as an ASGI app, with a Python handle equal to its control API."""

    def __init__(
        self,
        processor: P,
        *,
        journal: Journal | None = None,
        faults: FaultSet | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.processor = processor
        self.journal = journal if journal is not None else Journal()
        self.faults = faults if faults is not None else FaultSet()
        self._sleep = sleep
        self._router = Router(processor.routes())
        self._control = Router([*control_routes(self), *processor.control_routes()])
        self._idempotency_headers = processor.idempotency_headers

    @property
    def webhooks(self) -> WebhookDelivery:
        """The processor's webhook delivery: endpoints, modes, held events, attempt log."""
        return self.processor.webhooks

    @property
    def routes(self) -> tuple[Route, ...]:
        """The processor API routes (what fault rules can name)."""
        return self._router.routes

    def close(self) -> None:
        """Stop the webhook delivery's background loop, if a synchronous caller started one."""
        self.webhooks.close()

    def reset(self) -> None:
        """Clear the journal and faults and reset the processor, as ``POST /_fake/reset`` does."""
        self.journal.clear()
        self.faults.clear()
        self.processor.reset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        request = FakeRequest(
            method=scope["method"],
            path=scope["path"],
            query_string=scope["query_string"].decode("latin-1"),
            headers=headers,
            body=body,
        )
        if request.path.startswith(_CONTROL_PREFIX):
            response = await self._serve_control(request)
        else:
            response, lost = await self._serve(request)
            self.journal.record(
                method=request.method,
                path=request.path,
                query=request.query_string,
                headers=headers,
                body=body,
                idempotency_key=self._idempotency_key(headers),
                status=response.status,
                route=request.route,
            )
            if lost:
                # the work is done and journaled; only the answer never reaches the client
                raise ConnectionDropped(
                    "the fake dropped the connection after executing (lose_answer)"
                )
        await _send(send, response)

    def _idempotency_key(self, headers: Mapping[str, str]) -> str | None:
        for name in self._idempotency_headers:
            value = headers.get(name)
            if value is not None:
                return value
        return None

    async def _serve(self, request: FakeRequest) -> tuple[FakeResponse, bool]:
        """The response, and whether a ``lose_answer`` fault drops it after execution."""
        processor = self.processor
        lost = False
        try:
            matched = self._router.match(request.method, request.path)
            route: Route | None = None
            if matched is not None:
                route, request.path_params = matched
                request.route = route.name
            fault = self.faults.match(request.method, request.path, request.route)
            execution_fault: Fault | None = None
            if fault is not None:
                if fault.lose_answer:
                    if fault.latency_seconds:
                        await self._sleep(fault.latency_seconds)
                    lost = True
                elif fault.during_execution:
                    execution_fault = fault
                else:
                    faulted = await self._apply_fault(fault)
                    if faulted is not None:
                        processor.finalize(request, faulted)
                        return faulted, False

            async def run() -> FakeResponse:
                if execution_fault is not None:
                    faulted = await self._apply_fault(execution_fault)
                    if faulted is not None:
                        return faulted
                if route is None:  # a processor that runs unknown routes gets its own 404
                    return processor.error_response(
                        404, code="resource_missing", message="Unrecognized request URL"
                    )
                try:
                    return await route.handler(request)
                except ConnectionDropped:
                    raise
                except Exception:
                    return self._internal_error(request)

            response = await processor.dispatch(request, route, run)
        except ConnectionDropped:
            raise
        except Exception:
            response = self._internal_error(request)
        processor.finalize(request, response)
        return response, lost

    def _internal_error(self, request: FakeRequest) -> FakeResponse:
        _log.exception(
            "%s fake: unexpected error on %s %s", self.processor.name, request.method, request.path
        )
        return self.processor.error_response(
            500, code="internal_error", message="The fake hit an unexpected error; see its log."
        )

    async def _apply_fault(self, fault: Fault) -> FakeResponse | None:
        if fault.latency_seconds:
            await self._sleep(fault.latency_seconds)
        if fault.drop:
            raise ConnectionDropped()
        if fault.timeout:
            await self._sleep(fault.timeout_seconds)
            return self.processor.error_response(
                504,
                code="gateway_timeout",
                message="Injected timeout: the request was held and abandoned.",
            )
        if fault.status is not None:
            if fault.body is not None:
                return json_response(fault.status, fault.body)
            return self.processor.error_response(
                fault.status, code="injected_fault", message=f"Injected fault: HTTP {fault.status}."
            )
        return None

    async def _serve_control(self, request: FakeRequest) -> FakeResponse:
        matched = self._control.match(request.method, request.path)
        if matched is None:
            return _control_error(
                404, "unknown_control_route", f"no control route {request.method} {request.path}"
            )
        route, request.path_params = matched
        request.route = route.name
        try:
            return await route.handler(request)
        except InvalidFakeArgument as exc:
            return _control_error(400, exc.code, str(exc))
        except FakeNotFound as exc:
            return _control_error(404, exc.code, str(exc))
        except FakeError as exc:
            return _control_error(409, exc.code, str(exc))
        except Exception as exc:
            _log.exception("%s fake: control route %s failed", self.processor.name, request.path)
            return _control_error(500, "internal_error", f"{type(exc).__name__}: {exc}")


def _control_error(status: int, code: str, message: str) -> FakeResponse:
    return json_response(status, {"error": {"code": code, "message": message}})


async def _send(send: Send, response: FakeResponse) -> None:
    headers = [
        (b"content-type", response.content_type),
        (b"content-length", str(len(response.body)).encode()),
        *response.headers,
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
