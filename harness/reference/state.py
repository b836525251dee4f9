"""What every route needs, built once per app: settings, database, rail adapters, metrics."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from .components import Components
from .db import Database
from .errors import ApiError
from .inputs import UnstorableInput, loads
from .metrics import ServiceMetrics
from .rails.base import RAILS, RailAdapter, RailError
from .rails.cdp import CdpAdapter
from .settings import ReferenceSettings

__all__ = [
    "ServiceState",
    "get_state",
    "new_id",
    "parse_body",
    "rail_error",
]

M = TypeVar("M", bound=BaseModel)


@dataclass(slots=True, kw_only=True)
class ServiceState:
    """Per-app state (no globals: two apps in one process never share anything)."""

    settings: ReferenceSettings
    db: Database
    metrics: ServiceMetrics
    adapters: dict[str, RailAdapter] = field(default_factory=dict)
    cdp: CdpAdapter | None = None
    components: Components = field(default_factory=Components)
    #: x402 payments (payer:nonce) serving an open usage session in this process: one session per payment
    x402_in_use: set[str] = field(default_factory=set)

    def require_known_rail(self, rail: str) -> None:
        """Unknown rails are refused first, before any other check (PRIOR_ART.md §1, defect 3)."""
        if rail not in RAILS:
            raise ApiError(
                404, "unknown_rail", f"unknown rail {rail!r}; known rails: {', '.join(RAILS)}"
            )

    def require_live(self) -> None:
        """Dormant means inert: no processor call, no ledger write, no settle."""
        if not self.settings.payments_live:
            raise ApiError(
                503, "payments_not_live", "payments are dormant (PAYMENTS_LIVE is not on)"
            )

    def adapter(self, rail: str) -> RailAdapter:
        """The live adapter of a rail; a live but unconfigured rail says so (never `payments_not_live`)."""
        self.require_known_rail(rail)
        self.require_live()
        adapter = self.adapters.get(rail)
        if adapter is None:
            raise ApiError(503, "rail_not_configured", f"rail {rail!r} is live but not configured")
        return adapter


async def get_state(request: Request) -> ServiceState:
    """FastAPI dependency: this app's state (async, so FastAPI does not hop to a threadpool for it)."""
    state: ServiceState = request.app.state.service
    return state


def new_id(prefix: str) -> str:
    """A fresh opaque id with a readable prefix."""
    return f"{prefix}_{secrets.token_hex(12)}"


async def parse_body(request: Request, model: type[M]) -> M:
    """Parse a JSON body after the route's own ordering checks (rail, live) have run."""
    raw = await request.body()
    try:
        data: Any = loads(raw) if raw else None
    except UnstorableInput as exc:
        raise ApiError(400, "invalid_json", f"request body is not storable JSON: {exc}") from exc
    except ValueError as exc:
        raise ApiError(400, "invalid_json", "request body is not valid JSON") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        raise ApiError(422, "validation_error", summary, details={"fields": fields}) from exc


def rail_error(exc: RailError) -> ApiError:
    """A processor failure as a structured answer (never an unhandled exception; defect 7)."""
    if exc.code == "rail_not_supported":
        return ApiError(400, "rail_not_supported", exc.message)
    status = 504 if exc.code == "processor_timeout" else 502
    return ApiError(
        status,
        "processor_error",
        f"{exc.rail} call failed: {exc.code}",
        details={"rail": exc.rail, "reason": exc.code, "processor_status": exc.status},
    )
