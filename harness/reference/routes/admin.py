"""Admin: absolute balance adjustment and reconciliation (both need `X-Admin-Secret`)."""

from __future__ import annotations

import hmac
import logging
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy import select

from ..credits import credit_payment
from ..errors import ApiError
from ..ledger import get_account_for_update, post_entry
from ..models import Account, Receipt, Topup
from ..rails.base import PaymentReceived, RailError
from ..state import ServiceState, get_state, new_id, parse_body
from .schemas import (
    BalanceAdjust,
    BalanceAdjustOut,
    ErrorBody,
    ReconcileMismatch,
    ReconcileResult,
)
from .views import entry_out

router = APIRouter(prefix="/admin", tags=["admin"])
log = logging.getLogger("payharness.reference.admin")


def _require_admin(state: ServiceState, secret: str | None) -> None:
    expected = state.settings.admin_secret
    if not secret or not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "X-Admin-Secret is missing or wrong")


@router.post(
    "/balance-adjust",
    response_model=BalanceAdjustOut,
    responses={
        400: {"model": ErrorBody, "description": "invalid_request"},
        401: {"model": ErrorBody, "description": "unauthorized"},
        404: {"model": ErrorBody, "description": "account_not_found"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BalanceAdjust.model_json_schema()}},
        }
    },
)
async def balance_adjust(
    request: Request,
    x_admin_secret: str | None = Header(default=None),
    state: ServiceState = Depends(get_state),
) -> BalanceAdjustOut:
    """Set an absolute balance through one adjustment entry; `lifetime_paid_micros` never moves."""
    _require_admin(state, x_admin_secret)
    try:
        body = await parse_body(request, BalanceAdjust)
    except ApiError as exc:
        raise ApiError(400, "invalid_request", exc.message, details=exc.details) from exc
    async with state.db.write() as session:
        account = await get_account_for_update(
            session, body.account_id, row_lock=state.db.supports_row_locks
        )
        if account is None:
            raise ApiError(404, "account_not_found", f"no account {body.account_id!r}")
        old = account.balance_micros
        delta = body.balance_micros - old
        entry = None
        if delta:
            entry = await post_entry(
                session,
                account,
                kind="adjustment",
                direction=1 if delta > 0 else -1,
                amount_micros=abs(delta),
                source="admin",
                reference=None,
                idempotency_key=new_id("adjust"),
                memo=f"admin: {body.reason} ({old} -> {body.balance_micros})",
            )
        log.info(
            "balance adjusted %s: %d -> %d (%s)", account.id, old, body.balance_micros, body.reason
        )
        out = BalanceAdjustOut(
            account_id=account.id,
            old_balance_micros=old,
            new_balance_micros=account.balance_micros,
            entry=entry_out(entry) if entry else None,
        )
    return out


