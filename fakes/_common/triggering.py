"""Trigger and resend, as the Stripe CLI does, for every fake: control routes over recipes.

A **recipe** builds, through the fake's own public API (called in process, like ``stripe trigger``
calls Stripe's API), the objects an event needs, so the fake emits that event the way it would in a
real flow; the events go out signed to the registered endpoints like any other. Recipes live with each
rail in :mod:`fakes.trigger` (``recipes(rail) -> {event_type: recipe}``), looked up by the processor's
``name`` when a trigger is asked for, so this module stays rail-agnostic.

==========  ===================================  ======================================================
method      path                                 effect
==========  ===================================  ======================================================
GET         /_fake/triggers                      ``{"rail", "events": [event types a trigger can emit]}``
POST        /_fake/trigger                       ``{"event"}`` → ``{"event", "events": [{"id", "type"}]}``
GET         /_fake/events                        every sent event ``[{"id", "type"}]``, oldest first
POST        /_fake/events/{event_id}/resend      ``{"endpoint_id"?}`` → ``{"id", "deliveries": n}``
==========  ===================================  ======================================================

``POST /_fake/trigger`` answers 400 ``unknown_trigger`` for an event type the rail has no recipe for,
and 409 ``trigger_did_not_emit`` if the recipe ran but the event did not come out. A resend goes out at
once (whatever the delivery mode) and is signed afresh, with a new timestamp where the scheme has one.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from fakes._common.errors import FakeError, InvalidFakeArgument
from fakes._common.http import FakeRequest, FakeResponse, Route, json_response

if TYPE_CHECKING:
    from fakes._common.app import FakeApp

__all__ = ["Recipe", "TriggerContext", "recipes_for", "trigger_routes"]

#: The module that knows every rail's recipes (imported on first use: it imports the rails).
RECIPES_MODULE = "fakes.trigger"


@dataclass(frozen=True, slots=True)
class TriggerContext:
    """What a recipe works with: a client of the fake's own API and the fake's ``describe()``."""

    api: httpx.AsyncClient
    config: Mapping[str, Any]


Recipe = Callable[[TriggerContext], Awaitable[None]]


def recipes_for(rail: str) -> Mapping[str, Recipe]:
    """The recipes of ``rail`` (empty for a rail without any)."""
    module = importlib.import_module(RECIPES_MODULE)
    found: Mapping[str, Recipe] = module.recipes(rail)
    return found


def trigger_routes(app: FakeApp[Any]) -> list[Route]:
    """The trigger/resend control routes bound to ``app``."""
    rail = app.processor.name

    async def list_triggers(request: FakeRequest) -> FakeResponse:
        return json_response(200, {"rail": rail, "events": sorted(recipes_for(rail))})

    async def trigger(request: FakeRequest) -> FakeResponse:
        event_type = _body(request).get("event")
        if not isinstance(event_type, str):
            raise InvalidFakeArgument('body must be {"event": "<event type>"}')
        recipes = recipes_for(rail)
        recipe = recipes.get(event_type)
        if recipe is None:
            raise InvalidFakeArgument(
                f"{rail} cannot trigger {event_type!r}; it can trigger: {', '.join(sorted(recipes))}",
                code="unknown_trigger",
            )
        before = {event_id for event_id, _ in app.webhooks.sent()}
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Mapping vs MutableMapping
        async with httpx.AsyncClient(transport=transport, base_url="http://fake.local") as api:
            await recipe(TriggerContext(api=api, config=app.processor.describe()))
        emitted = [
            {"id": event_id, "type": kind}
            for event_id, kind in app.webhooks.sent()
            if event_id not in before
        ]
        if event_type not in {event["type"] for event in emitted}:
            raise FakeError(
                f"the {event_type} recipe ran but {rail} did not emit it",
                code="trigger_did_not_emit",
            )
        return json_response(200, {"event": event_type, "events": emitted})

    async def list_events(request: FakeRequest) -> FakeResponse:
        sent = app.webhooks.sent()
        return json_response(200, [{"id": event_id, "type": kind} for event_id, kind in sent])

    async def resend(request: FakeRequest) -> FakeResponse:
        endpoint_id = _body(request).get("endpoint_id")
        if endpoint_id is not None and not isinstance(endpoint_id, str):
            raise InvalidFakeArgument("endpoint_id must be a string")
        event_id = request.path_params["event_id"]
        count = app.webhooks.resend(event_id, endpoint_id=endpoint_id)
        return json_response(200, {"id": event_id, "deliveries": count})

    return [
        Route(
            method="GET", template="/_fake/triggers", handler=list_triggers, name="fake.triggers"
        ),
        Route(method="POST", template="/_fake/trigger", handler=trigger, name="fake.trigger"),
        Route(method="GET", template="/_fake/events", handler=list_events, name="fake.events"),
        Route(
            method="POST",
            template="/_fake/events/{event_id}/resend",
            handler=resend,
            name="fake.events.resend",
        ),
    ]


def _body(request: FakeRequest) -> dict[str, Any]:
    try:
        data = request.json() if request.body.strip() else {}
    except ValueError as exc:
        raise InvalidFakeArgument(f"body is not JSON: {exc}", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise InvalidFakeArgument("body must be a JSON object", code="invalid_json")
    return data
