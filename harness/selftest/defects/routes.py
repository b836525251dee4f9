"""Route and service-state defects: check order, error codes that lie, dropped request data, duplicate
outcomes, an unguarded reap, and a dormant flag that does not guard the processor path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import delete
from starlette.responses import JSONResponse, Response

from harness.reference.components import default_routers
from harness.reference.errors import ApiError
from harness.reference.models import Account, Outcome
from harness.reference.rails.base import RailAdapter
from harness.reference.routes import payments, webhooks
from harness.reference.routes.schemas import OutcomeCreate, OutcomeOut
from harness.reference.state import ServiceState, get_state

__all__ = [
    "LeakyDormantState",
    "StubRailState",
    "routers_with",
]

#: Every rail's signature header (PROCESSORS.md 1.1, 2.1, 3.2).
_SIGNATURE_HEADERS = ("stripe-signature", "x-callback-token", "x-hook0-signature")


def routers_with(
    original: APIRouter,
    name: str,
    endpoint: Callable[..., Any],
    **route: Any,
) -> Callable[[], Sequence[APIRouter]]:
    """The default routers, with the route `name` of `original` served by `endpoint` instead."""

    def build() -> Sequence[APIRouter]:
        replaced = APIRouter()
        kept = [r for r in original.routes if getattr(r, "name", None) != name]
        path = next(r.path for r in original.routes if isinstance(r, APIRoute) and r.name == name)
        replaced.routes.extend(kept)
        replaced.add_api_route(path, endpoint, name=name, **route)
        return [replaced if r is original else r for r in default_routers()]

    return build


async def topup_dropping_client_key(
    rail: str, request: Request, state: ServiceState = Depends(get_state)
) -> JSONResponse:
    """The client's `Idempotency-Key` never reaches the top-up logic (PRIOR_ART.md §1 defect 2: request
    data silently lost between layers)."""
    return await payments.start_topup(rail, request, idempotency_key=None, state=state)


async def webhook_header_first(rail: str, request: Request) -> Response:
    """Looks for a signature header before looking at the rail (PRIOR_ART.md §1 defect 3): an unknown
    rail is misreported as a missing signature."""
    if not any(request.headers.get(h) for h in _SIGNATURE_HEADERS):
        raise ApiError(400, "missing_signature_header", "no signature header")
    return await webhooks.receive_webhook(rail, request)


async def record_outcome_last_wins(
    body: OutcomeCreate, state: ServiceState = Depends(get_state)
) -> OutcomeOut:
    """A second outcome for one inference overwrites the first (PRIOR_ART.md §1 defect 6: which cost a
    charge uses becomes arbitrary)."""
    async with state.db.write() as session:
        if await session.get(Account, body.account_id) is None:
            raise ApiError(404, "account_not_found", f"no account {body.account_id!r}")
        outcome = await session.get(Outcome, body.inference_id)
        if outcome is None:
            outcome = Outcome(
                inference_id=body.inference_id,
                account_id=body.account_id,
                cost_micros=body.cost_micros,
            )
            session.add(outcome)
        else:
            outcome.cost_micros = body.cost_micros
        await session.flush()
    return OutcomeOut(
        inference_id=outcome.inference_id,
        account_id=outcome.account_id,
        cost_micros=outcome.cost_micros,
        created_at=outcome.created_at,
    )


async def delete_any_account(account_id: str, state: ServiceState = Depends(get_state)) -> Response:
    """Reaps whatever account it is given: the test-cohort guard is missing from the delete."""
    async with state.db.write() as session:
        result = await session.execute(delete(Account).where(Account.id == account_id))
        if not getattr(result, "rowcount", 0):
            raise ApiError(404, "account_not_found", f"no account {account_id!r}")
    return Response(status_code=204)


class LeakyDormantState(ServiceState):
    """The processor path forgets the live check: a dormant service still calls processors and applies
    webhooks (the master flag guards only some routes)."""

    def adapter(self, rail: str) -> RailAdapter:
        """The rail's adapter, live or not (the defect)."""
        self.require_known_rail(rail)
        adapter = self.adapters.get(rail)
        if adapter is None:
            raise ApiError(503, "rail_not_configured", f"rail {rail!r} is not configured")
        return adapter


class StubRailState(ServiceState):
    """A rail left on its dormant stub after the flag was flipped (PRIOR_ART.md §1 defect 8): live, yet
    the CDP top-up answers `payments_not_live` while status says `live: true`."""

    def adapter(self, rail: str) -> RailAdapter:
        """The CDP rail still answers as dormant (the defect)."""
        if rail == "cdp":
            self.require_known_rail(rail)
            raise ApiError(
                503, "payments_not_live", "payments are dormant (PAYMENTS_LIVE is not on)"
            )
        return super().adapter(rail)
