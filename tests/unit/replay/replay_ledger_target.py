"""A small payments target for replay tests: Stripe funding webhooks credit a ledger, served in the
contract's shape (``/v1/payments/webhook/stripe``, ``/v1/accounts/{id}``, ``/v1/accounts/{id}/ledger``).

Signatures are verified with stripe-python's own ``WebhookSignature.verify_header`` (300 s tolerance),
never with `fakes.signing`, so the replayer's signing is checked by an independent verifier. It is cheap
per request (state in memory), so a replay of many thousand events stays fast. ``defect`` makes it
wrong on purpose: ``"no_dedupe"`` credits every delivery, ``"applies_twice"`` answers ``applied`` to
duplicates without crediting, ``"silent_double_credit"`` credits twice but answers ``duplicate``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET = "whsec_ledger_target"


@dataclass
class LedgerTarget:
    """The target's state; `app` serves it."""

    customers: dict[str, str]  # Stripe customer → account id
    defect: str | None = None
    seen: set[str] = field(default_factory=set)
    balances: dict[str, int] = field(default_factory=dict)
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    answered: int = 0

    def __post_init__(self) -> None:
        for account in self.customers.values():
            self.balances.setdefault(account, 0)
            self.entries.setdefault(account, [])

    def _credit(self, account: str, amount_micros: int, reference: str) -> None:
        self.balances[account] += amount_micros
        book = self.entries[account]
        book.append(
            {
                "id": sum(len(b) for b in self.entries.values()) + 1,
                "account_id": account,
                "kind": "credit",
                "direction": 1,
                "amount_micros": amount_micros,
                "signed_amount_micros": amount_micros,
                "balance_after_micros": self.balances[account],
                "source": "stripe",
                "reference": reference,
            }
        )

    async def webhook(self, request: Request) -> JSONResponse:
        self.answered += 1
        body = await request.body()
        header = request.headers.get("stripe-signature")
        if not header:
            return _error(400, "missing_signature_header")
        try:
            stripe.WebhookSignature.verify_header(body.decode(), header, SECRET, 300)
        except stripe.SignatureVerificationError as exc:
            return _error(400, "webhook_signature_invalid", str(exc))
        event = json.loads(body)
        obj = event["data"]["object"]
        account = self.customers.get(obj.get("customer", ""))
        duplicate = event["id"] in self.seen
        self.seen.add(event["id"])
        if account is None:
            return _answer("ignored", event)
        amount = int(obj["net_amount"]) * 10_000
        if duplicate and self.defect == "no_dedupe":
            self._credit(account, amount, obj["id"])
            return _answer("applied", event)
        if duplicate and self.defect == "silent_double_credit":
            self._credit(account, amount, obj["id"])
            return _answer("duplicate", event)
        if duplicate:
            return _answer("applied" if self.defect == "applies_twice" else "duplicate", event)
        self._credit(account, amount, obj["id"])
        return _answer("applied", event)

    async def account(self, request: Request) -> JSONResponse:
        account = request.path_params["account_id"]
        if account not in self.balances:
            return _error(404, "account_not_found")
        return JSONResponse(
            {
                "id": account,
                "balance_micros": self.balances[account],
                "lifetime_paid_micros": self.balances[account],
                "plan_tier": "free",
            }
        )

    async def ledger(self, request: Request) -> JSONResponse:
        account = request.path_params["account_id"]
        if account not in self.balances:
            return _error(404, "account_not_found")
        limit = int(request.query_params.get("limit", "100"))
        newest_first = list(reversed(self.entries[account]))[:limit]
        return JSONResponse(
            {
                "account_id": account,
                "balance_micros": self.balances[account],
                "entries": newest_first,
            }
        )

    @property
    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(
            routes=[
                Route("/v1/payments/webhook/stripe", self.webhook, methods=["POST"]),
                Route("/v1/accounts/{account_id}", self.account),
                Route("/v1/accounts/{account_id}/ledger", self.ledger),
            ]
        )


def _answer(status: str, event: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        {"status": status, "rail": "stripe", "event_id": event["id"], "event_type": event["type"]}
    )


def _error(status: int, code: str, message: str = "") -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
