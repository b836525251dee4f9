"""The ``/_fake/`` control API every fake mounts: the same powers as the Python handle, over HTTP.

Routes (JSON in and out; errors are ``{"error": {"code", "message"}}``):

=========  ===================================  ======================================================
method     path                                 effect
=========  ===================================  ======================================================
GET        /_fake/journal                       journaled requests (filters: method, path_prefix, route)
DELETE     /_fake/journal                       clear the journal
GET        /_fake/faults                        active rules with their match counts
POST       /_fake/faults                        add a rule (:class:`~fakes._common.faults.Fault` JSON) → id
DELETE     /_fake/faults[/{id}]                 remove one rule, or all
GET        /_fake/deliveries                    mode, held event ids, in-flight count, attempt log
POST       /_fake/deliveries/mode               ``{"mode", "seed"?, "batch_size"?}``
POST       /_fake/deliveries/release            ``{"event_id"?}`` → ``{"released": n}``
POST       /_fake/deliveries/drain              ``{"timeout"?}``: wait until nothing is in flight
GET/POST   /_fake/webhook_endpoints             list; register ``{"url", "secret"?, "enabled_events"?}``
DELETE     /_fake/webhook_endpoints/{id}        unregister
GET        /_fake/config                        the fake's base info, test keys and secrets
POST       /_fake/reset                         clear journal, faults and all processor state
=========  ===================================  ======================================================

Trigger and resend (``/_fake/triggers``, ``/_fake/trigger``, ``/_fake/events``,
``/_fake/events/{id}/resend``) are mounted here too: :mod:`fakes._common.triggering`.

Control routes are never journaled and never faulted. Processors add their own test helpers next to these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakes._common.delivery import WebhookEndpoint
from fakes._common.errors import InvalidFakeArgument
from fakes._common.faults import Fault
from fakes._common.http import FakeRequest, FakeResponse, Route, json_response
from fakes._common.triggering import trigger_routes

if TYPE_CHECKING:
    from fakes._common.app import FakeApp

__all__ = ["control_routes", "endpoint_json", "json_body"]


def json_body(request: FakeRequest) -> dict[str, Any]:
    """The request body as a JSON object (empty body → ``{}``); raises ``invalid_json`` otherwise."""
    if not request.body.strip():
        return {}
    try:
        data = request.json()
    except ValueError as exc:
        raise InvalidFakeArgument(f"body is not JSON: {exc}", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise InvalidFakeArgument("body must be a JSON object", code="invalid_json")
    return data


def endpoint_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """A registered webhook endpoint as the control API shows it (secret included: test fake)."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "secret": endpoint.secret,
        "enabled_events": list(endpoint.enabled_events),
    }


def _not_found(code: str, message: str) -> FakeResponse:
    return json_response(404, {"error": {"code": code, "message": message}})


