"""Machinery shared by every fake processor (Stripe, CDP/x402, Xendit).

A fake is a :class:`FakeApp` wrapped around a processor object that follows the :class:`Processor` protocol::

    class MyProcessor:                      # fakes/<rail>/...
        name = "xendit"
        idempotency_headers = ("idempotency-key", "x-idempotency-key")
        webhooks: WebhookDelivery           # built with the rail's signer, see below
        def routes(self) -> list[Route]: ...            # Route(method, "/v2/invoices/{id}", handler, name)
        def control_routes(self) -> list[Route]: ...    # extra test helpers under /_fake/...
        def error_response(self, status, *, code, message) -> FakeResponse: ...   # the rail's error JSON
        async def dispatch(self, request, route, run) -> FakeResponse: ...
            # auth; if route is None: the rail's 404; idempotency; then `await run()` executes the handler
        def finalize(self, request, response) -> None: ...   # e.g. add a request-id header
        def describe(self) -> dict: ...                      # GET /_fake/config
        def reset(self) -> None: ...                         # POST /_fake/reset

    app = FakeApp(MyProcessor(config), journal=Journal(config.journal_size, now=config.now))
    # app.journal, app.faults, app.webhooks, app.reset(), app.close(); serve it with LoopbackServer(app)

Pieces (each importable from this package):

* :mod:`.http`: :class:`FakeRequest` (lowercased ``headers``, raw ``body``, ``path_params``, ``route`` name,
  ``context`` scratch dict, ``query_items()``, ``json()``), :class:`FakeResponse`, :func:`json_response`,
  :class:`Route`, :class:`Router` (no regex on the request path).
* :mod:`.journal`: :class:`Journal` (``maxlen``, injected ``now``) of :class:`JournalEntry` (``seq, at, method,
  path, query, headers, body, idempotency_key, status, route``); ``entries()``, ``calls(method=, path_prefix=,
  route=)``, ``clear()``, ``len()``.
* :mod:`.faults`: :class:`Fault` (selectors ``route``/``path`` glob/``method``; effects ``status`` (+ ``body``
  override), ``latency_seconds``, ``timeout`` (+ ``timeout_seconds``, then 504), ``drop``; timing ``first_k``,
  ``every_nth``; ``during_execution``; ``lose_answer``), :class:`FaultSet` (``add`` → id, ``remove``,
  ``clear``, ``rules``, ``stats``, ``match(method, path, route)``).
* :mod:`.delivery`: :class:`WebhookDelivery` (``add_endpoint(url, secret=, enabled_events=)``,
  ``remove_endpoint``, ``endpoints``, ``set_mode(mode, seed=, batch_size=)``, ``send(event_id, body,
  event_type=)``, ``release(event_id=None)``, ``held``, ``attempts`` → :class:`DeliveryAttempt`, ``await
  drain()``, ``drain_blocking()``, ``reset``, ``close``), configured by :class:`DeliverySettings`
  (``retry_schedule_seconds``, ``time_scale``, ``timeout_seconds``, ``transport``, ``now``, ``sleep``) and a
  :data:`Signer` ``(endpoint, body) -> headers`` called at every attempt.
* :mod:`.idempotency`: :class:`IdempotencyStore` (``claim`` → :class:`Claim` with a :class:`Verdict`,
  ``complete``, ``abandon``), Stripe's semantics; each rail maps verdicts to its own errors.
* :mod:`.control`: the ``/_fake/`` routes (journal, faults, deliveries, webhook endpoints, config, reset),
  mounted by :class:`FakeApp`; :func:`json_body` for processors' own control routes.
* :mod:`.server`: :class:`LoopbackServer` (``start``/``stop``/context manager, ``base_url``), which also turns
  a ``drop`` fault into a closed socket.
* :mod:`.echo`: :class:`~fakes._common.echo.EchoProcessor`, the smallest processor: a template for a new
  fake and the test app of this package's own tests.
* :mod:`.errors`: :class:`FakeError` (root, ``code``), :class:`InvalidFakeArgument` (control API: 400),
  :class:`FakeNotFound` (404), :class:`ConnectionDropped`; any other :class:`FakeError` in a control route
  answers 409 with its code.
"""

from __future__ import annotations

from fakes._common.app import FakeApp, Processor, Run
from fakes._common.control import endpoint_json, json_body
from fakes._common.delivery import (
    DeliveryAttempt,
    DeliveryMode,
    DeliverySettings,
    Signer,
    WebhookDelivery,
    WebhookEndpoint,
)
from fakes._common.errors import ConnectionDropped, FakeError, FakeNotFound, InvalidFakeArgument
from fakes._common.faults import Fault, FaultSet
from fakes._common.http import FakeRequest, FakeResponse, Handler, Route, Router, json_response
from fakes._common.idempotency import Claim, IdempotencyStore, Verdict
from fakes._common.journal import Journal, JournalEntry
from fakes._common.server import LoopbackServer

__all__ = [
    "Claim",
    "ConnectionDropped",
    "DeliveryAttempt",
    "DeliveryMode",
    "DeliverySettings",
    "FakeApp",
    "FakeError",
    "FakeNotFound",
    "FakeRequest",
    "FakeResponse",
    "Fault",
    "FaultSet",
    "Handler",
    "IdempotencyStore",
    "InvalidFakeArgument",
    "Journal",
    "JournalEntry",
    "LoopbackServer",
    "Processor",
    "Route",
    "Router",
    "Run",
    "Signer",
    "Verdict",
    "WebhookDelivery",
    "WebhookEndpoint",
    "endpoint_json",
    "json_body",
    "json_response",
]
