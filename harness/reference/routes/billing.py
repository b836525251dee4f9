"""Plan subscriptions: checkout on stripe or xendit; billing state and invoices."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.responses import JSONResponse

from ..errors import ApiError
from ..models import Account, Invoice, Subscription
from ..rails.base import RailError
from ..state import ServiceState, get_state, new_id, parse_body, rail_error
from .payments import MONEY_ERRORS
from .schemas import BillingOut, CheckoutCreate, ErrorBody, InvoiceOut, InvoicesOut, SubscriptionOut
from .views import subscription_out

router = APIRouter(prefix="/v1/billing", tags=["billing"])
SUBSCRIPTION_RAILS = ("stripe", "xendit")


@router.post(
    "/checkout",
    status_code=201,
    response_model=SubscriptionOut,
    responses=MONEY_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CheckoutCreate.model_json_schema()}},
        }
    },
)
async def checkout(request: Request, state: ServiceState = Depends(get_state)) -> JSONResponse:
    """Start a plan subscription; the tier changes only when the processor's paid event arrives."""
    state.require_live()
    body = await parse_body(request, CheckoutCreate)
    state.require_known_rail(body.rail)
    if body.rail not in SUBSCRIPTION_RAILS:
        raise ApiError(400, "rail_not_supported", f"{body.rail} has no subscription checkout")
    adapter = state.adapter(body.rail)
    price = state.settings.plan_prices_micros.get(body.plan)
    if price is None:
        raise ApiError(404, "unknown_plan", f"no plan {body.plan!r}")
    async with state.db.write() as session:
        account = await session.get(Account, body.account_id)
        if account is None:
            raise ApiError(404, "account_not_found", f"no account {body.account_id!r}")
        customer_ref = (
            account.stripe_customer_id if body.rail == "stripe" else account.xendit_customer_id
        )
        sub = Subscription(
            id=new_id("sub_ph"), account_id=account.id, rail=body.rail, plan=body.plan
        )
        session.add(sub)
    try:
        started = await adapter.start_checkout(
            subscription_id=sub.id,
            account_id=sub.account_id,
            plan=sub.plan,
            price_micros=price,
            customer_ref=customer_ref,
        )
    except RailError as exc:
        raise rail_error(exc) from exc
    async with state.db.write() as session:
        row = await session.get(Subscription, sub.id)
        assert row is not None
        row.checkout_ref = started.checkout_ref
        if started.subscription_ref and row.processor_subscription_id is None:
            row.processor_subscription_id = started.subscription_ref
        acct = await session.get(Account, row.account_id)
        if acct is not None and started.customer_ref:
            if body.rail == "stripe" and not acct.stripe_customer_id:
                acct.stripe_customer_id = started.customer_ref
            if body.rail == "xendit" and not acct.xendit_customer_id:
                acct.xendit_customer_id = started.customer_ref
        sub = row
    return JSONResponse(subscription_out(sub, started.url).model_dump(mode="json"), status_code=201)


async def _account(state: ServiceState, account_id: str) -> Account:
    async with state.db.read() as session:
        account = await session.get(Account, account_id)
    if account is None:
        raise ApiError(404, "account_not_found", f"no account {account_id!r}")
    return account


@router.get("", response_model=BillingOut, responses={404: {"model": ErrorBody}})
async def billing_state(
    account_id: str = Query(min_length=1, max_length=64), state: ServiceState = Depends(get_state)
) -> BillingOut:
    """Plan tier and subscription status, read from our records (no processor call)."""
    account = await _account(state, account_id)
    async with state.db.read() as session:
        subs = list(
            (
                await session.execute(
                    select(Subscription)
                    .where(Subscription.account_id == account_id)
                    .order_by(Subscription.created_at.desc())
                )
            ).scalars()
        )
    statuses = {s.status for s in subs}
    status = next((s for s in ("active", "pending", "canceled") if s in statuses), "none")
    return BillingOut(
        account_id=account_id,
        plan_tier=account.plan_tier,
        subscription_status=status,  # type: ignore[arg-type]
        subscriptions=[subscription_out(s) for s in subs],
    )


@router.get("/invoices", response_model=InvoicesOut, responses={404: {"model": ErrorBody}})
async def invoices(
    account_id: str = Query(min_length=1, max_length=64), state: ServiceState = Depends(get_state)
) -> InvoicesOut:
    """Paid subscription invoices, newest first."""
    await _account(state, account_id)
    async with state.db.read() as session:
        rows = (
            await session.execute(
                select(Invoice).where(Invoice.account_id == account_id).order_by(Invoice.id.desc())
            )
        ).scalars()
        out = [
            InvoiceOut(
                rail=i.rail,
                processor_ref=i.processor_ref,
                subscription_id=i.subscription_id,
                amount=i.amount_minor,
                currency=i.currency,
                status=i.status,
                created_at=i.created_at,
            )
            for i in rows
        ]
    return InvoicesOut(account_id=account_id, invoices=out)
