"""The contract routes the suites call, each translated onto the service by its profile.

Every answer is in the contract's shape (contracts/payments.openapi.json): amounts in micro-USD, errors as
`{"error": {"code", "message"}}` with the service's refusals mapped onto the contract's codes. A route whose
capability the profile says the service lacks, or an amount the service's money cannot express, answers
`501 not_applicable`: the suites turn that into a *not applicable* test (harness.suites._support), never a
failure and never a skip.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.contract import pinned_contract

from .answers import Handler, contract_route, not_applicable
from .answers import error as _error
from .service import Service, dotted
from .state import AdapterState

__all__ = ["contract_routes", "not_applicable"]

_EPOCH = "1970-01-01T00:00:00Z"


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def contract_routes(service: Service, state: AdapterState) -> list[Route]:
    """The contract's routes over `service`."""
    spec, money = service.spec, service.money

    def lacks(capability: str, what: str) -> JSONResponse | None:
        if spec.has(capability):
            return None
        return not_applicable(f"the service's profile says it lacks {capability} ({what})")

    def rail_refusal(rail: str, what: str) -> JSONResponse | None:
        if rail not in ("stripe", "xendit", "cdp"):
            return _error(404, "unknown_rail", f"no rail {rail!r}")
        return lacks(rail, f"{rail} {what}")

    async def account_out(account_id: str) -> dict[str, Any]:
        _, body = await service.call("read_account", {"account_id": account_id})
        return {
            "id": account_id,
            "email": service.result("read_account", body, "email"),
            "is_test_cohort": state.cohort.get(account_id, False),
            "balance_micros": money.to_micros(service.result("read_account", body, "balance")),
            "lifetime_paid_micros": money.to_micros(
                service.result("read_account", body, "lifetime_paid", 0)
            ),
            "plan_tier": service.result("read_account", body, "plan_tier"),
            "created_at": _EPOCH,
        }

    async def service_live() -> bool:
        response = await service.raw("GET", spec.status_path, content=b"", headers={})
        return bool(dotted(service.answer(response)[1], spec.live_field))

    async def status(_: Request) -> Response:
        live = await service_live()
        rails = {
            r: {"configured": spec.has(r) and r in spec.webhooks}
            for r in ("stripe", "cdp", "xendit")
        }
        grain = {"unit": spec.money.unit, "micros_per_unit": spec.money.micros_per_unit}
        if spec.money.max_amount is not None:
            grain["max_amount_micros"] = money.to_micros(spec.money.max_amount)
        if spec.money.min_topup is not None:
            grain["min_topup_micros"] = money.to_micros(spec.money.min_topup)
        metadata: dict[str, Any] = {"account_key": spec.account_metadata_key}
        if spec.outbound_timeout_seconds is not None:
            metadata["outbound_timeout_seconds"] = spec.outbound_timeout_seconds
        return JSONResponse(
            {
                "live": live,
                "rails": rails,
                "money": grain,
                "processor_metadata": metadata,
                # what the suites cannot drive through the contract's routes alone (a processor's
                # plan event sent straight to the webhook route for a plan the service does not sell)
                "lacks": sorted(spec.lacks),
            }
        )

    async def create_account(request: Request) -> Response:
        body = await _json(request) or {}
        cohort = bool(body.get("is_test_cohort", False)) if isinstance(body, dict) else False
        email = body.get("email") if isinstance(body, dict) else None
        _, made = await service.call(
            "create_account", {"cohort": cohort, "email": email or "payharness@example.test"}
        )
        account_id = str(service.result("create_account", made, "id"))
        state.cohort[account_id] = cohort
        return JSONResponse(await account_out(account_id), status_code=201)

    async def read_account(request: Request) -> Response:
        return JSONResponse(await account_out(request.path_params["account_id"]))

    async def delete_account(request: Request) -> Response:
        account_id = request.path_params["account_id"]
        if (lacking := lacks("cohort_reap", "DELETE /v1/accounts/{id}")) is not None:
            return lacking
        # an account the gate made as a test user although the contract asked for a real one
        if state.cohort.get(account_id) is False:
            return not_applicable(
                "the service's test-state hook needs test users, so every account the gate makes is one: "
                "the guard on reaping a real account cannot be exercised through this profile"
            )
        await service.call("delete_account", {"account_id": account_id})
        return Response(status_code=204)

    async def ledger(request: Request) -> Response:
        account_id = request.path_params["account_id"]
        _, body = await service.call("ledger", {"account_id": account_id})
        balance = (await account_out(account_id))["balance_micros"]
        entries = []
        after = balance
        op = spec.operations["ledger"]
        raws = list(service.result("ledger", body, "entries"))
        for i, raw in enumerate(raws):
            signed = money.to_micros(service.result("ledger", raw, "amount"))
            reason = service.result("ledger", raw, "reason")
            kind = (
                "adjustment" if reason in op.adjustments else ("credit" if signed > 0 else "debit")
            )
            entries.append(
                {
                    # newest first: without an id of the service's own, the oldest entry is 1
                    "id": int(service.result("ledger", raw, "id", len(raws) - i)),
                    "account_id": account_id,
                    "kind": kind,
                    "direction": 1 if signed > 0 else -1,
                    "amount_micros": abs(signed),
                    "signed_amount_micros": signed,
                    "balance_after_micros": after,
                    "source": str(reason or ""),
                    "reference": service.result("ledger", raw, "reference"),
                    "memo": None,
                    "created_at": _EPOCH,
                }
            )
            after -= signed
        limit = int(request.query_params.get("limit", "1000"))
        return JSONResponse(
            {"account_id": account_id, "balance_micros": balance, "entries": entries[:limit]}
        )

    def admin_guard(request: Request) -> Response | None:
        # the contract's admin guard, in front of the service's own test-state hook; the reference
        # checks it before the body, so a request without the secret is 401 whatever it carries
        given = request.headers.get("x-admin-secret", "")
        if state.admin_secret and not hmac.compare_digest(
            given.encode(), state.admin_secret.encode()
        ):
            return _error(401, "unauthorized", "X-Admin-Secret is missing or wrong")
        return None

    async def balance_adjust(request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("balance_micros"), int):
            return _error(400, "invalid_request", "balance_micros must be an integer")
        account_id = str(body.get("account_id"))
        old = (await account_out(account_id))["balance_micros"]
        units = money.to_service(int(body["balance_micros"]), "a balance")
        await service.call("set_balance", {"account_id": account_id, "balance": units})
        return JSONResponse(
            {
                "account_id": account_id,
                "old_balance_micros": old,
                "new_balance_micros": money.to_micros(units),
                "entry": None,
            }
        )

    async def outcome(request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("cost_micros"), int):
            return _error(400, "invalid_request", "cost_micros must be an integer")
        inference, account_id = str(body.get("inference_id")), str(body.get("account_id"))
        await account_out(account_id)  # 404 account_not_found as the service says it
        if inference in state.outcomes:
            return _error(409, "duplicate_outcome", f"outcome {inference} is recorded already")
        money.to_service(int(body["cost_micros"]), "a cost")
        state.outcomes[inference] = (account_id, int(body["cost_micros"]))
        return JSONResponse(
            {
                "inference_id": inference,
                "account_id": account_id,
                "cost_micros": body["cost_micros"],
                "created_at": _EPOCH,
            },
            status_code=201,
        )

    async def charge(request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "a JSON object is required")
        inference = str(body.get("inference_id"))
        if inference not in state.outcomes:
            return _error(404, "outcome_not_found", f"no outcome {inference}")
        account_id, cost_micros = state.outcomes[inference]
        if spec.charges_when_dormant and not await service_live():
            return not_applicable(
                "the service keeps charging credits while its billing is off, by design (per its "
                "profile: charges_when_dormant): a dormant charge is not judged"
            )
        if spec.money.margin_rounding != "up":
            return not_applicable(
                f"the service rounds a markup {spec.money.margin_rounding} (per its profile); the "
                "contract rounds up, so its charges cannot be judged by the contract's formula"
            )
        requested = body.get("margin_bps")
        if requested is not None and (
            not isinstance(requested, int) or isinstance(requested, bool) or abs(requested) > 10**6
        ):
            return _error(422, "validation_error", "margin_bps must be an integer in ±1,000,000")
        margin = requested if requested is not None else spec.money.default_margin_bps
        if margin is None:
            return not_applicable("the service has no default margin and the profile declares none")
        values = {
            "account_id": account_id,
            "request_id": inference,
            "cost": money.to_service(cost_micros, "a cost"),
            "margin_bps": margin,
        }
        _, answer = await service.call("charge", values)
        charged = money.to_micros(service.result("charge", answer, "charged"))
        replayed = bool(service.result("charge", answer, "replayed", False))
        # a replay answers the first charge: with the margin that one asked for
        requested = state.requested.setdefault(inference, requested) if charged else requested
        account = await account_out(account_id)
        return JSONResponse(
            {
                "inference_id": inference,
                "account_id": account_id,
                "status": "charged" if charged else "skipped_zero_cost",
                "cost_micros": cost_micros,
                "margin_bps": service.result("charge", answer, "margin_bps", margin),
                "margin_bps_requested": requested,
                "charged_micros": charged,
                "ledger_entry_id": None,
                "balance_micros": account["balance_micros"],
                "replayed": replayed,
            }
        )

    async def topup(request: Request) -> Response:
        rail = request.path_params["rail"]
        if (refused := rail_refusal(rail, "top-ups")) is not None:
            return refused
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("amount_micros"), int):
            return _error(400, "invalid_request", "amount_micros must be an integer")
        account_id = str(body.get("account_id"))
        key = request.headers.get("idempotency-key", "")
        amount = money.to_service(int(body["amount_micros"]), "a top-up")
        if spec.money.min_topup is not None and 0 < amount < spec.money.min_topup:
            return not_applicable(
                f"the service sells credits from {spec.money.min_topup} {spec.money.unit} (per its "
                f"profile): a top-up of {amount} {spec.money.unit} cannot be bought"
            )
        values = {
            "account_id": account_id,
            "amount": amount,
            "rail": rail,
            # the contract scopes a key to its account and rail; a service may scope keys globally
            "idempotency_key": f"{account_id}/{rail}/{key}" if key else "",
        }
        status_code, answer = await service.call("topup", values)
        ref = service.result("topup", answer, "ref")
        url = service.result("topup", answer, "url")
        details = {"customer": ref} if rail == "stripe" else {"invoice_id": ref, "invoice_url": url}
        return JSONResponse(
            {
                "id": str(service.result("topup", answer, "id")),
                "account_id": account_id,
                "rail": rail,
                "amount_micros": body["amount_micros"],
                "status": "pending",
                "processor_ref": ref,
                "details": details,
                "created_at": _EPOCH,
            },
            status_code=status_code,
        )

    async def webhook(request: Request) -> Response:
        rail = request.path_params["rail"]
        if (refused := rail_refusal(rail, "webhooks")) is not None:
            return refused
        path = spec.webhooks.get(rail)
        if path is None:
            return not_applicable(f"the profile names no webhook path for {rail}")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        response = await service.raw("POST", path, content=await request.body(), headers=headers)
        _, body = service.answer(response)
        result = body.get("result", "applied") if isinstance(body, dict) else "applied"
        return JSONResponse(
            {"status": str(result), "rail": rail, "event_id": "", "event_type": "", "reason": None}
        )

    async def billing(request: Request) -> Response:
        account_id = request.query_params.get("account_id", "")
        _, body = await service.call("billing", {"account_id": account_id})
        tier = service.result("billing", body, "plan_tier")
        return JSONResponse(
            {
                "account_id": account_id,
                "plan_tier": tier,
                "subscription_status": "none" if tier == "free" else "active",
                "subscriptions": [],
            }
        )

    async def checkout(request: Request) -> Response:
        if (lacking := lacks("checkout", "plan checkout")) is not None:
            return lacking
        body = await _json(request)
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "a JSON object is required")
        rail = str(body.get("rail", "stripe"))
        if (lacking := lacks(f"{rail}_checkout", f"plan checkout on {rail}")) is not None:
            return lacking
        account_id, plan = str(body.get("account_id")), body.get("plan")
        _, answer = await service.call(
            "checkout", {"account_id": account_id, "plan": plan, "rail": rail}
        )
        return JSONResponse(
            {
                "id": f"sub_adapter_{time.time_ns():x}",
                "account_id": account_id,
                "rail": rail,
                "plan": plan,
                "status": "pending",
                "checkout_ref": service.result("checkout", answer, "ref"),
                "checkout_url": service.result("checkout", answer, "url"),
                "processor_subscription_id": None,
            },
            status_code=201,
        )

    def lacking_route(what: str) -> Handler:
        async def answer(_: Request) -> Response:
            return not_applicable(f"the adapter does not translate {what} yet")

        return answer

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def openapi(_: Request) -> Response:
        # the adapter serves the contract it implements: the pinned one, exactly
        return JSONResponse(pinned_contract())

    routes: list[tuple[str, str, Handler, str | None]] = [
        ("GET", "/healthz", health, None),
        ("GET", "/v1/payments/status", status, None),
        ("POST", "/v1/accounts", create_account, None),
        ("GET", "/v1/accounts/{account_id}", read_account, None),
        ("DELETE", "/v1/accounts/{account_id}", delete_account, "cohort_reap"),
        ("GET", "/v1/accounts/{account_id}/ledger", ledger, None),
        ("POST", "/admin/balance-adjust", balance_adjust, None),
        ("POST", "/v1/outcomes", outcome, None),
        ("POST", "/v1/charges", charge, None),
        ("POST", "/v1/payments/topup/cdp/{topup_id}/pay", lacking_route("x402 payments"), "cdp"),
        ("POST", "/v1/payments/topup/{rail}", topup, None),
        ("POST", "/v1/payments/webhook/{rail}", webhook, None),
        ("GET", "/v1/billing", billing, None),
        ("POST", "/v1/billing/checkout", checkout, "checkout"),
        ("GET", "/v1/billing/invoices", lacking_route("the invoice list"), "invoices"),
        ("POST", "/v1/usage", lacking_route("paid usage"), "paid_usage"),
        ("POST", "/admin/reconcile/{rail}", lacking_route("reconcile"), "reconcile"),
        ("GET", "/metrics", lacking_route("metrics"), "metrics"),
    ]
    # a webhook's body is the service's to judge, after its signature (the contract's order of refusals)
    served = [
        contract_route(
            spec,
            path,
            method,
            handler,
            capability=capability,
            check_body=path != WEBHOOK,
            guard=admin_guard if path == "/admin/balance-adjust" else None,
        )
        for method, path, handler, capability in routes
    ]
    return [*served, Route("/openapi.json", openapi, methods=["GET"])]


WEBHOOK = "/v1/payments/webhook/{rail}"
_HOP_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})
