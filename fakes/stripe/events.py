"""Events (list, retrieve) and webhook endpoints managed through Stripe's API.

Endpoints created with ``POST /v1/webhook_endpoints`` get their own ``whsec_`` secret, returned only by
the create call, as on Stripe. Endpoints registered through the control API or ``StripeConfig.webhook_urls``
are listed too and sign with ``StripeConfig.webhook_secret``.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from fakes._common import InvalidFakeArgument, Route, WebhookEndpoint
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import StripeApiError, no_such
from fakes.stripe.forms import Params, merge_metadata
from fakes.stripe.state import Obj, StripeState

__all__ = ["event_routes"]


def _created_bounds(p: Params) -> tuple[int | None, int | None]:
    """``created=<int>`` or ``created[gt|gte|lt|lte]=<int>`` as inclusive ``(low, high)`` bounds."""
    raw = p.data.get("created")
    if raw is None:
        return None, None
    if isinstance(raw, str):
        exact = p.required_integer("created")
        return exact, exact
    bounds = p.nested("created", required=True)
    assert bounds is not None
    bounds.only(("gt", "gte", "lt", "lte"))
    lows = [bounds.integer("gte"), _shift(bounds.integer("gt"), 1)]
    highs = [bounds.integer("lte"), _shift(bounds.integer("lt"), -1)]
    low = max((v for v in lows if v is not None), default=None)
    high = min((v for v in highs if v is not None), default=None)
    return low, high


def _shift(value: int | None, by: int) -> int | None:
    return None if value is None else value + by


def _list_events(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before", "type", "types", "created"))
    single = p.text("type")
    many = p.array("types")
    if single is not None and many is not None:
        raise StripeApiError(
            400,
            "You may only specify one of these parameters: type, types.",
            code="parameters_exclusive",
            param="type",
        )
    patterns = [single] if single is not None else [str(t) for t in many or []]
    low, high = _created_bounds(p)

    def keep(event: Obj) -> bool:
        # Stripe's type filter accepts a trailing wildcard ("customer.*").
        if patterns and not any(fnmatch.fnmatchcase(event["type"], pat) for pat in patterns):
            return False
        return (low is None or event["created"] >= low) and (
            high is None or event["created"] <= high
        )

    return state.page(state.events.values(), p, "/v1/events", kind="event", keep=keep)


def _retrieve_event(state: StripeState, call: Call) -> Obj:
    event = state.get(state.events, "event", call.path["event"])
    return state.render(event, call.params.only(()))


def _endpoint_object(state: StripeState, endpoint: WebhookEndpoint) -> Obj:
    stored = state.webhook_endpoints.get(endpoint.id)
    if stored is not None:
        return stored
    # Registered through the control API or the config: not created by the API, but still listed.
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "api_version": None,
        "application": None,
        "created": 0,
        "description": endpoint.description,
        "enabled_events": list(endpoint.enabled_events),
        "livemode": False,
        "metadata": {},
        "status": "enabled",
        "url": endpoint.url,
    }


def _validated_url(p: Params) -> str:
    url = p.required_text("url", max_length=5000)
    if not url.startswith(("https://", "http://")) or "://" not in url or len(url) < 10:
        raise StripeApiError(400, f"Invalid URL: {url}", code="url_invalid", param="url")
    return url


def _validated_events(p: Params, *, required: bool) -> list[str] | None:
    events = p.array("enabled_events", required=required)
    if events is None:
        return None
    for index, event in enumerate(events):
        valid = isinstance(event, str) and (
            event == "*"
            or (
                "." in event
                and all(part and part.replace("_", "").isalnum() for part in event.split("."))
            )
        )
        if not valid:
            raise StripeApiError(
                400,
                f"Invalid enabled_events[{index}]: {event!r} is not an event type.",
                param=f"enabled_events[{index}]",
            )
    return [str(event) for event in events]


def _create_endpoint(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("url", "enabled_events", "description", "metadata", "api_version"))
    url = _validated_url(p)
    events = _validated_events(p, required=True) or ["*"]
    endpoint_id = state.ids.new("we_")
    secret = "whsec_" + state.ids.new("", 32)
    try:
        state.webhooks.add_endpoint(
            url,
            secret=secret,
            enabled_events=events,
            endpoint_id=endpoint_id,
            description=p.text("description"),
        )
    except InvalidFakeArgument as exc:
        raise StripeApiError(400, str(exc), code="url_invalid", param="url") from exc
    endpoint: Obj = {
        "id": endpoint_id,
        "object": "webhook_endpoint",
        "api_version": p.text("api_version"),
        "application": None,
        "created": state.now(),
        "description": p.text("description", max_length=5000),
        "enabled_events": events,
        "livemode": False,
        "metadata": merge_metadata({}, p.metadata()),
        "status": "enabled",
        "url": url,
    }
    state.webhook_endpoints[endpoint_id] = endpoint
    # The secret is only ever returned by the create call.
    return {**endpoint, "secret": secret}


def _endpoint(state: StripeState, call: Call) -> WebhookEndpoint:
    endpoint = state.webhooks.endpoint(call.path["endpoint"])
    if endpoint is None:
        raise no_such("webhook endpoint", call.path["endpoint"])
    return endpoint


def _retrieve_endpoint(state: StripeState, call: Call) -> Obj:
    return state.render(_endpoint_object(state, _endpoint(state, call)), call.params.only(()))


def _update_endpoint(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("url", "enabled_events", "description", "metadata"))
    current = _endpoint(state, call)
    obj = dict(_endpoint_object(state, current))
    changes: dict[str, Any] = {}
    if p.has("url"):
        changes["url"] = obj["url"] = _validated_url(p)
    events = _validated_events(p, required=False)
    if events is not None:
        obj["enabled_events"] = events
        changes["enabled_events"] = tuple(events)
    if p.has("description"):
        changes["description"] = obj["description"] = p.text("description", max_length=5000)
    if p.has("metadata"):
        obj["metadata"] = merge_metadata(obj["metadata"], p.metadata())
    state.webhooks.replace_endpoint(
        WebhookEndpoint(
            id=current.id,
            url=changes.get("url", current.url),
            secret=current.secret,
            enabled_events=changes.get("enabled_events", current.enabled_events),
            description=changes.get("description", current.description),
        )
    )
    state.webhook_endpoints[current.id] = obj
    return state.render(obj, p)


def _delete_endpoint(state: StripeState, call: Call) -> Obj:
    endpoint = _endpoint(state, call)
    state.webhooks.remove_endpoint(endpoint.id)
    state.webhook_endpoints.pop(endpoint.id, None)
    return {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}


def _list_endpoints(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before"))
    objects = [_endpoint_object(state, endpoint) for endpoint in state.webhooks.endpoints()]
    return state.page(objects, p, "/v1/webhook_endpoints", kind="webhook endpoint")


def event_routes(state: StripeState) -> list[Route]:
    """Events (list, retrieve) and webhook endpoints (create, list, retrieve, update, delete)."""
    one = "/v1/webhook_endpoints/{endpoint}"
    return [
        api_route(state, "GET", "/v1/events", "events.list", _list_events),
        api_route(state, "GET", "/v1/events/{event}", "events.retrieve", _retrieve_event),
        api_route(
            state, "POST", "/v1/webhook_endpoints", "webhook_endpoints.create", _create_endpoint
        ),
        api_route(state, "GET", "/v1/webhook_endpoints", "webhook_endpoints.list", _list_endpoints),
        api_route(state, "GET", one, "webhook_endpoints.retrieve", _retrieve_endpoint),
        api_route(state, "POST", one, "webhook_endpoints.update", _update_endpoint),
        api_route(state, "DELETE", one, "webhook_endpoints.delete", _delete_endpoint),
    ]
