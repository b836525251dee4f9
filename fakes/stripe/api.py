"""How the Stripe fake's handlers are written: plain functions from a :class:`Call` to a JSON object.

:func:`api_route` wraps such a function into a :class:`~fakes._common.Route`: it runs it under the state
lock (handlers never await, so the lock is never held across a suspension), turns a
:class:`~fakes.stripe.errors.StripeApiError` into Stripe's error response, and marks pre-execution
failures so the idempotency layer does not save them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from fakes._common import FakeRequest, FakeResponse, Route
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import Params
from fakes.stripe.state import Obj, StripeState

__all__ = ["PRE_EXECUTION_FAILURE", "Call", "api_route", "encode"]

# request.context keys shared with the processor's dispatch.
PARAMS = "stripe.params"
REQUEST_ID = "stripe.request_id"
PRE_EXECUTION_FAILURE = "stripe.pre_execution_failure"


@dataclass(frozen=True, slots=True)
class Call:
    """One API call as a handler sees it: decoded parameters, path parameters, request identity."""

    params: Params
    path: Mapping[str, str]
    request_id: str | None
    idempotency_key: str | None

    def event_request(self) -> dict[str, str | None]:
        """The ``request`` member of events this call causes."""
        return {"id": self.request_id, "idempotency_key": self.idempotency_key}


def call_of(request: FakeRequest) -> Call:
    """The :class:`Call` for a request the processor has already decoded."""
    params = request.context.get(PARAMS)
    return Call(
        params=params if isinstance(params, Params) else Params({}),
        path=request.path_params,
        request_id=request.context.get(REQUEST_ID),
        idempotency_key=request.headers.get("idempotency-key")
        if request.method == "POST"
        else None,
    )


def encode(payload: Any) -> bytes:
    """Compact JSON for a response body. orjson encodes the hot paths (``GET /v1/customers/{id}``) about
    ten times faster than :func:`json.dumps`, which is kept for what orjson refuses (integers beyond 64
    bits, lone surrogates)."""
    try:
        return orjson.dumps(payload)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(payload, separators=(",", ":")).encode()


def api_route(
    state: StripeState,
    method: str,
    template: str,
    name: str,
    handler: Callable[[StripeState, Call], Obj],
) -> Route:
    """A route running ``handler(state, call)`` under the state lock, answering its object as JSON."""

    async def endpoint(request: FakeRequest) -> FakeResponse:
        call = call_of(request)
        try:
            with state.lock:
                payload: Any = handler(state, call)
        except StripeApiError as exc:
            if exc.pre_execution:
                request.context[PRE_EXECUTION_FAILURE] = True
            return exc.response()
        return FakeResponse(status=200, body=encode(payload), headers=[])

    return Route(method=method, template=template, handler=endpoint, name=name)
