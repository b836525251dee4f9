"""Limit and refusal defects (issue 11, class 3): a charge that overdraws, an Idempotency-Key reused with
another amount that replays, a reconcile dry run that moves money, an x402 top-up that trusts the client,
or trusts its facilitator's word for the amount, a charge that says a repeat is new, a declined x402 payment answered 401, a payment bound ten times tighter than the contract's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import Depends, Header, Query, Request
from sqlalchemy import select
from starlette.responses import JSONResponse
from x402.schemas.v1 import PaymentRequirementsV1

from harness.reference.errors import ApiError
from harness.reference.ledger import get_account_for_update, post_entry
from harness.reference.models import Charge, Outcome, Topup
from harness.reference.rails.base import PayloadInvalid, PaymentReceived, ProcessorEvent
from harness.reference.rails.cdp import (
    CdpAdapter,
    PaymentDeclined,
    SettledPayment,
    authorized_micros,
)
from harness.reference.rails.stripe import StripeAdapter
from harness.reference.rails.xendit import XenditAdapter
from harness.reference.routes import admin, charges, payments
from harness.reference.routes.schemas import ReconcileResult
from harness.reference.routes.views import topup_out
from harness.reference.state import ServiceState, get_state

__all__ = [
    "ClientTrustingCdpAdapter",
    "FacilitatorTrustingCdpAdapter",
    "TightBoundCdpAdapter",
    "TightBoundStripeAdapter",
    "TightBoundXenditAdapter",
    "charge_checking_cost_only",
    "charge_with_replayed_inverted",
    "pay_declining_as_unauthorized",
    "reconcile_ignoring_dry_run",
    "topup_replaying_reused_key",
]


async def charge_with_replayed_inverted(
    request: Request, state: ServiceState = Depends(get_state)
) -> JSONResponse:
    """Answers a first charge as a replay and a repeat as a new charge: a client that books a charge
    when `replayed` is false books every retry again."""
    answer = await charges.charge(request, state)
    body = json.loads(bytes(answer.body))
    body["replayed"] = not body.get("replayed")
    return JSONResponse(body, status_code=answer.status_code)


async def pay_declining_as_unauthorized(
    topup_id: str,
    x_payment: str | None = Header(default=None, alias="X-PAYMENT"),
    state: ServiceState = Depends(get_state),
) -> JSONResponse:
    """A declined x402 payment answered 401 instead of the contract's 402 (with its requirements): an
    x402 client reads 401 as "authenticate" and never offers another payment."""
    answer = await payments.pay_cdp_topup(topup_id, x_payment=x_payment, state=state)
    if answer.status_code != 402 or not x_payment:
        return answer
    return JSONResponse(json.loads(bytes(answer.body)), status_code=401)


async def charge_checking_cost_only(
    request: Request, state: ServiceState = Depends(get_state)
) -> JSONResponse:
    """Checks the balance against the provider cost, not the charged amount: a wallet that covers the
    cost but not the margin is debited into the red."""
    try:
        return await charges.charge(request, state)
    except ApiError as refused:
        if refused.status != 402:
            raise
        answer = refused
    inference = str(json.loads(await request.body())["inference_id"])
    async with state.db.write() as session:
        outcome = await session.get(Outcome, inference)
        assert outcome is not None
        account = await get_account_for_update(
            session, outcome.account_id, row_lock=state.db.supports_row_locks
        )
        if account is None or account.balance_micros < outcome.cost_micros:
            raise answer
        margin = json.loads(await request.body()).get("margin_bps")
        s = state.settings
        requested = margin if margin is not None else s.default_margin_bps
        priced = state.components.pricing(
            outcome.cost_micros, requested, min_bps=s.min_margin_bps, max_bps=s.max_margin_bps
        )
        entry = await post_entry(
            session,
            account,
            kind="debit",
            direction=-1,
            amount_micros=priced.charged_micros,
            source="charge",
            reference=inference,
            idempotency_key=f"charge:{inference}",
        )
        session.add(
            Charge(
                inference_id=inference,
                account_id=account.id,
                cost_micros=priced.cost_micros,
                margin_bps_requested=margin,
                margin_bps=priced.margin_bps,
                charged_micros=priced.charged_micros,
                ledger_entry_id=entry.id,
            )
        )
    return await charges.charge(request, state)


async def topup_replaying_reused_key(
    rail: str,
    request: Request,
    idempotency_key: str | None = Header(default=None, max_length=255),
    state: ServiceState = Depends(get_state),
) -> JSONResponse:
    """A reused Idempotency-Key replays the first top-up whatever the new body asks for."""
    if idempotency_key:
        async with state.db.read() as session:
            first = (
                await session.execute(
                    select(Topup).where(Topup.rail == rail, Topup.client_key == idempotency_key)
                )
            ).scalar_one_or_none()
        if first is not None:
            return JSONResponse(topup_out(first).model_dump(mode="json"), status_code=200)
    return await payments.start_topup(rail, request, idempotency_key, state)


async def reconcile_ignoring_dry_run(
    rail: str,
    dry_run: bool = Query(default=True),
    x_admin_secret: str | None = Header(default=None),
    state: ServiceState = Depends(get_state),
) -> ReconcileResult:
    """Repairs what it finds even on a dry run (the flag is read but never passed on)."""
    result = await admin.reconcile(rail, dry_run=False, x_admin_secret=x_admin_secret, state=state)
    return result.model_copy(update={"dry_run": dry_run})


class ClientTrustingCdpAdapter(CdpAdapter):
    """Builds the requirements it verifies against from the client's own authorisation: a payment for
    less, or to another wallet, verifies against itself and is credited."""

    async def verify_and_settle(
        self, payload: Any, requirements: Mapping[str, Any]
    ) -> SettledPayment:
        """The requirements' amount and payTo taken from the payment (the defect)."""
        auth = payload.payload.get("authorization") or {}
        trusted = {
            **requirements,
            "maxAmountRequired": str(authorized_micros(payload)),
            "payTo": str(auth.get("to") or requirements["payTo"]),
        }
        return await super().verify_and_settle(payload, trusted)


