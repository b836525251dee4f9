"""The contract adapter: the payments contract's routes, served over a service of another shape.

`payharness gate --target URL --profile FILE` starts :func:`create_adapter` on a loopback port and points the
suites at it. Each contract call the suites make is translated onto the service by the profile's `[gate]`
table (routes, bodies, money unit, error codes); webhooks pass through with their signatures intact to the
service's own webhook paths; what the profile says the service lacks answers `501 not_applicable`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from harness.prober.gate_profile import GateSpec

from .answers import http_refusal
from .routes import contract_routes
from .service import Service
from .state import AdapterState

__all__ = ["create_adapter"]


def create_adapter(
    spec: GateSpec,
    service_url: str,
    *,
    env: Mapping[str, str],
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """An ASGI app serving the contract over the service at `service_url`, per `spec`.

    `env` gives the values of the variables the profile's `[gate] env` names (test tokens), and the
    harness's ADMIN_SECRET: when set, the contract's admin route asks for it, as the contract does."""
    client = httpx.AsyncClient(base_url=service_url.rstrip("/"), timeout=30.0, transport=transport)
    service = Service(spec, client, env)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    state = AdapterState(admin_secret=env.get("ADMIN_SECRET", ""))
    return Starlette(
        routes=contract_routes(service, state),
        lifespan=lifespan,
        exception_handlers={HTTPException: http_refusal},
    )