@router.post(
    "/reconcile/{rail}",
    response_model=ReconcileResult,
    responses={
        401: {"model": ErrorBody, "description": "unauthorized"},
        404: {"model": ErrorBody, "description": "unknown_rail"},
        503: {"model": ErrorBody, "description": "payments_not_live"},
    },
)
async def reconcile(
    rail: str,
    dry_run: bool = Query(default=True),
    x_admin_secret: str | None = Header(default=None),
    state: ServiceState = Depends(get_state),
) -> ReconcileResult:
    """Compare our credits with the processor's records, both directions; never raises (defect 10)."""
    state.require_known_rail(rail)
    _require_admin(state, x_admin_secret)
    state.require_live()
    adapter = state.adapters.get(rail)
    async with state.db.read() as session:
        receipts = list(
            (await session.execute(select(Receipt).where(Receipt.rail == rail))).scalars()
        )
        customers = [
            c for c in (await session.execute(select(Account.stripe_customer_id))).scalars() if c
        ]
    credited = sum(1 for r in receipts if r.credited)

    def unchecked(
        status: Literal["not_configured", "unsupported", "error"], message: str
    ) -> ReconcileResult:
        return ReconcileResult(
            rail=rail,
            dry_run=dry_run,
            status=status,
            checked=0,
            ledger_credits=credited,
            mismatches=[],
            message=message,
        )

    if adapter is None:
        return unchecked("not_configured", f"rail {rail} is not configured")
    if rail == "cdp":
        return await _reconcile_cdp(state, receipts, dry_run=dry_run, credited=credited)
    try:
        records = await adapter.list_payments(customers)
    except RailError as exc:
        return unchecked("error", f"{exc.code}: {exc.message}")
    except Exception as exc:  # an operational path must complete with a result, whatever broke
        log.exception("reconcile %s failed", rail)
        return unchecked("error", f"unexpected: {exc}")
    if records is None:
        return unchecked("unsupported", f"{rail} offers no listing API to reconcile against")
    ours = {r.processor_ref: r for r in receipts}
    theirs = {r.processor_ref: r for r in records}
    mismatches: list[ReconcileMismatch] = []
    for ref, rec in theirs.items():
        mine = ours.get(ref)
        if mine is None:
            fixed = False
            if not dry_run and rec.amount_micros:
                async with state.db.write() as session:
                    outcome = await credit_payment(
                        await session.connection(),
                        rail,
                        PaymentReceived(
                            processor_ref=rec.processor_ref,
                            amount_text=rec.amount_text,
                            currency=rec.currency,
                            amount_micros=rec.amount_micros,
                            customer_ref=rec.customer_ref,
                            topup_ref=rec.topup_ref,
                        ),
                        None,
                        row_lock=state.db.supports_row_locks,
                    )
                fixed = outcome == "applied"
            mismatches.append(
                ReconcileMismatch(
                    kind="missing_in_ledger",
                    processor_ref=ref,
                    processor_amount=rec.amount_text,
                    currency=rec.currency,
                    fixed=fixed,
                )
            )
        elif Decimal(mine.amount_minor) != Decimal(rec.amount_text):
            mismatches.append(
                ReconcileMismatch(
                    kind="amount_mismatch",
                    processor_ref=ref,
                    processor_amount=rec.amount_text,
                    ledger_amount=mine.amount_minor,
                    currency=rec.currency,
                )
            )
        elif not mine.credited and mine.currency.upper() == "USD":
            mismatches.append(
                ReconcileMismatch(
                    kind="not_credited",
                    processor_ref=ref,
                    processor_amount=rec.amount_text,
                    ledger_amount=mine.amount_minor,
                    currency=mine.currency,
                )
            )
    for ref, mine in ours.items():
        if ref not in theirs and mine.credited:
            mismatches.append(
                ReconcileMismatch(
                    kind="missing_at_processor",
                    processor_ref=ref,
                    ledger_amount=mine.amount_minor,
                    currency=mine.currency,
                )
            )
    return ReconcileResult(
        rail=rail,
        dry_run=dry_run,
        status="mismatch" if mismatches else "ok",
        checked=len(theirs),
        ledger_credits=credited,
        mismatches=mismatches,
    )


async def _reconcile_cdp(
    state: ServiceState, receipts: list[Receipt], *, dry_run: bool, credited: int
) -> ReconcileResult:
    """A facilitator has no listing API, but every CDP payment we received is a receipt: one left
    uncredited while a top-up it pays is known (its id, its settled transaction or its authorisation
    nonce) is a lost credit, credited here once unless `dry_run`."""
    async with state.db.read() as session:
        topups = list((await session.execute(select(Topup).where(Topup.rail == "cdp"))).scalars())
    by_ref: dict[str, Topup] = {}
    for known in topups:
        by_ref[known.id] = known
        for key in ("transaction", "nonce"):
            if known.details.get(key):
                by_ref[str(known.details[key])] = known
    mismatches: list[ReconcileMismatch] = []
    for receipt in receipts:
        if receipt.credited or receipt.currency.upper() != "USD" or not receipt.amount_micros:
            continue
        topup = by_ref.get(receipt.topup_id or "") or by_ref.get(receipt.processor_ref)
        if topup is None and receipt.account_id is None:
            continue  # nobody to credit: reported by `missing_in_ledger` nowhere, kept as recorded
        fixed = False
        if not dry_run:
            async with state.db.write() as session:
                outcome = await credit_payment(
                    await session.connection(),
                    "cdp",
                    PaymentReceived(
                        processor_ref=receipt.processor_ref,
                        amount_text=receipt.amount_minor,
                        currency=receipt.currency,
                        amount_micros=receipt.amount_micros,
                        topup_ref=topup.id if topup else None,
                        account_id=receipt.account_id,
                    ),
                    None,
                    row_lock=state.db.supports_row_locks,
                )
            fixed = outcome == "applied"
        mismatches.append(
            ReconcileMismatch(
                kind="not_credited",
                processor_ref=receipt.processor_ref,
                ledger_amount=receipt.amount_minor,
                currency=receipt.currency,
                fixed=fixed,
            )
        )
    return ReconcileResult(
        rail="cdp",
        dry_run=dry_run,
        status="mismatch" if mismatches else "ok",
        checked=len(receipts),
        ledger_credits=credited + sum(1 for m in mismatches if m.fixed),
        mismatches=mismatches,
        message="checked against our receipts and top-ups (a facilitator has no listing API)",
    )