def control_routes(app: FakeApp[Any]) -> list[Route]:
    """The shared control routes bound to ``app``."""

    async def journal(request: FakeRequest) -> FakeResponse:
        filters = dict(request.query_items())
        entries = app.journal.calls(
            method=filters.get("method"),
            path_prefix=filters.get("path_prefix"),
            route=filters.get("route"),
        )
        return json_response(200, [entry.to_json() for entry in entries])

    async def clear_journal(request: FakeRequest) -> FakeResponse:
        app.journal.clear()
        return json_response(200, {"cleared": True})

    async def list_faults(request: FakeRequest) -> FakeResponse:
        stats = app.faults.stats()
        rules = app.faults.rules()
        return json_response(
            200,
            [
                {"id": rule_id, **fault.to_json(), **stats.get(rule_id, {})}
                for rule_id, fault in rules.items()
            ],
        )

    async def add_fault(request: FakeRequest) -> FakeResponse:
        rule_id = app.faults.add(Fault.from_json(json_body(request)))
        return json_response(200, {"id": rule_id})

    async def clear_faults(request: FakeRequest) -> FakeResponse:
        app.faults.clear()
        return json_response(200, {"cleared": True})

    async def remove_fault(request: FakeRequest) -> FakeResponse:
        rule_id = request.path_params["rule_id"]
        if not app.faults.remove(rule_id):
            return _not_found("unknown_fault", f"no fault rule {rule_id!r}")
        return json_response(200, {"id": rule_id, "deleted": True})

    async def deliveries(request: FakeRequest) -> FakeResponse:
        webhooks = app.webhooks
        return json_response(
            200,
            {
                "mode": webhooks.mode.value,
                "held": webhooks.held(),
                "in_flight": webhooks.in_flight,
                "attempts": [attempt.to_json() for attempt in webhooks.attempts()],
            },
        )

    async def set_mode(request: FakeRequest) -> FakeResponse:
        data = json_body(request)
        mode = data.get("mode")
        seed = data.get("seed")
        batch_size = data.get("batch_size")
        if not isinstance(mode, str):
            raise InvalidFakeArgument("mode is required (immediate, held, duplicated, reordered)")
        for name, value in (("seed", seed), ("batch_size", batch_size)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise InvalidFakeArgument(f"{name} must be an integer, got {value!r}")
        app.webhooks.set_mode(mode, seed=seed, batch_size=batch_size)
        return json_response(200, {"mode": app.webhooks.mode.value})

    async def release(request: FakeRequest) -> FakeResponse:
        event_id = json_body(request).get("event_id")
        if event_id is not None and not isinstance(event_id, str):
            raise InvalidFakeArgument("event_id must be a string")
        return json_response(200, {"released": app.webhooks.release(event_id)})

    async def drain(request: FakeRequest) -> FakeResponse:
        timeout = json_body(request).get("timeout")
        if timeout is not None and (
            not isinstance(timeout, int | float) or isinstance(timeout, bool)
        ):
            raise InvalidFakeArgument("timeout must be a number of seconds")
        await app.webhooks.drain(timeout)
        return json_response(200, {"in_flight": app.webhooks.in_flight})

    async def list_endpoints(request: FakeRequest) -> FakeResponse:
        return json_response(200, [endpoint_json(e) for e in app.webhooks.endpoints()])

    async def add_endpoint(request: FakeRequest) -> FakeResponse:
        data = json_body(request)
        url = data.get("url")
        secret = data.get("secret")
        events = data.get("enabled_events", ["*"])
        if not isinstance(url, str):
            raise InvalidFakeArgument("url is required")
        if secret is not None and not isinstance(secret, str):
            raise InvalidFakeArgument("secret must be a string")
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise InvalidFakeArgument("enabled_events must be a list of event types")
        endpoint = app.webhooks.add_endpoint(url, secret=secret, enabled_events=events)
        return json_response(200, endpoint_json(endpoint))

    async def remove_endpoint(request: FakeRequest) -> FakeResponse:
        endpoint_id = request.path_params["endpoint_id"]
        if not app.webhooks.remove_endpoint(endpoint_id):
            return _not_found("unknown_webhook_endpoint", f"no webhook endpoint {endpoint_id!r}")
        return json_response(200, {"id": endpoint_id, "deleted": True})

    async def config(request: FakeRequest) -> FakeResponse:
        return json_response(200, app.processor.describe())

    async def reset(request: FakeRequest) -> FakeResponse:
        app.reset()
        return json_response(200, {"reset": True})

    return [
        Route(method="GET", template="/_fake/journal", handler=journal, name="fake.journal"),
        Route(
            method="DELETE",
            template="/_fake/journal",
            handler=clear_journal,
            name="fake.journal.clear",
        ),
        Route(method="GET", template="/_fake/faults", handler=list_faults, name="fake.faults"),
        Route(method="POST", template="/_fake/faults", handler=add_fault, name="fake.faults.add"),
        Route(
            method="DELETE",
            template="/_fake/faults",
            handler=clear_faults,
            name="fake.faults.clear",
        ),
        Route(
            method="DELETE",
            template="/_fake/faults/{rule_id}",
            handler=remove_fault,
            name="fake.faults.remove",
        ),
        Route(
            method="GET", template="/_fake/deliveries", handler=deliveries, name="fake.deliveries"
        ),
        Route(
            method="POST",
            template="/_fake/deliveries/mode",
            handler=set_mode,
            name="fake.deliveries.mode",
        ),
        Route(
            method="POST",
            template="/_fake/deliveries/release",
            handler=release,
            name="fake.deliveries.release",
        ),
        Route(
            method="POST",
            template="/_fake/deliveries/drain",
            handler=drain,
            name="fake.deliveries.drain",
        ),
        Route(
            method="GET",
            template="/_fake/webhook_endpoints",
            handler=list_endpoints,
            name="fake.webhook_endpoints",
        ),
        Route(
            method="POST",
            template="/_fake/webhook_endpoints",
            handler=add_endpoint,
            name="fake.webhook_endpoints.add",
        ),
        Route(
            method="DELETE",
            template="/_fake/webhook_endpoints/{endpoint_id}",
            handler=remove_endpoint,
            name="fake.webhook_endpoints.remove",
        ),
        Route(method="GET", template="/_fake/config", handler=config, name="fake.config"),
        Route(method="POST", template="/_fake/reset", handler=reset, name="fake.reset"),
        *trigger_routes(app),
    ]