class FacilitatorTrustingCdpAdapter(CdpAdapter):
    """Takes the facilitator's `isValid` as the whole answer: the authorised value is never compared with
    the requirements, so an underpayment a buggy or spoofed facilitator vouches for is credited."""

    async def verify(self, payload: Any, requirements: Mapping[str, Any]) -> int:
        """The facilitator's verdict, and no amount check of our own (the defect)."""
        reqs = PaymentRequirementsV1.model_validate(dict(requirements))
        verified = await self._facilitator_call(lambda: self._facilitator.verify(payload, reqs))
        if not verified.is_valid:
            raise PaymentDeclined(verified.invalid_reason or "invalid_payload")
        return authorized_micros(payload)


#: The bound the reference once held payment events to: $100,000,000, a tenth of the contract's top-up bound.
_TIGHT_BOUND_MICROS = 10**14


def _within_tight_bound(event: ProcessorEvent) -> ProcessorEvent:
    for effect in event.effects:
        amount = effect.amount_micros if isinstance(effect, PaymentReceived) else None
        if amount is not None and amount > _TIGHT_BOUND_MICROS:
            raise PayloadInvalid(f"amount is over {_TIGHT_BOUND_MICROS} micro-USD: refused")
    return event


class TightBoundStripeAdapter(StripeAdapter):
    """Refuses a payment event over 10^14 micro-USD that the contract let the client open a top-up for."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """A paid top-up past the tight bound refused as invalid (the defect)."""
        return _within_tight_bound(super().parse_webhook(body, headers))


class TightBoundXenditAdapter(XenditAdapter):
    """Refuses a payment event over 10^14 micro-USD that the contract let the client open a top-up for."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """A paid top-up past the tight bound refused as invalid (the defect)."""
        return _within_tight_bound(super().parse_webhook(body, headers))


class TightBoundCdpAdapter(CdpAdapter):
    """Refuses a payment event over 10^14 micro-USD that the contract let the client open a top-up for."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """A paid top-up past the tight bound refused as invalid (the defect)."""
        return _within_tight_bound(super().parse_webhook(body, headers))
