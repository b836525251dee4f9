"""The fake processors, driven the way a real processor acts on a target: charge, deliver, fail, sign.

:class:`Processors` wraps the fakes a :class:`~harness.target.Target` is wired to. It moves money at the
processor (Stripe's ``fund_cash_balance`` test helper, paying a Xendit invoice, completing a checkout,
charging a recurring cycle, an x402 payment signed with a funded test wallet), controls deliveries
(duplicated, reordered, held), injects faults, reads journals, and signs webhooks itself with
`fakes.signing` for the cases a processor never produces on its own (a duplicate re-signed with a fresh
timestamp, an unsigned or wrongly signed event).

Every action is noted in the test's :class:`~harness.suites._support.Api` trail, so a failure shows it.
Rails the target has no fake for are skipped with the reason the target reports.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fakes.cdp.payer import X402Payer
from fakes.signing import Hook0Signer, StripeSigner, XenditCallbackToken
from harness.errors import HarnessError
from harness.suites._support import Api
from harness.suites.failures import SuiteFailure
from harness.target import FakeHandle

__all__ = [
    "STRIPE_FUNDED_EVENT",
    "Processors",
    "X402Payment",
    "stripe_event_body",
    "stripe_funded",
    "stripe_invoice_paid",
    "stripe_subscription_deleted",
    "xendit_cycle_succeeded",
]

#: The event of a funded bank transfer (PROCESSORS.md 1.9 item 5).
STRIPE_FUNDED_EVENT = "customer_cash_balance_transaction.created"


@dataclass(frozen=True, slots=True, kw_only=True)
class X402Payment:
    """A signed `X-PAYMENT` header and the EIP-3009 nonce that identifies its settlement."""

    header: str
    nonce: str
    value_micros: int


class Processors:
    """The fake processors of one target, for one test (actions are noted in `api`'s trail)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.fakes = api.target.fakes
        self._configs: dict[str, dict[str, Any]] = {}
        self._http = httpx.Client(timeout=30.0)

    def close(self) -> None:
        """Close the HTTP client used for the fakes' own APIs."""
        self._http.close()

    # -- handles, configuration, journals --------------------------------------------------------------

    def handle(self, rail: str) -> FakeHandle:
        """The fake of `rail`, or a skip saying why the target has none."""
        try:
            return self.fakes.get(rail)
        except HarnessError as exc:
            pytest.skip(f"{self.api.target.name} has no {rail} fake to drive: {exc}")

    def config(self, rail: str) -> dict[str, Any]:
        """The fake's `/_fake/config` (test keys and secrets), cached."""
        if rail not in self._configs:
            self._configs[rail] = self.handle(rail).config()
        return self._configs[rail]

    def mark(self) -> dict[str, int]:
        """The newest journal sequence number of every fake: calls after it are calls made from now on."""
        mark: dict[str, int] = {}
        for rail, handle in self.fakes.handles.items():
            entries = handle.journal()
            mark[rail] = int(entries[-1]["seq"]) if entries else 0
        return mark

    def calls_since(
        self,
        mark: Mapping[str, int],
        rail: str | None = None,
        *,
        path_prefix: str | None = None,
        method: str | None = None,
    ) -> list[dict[str, Any]]:
        """Processor requests journaled after `mark` (one rail, or every rail), oldest first."""
        rails = [rail] if rail else sorted(self.fakes.handles)
        found: list[dict[str, Any]] = []
        for name in rails:
            entries = self.handle(name).journal(method=method, path_prefix=path_prefix)
            found += [{**e, "rail": name} for e in entries if int(e["seq"]) > mark.get(name, 0)]
        return found

    def drain(self, *rails: str) -> None:
        """Wait (bounded) until the fakes have finished delivering their webhooks."""
        for rail in rails or tuple(self.fakes.handles):
            self.handle(rail).drain(10.0)

    @contextmanager
    def delivery(self, rail: str, mode: str, *, seed: int | None = None) -> Iterator[FakeHandle]:
        """Deliver `rail`'s webhooks in `mode` inside the block; immediate again afterwards."""
        handle = self.handle(rail)
        handle.set_delivery_mode(mode, seed=seed)
        self.api.note(f"{rail} fake: deliveries {mode}" + (f" (seed {seed})" if seed else ""))
        try:
            yield handle
        finally:
            handle.set_delivery_mode("immediate")

    @contextmanager
    def fault(self, rail: str, **rule: Any) -> Iterator[str]:
        """A fault rule on `rail`'s fake inside the block (every fault of that fake is cleared after)."""
        handle = self.handle(rail)
        rule_id = handle.add_fault(**rule)
        self.api.note(f"{rail} fake: fault {json.dumps(rule, sort_keys=True)}")
        try:
            yield rule_id
        finally:
            handle.clear_faults()

    def fault_stats(self, rail: str, rule_id: str) -> dict[str, int]:
        """How many requests a fault rule selected (`matched`) and fired on (`fired`)."""
        for rule in self._fake_call(rail, "GET", "/_fake/faults", quiet=True):
            if rule.get("id") == rule_id:
                return {"matched": int(rule.get("matched", 0)), "fired": int(rule.get("fired", 0))}
        return {"matched": 0, "fired": 0}

    def _fake_call(
        self,
        rail: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        quiet: bool = False,
    ) -> Any:
        url = f"{self.handle(rail).base_url}{path}"
        response = self._http.request(
            method, url, json=json_body, data=dict(form) if form else None, auth=auth, params=params
        )
        if not quiet:
            shown = f" {json.dumps(dict(form))}" if form else ""
            self.api.note(f"{method} <{rail} fake>{path}{shown} → {response.status_code}")
        if response.status_code >= 400:
            raise HarnessError(
                f"the {rail} fake refused {method} {path}: {response.status_code} {response.text[:300]}"
            )
        return response.json()

    # -- Stripe ------------------------------------------------------------------------------------------

    def _stripe_auth(self) -> tuple[str, str]:
        return (str(self.config("stripe")["api_keys"][0]), "")

    def stripe_fund(
        self, customer: str, amount_cents: int, *, reference: str | None, currency: str = "usd"
    ) -> dict[str, Any]:
        """A bank transfer arrives (`fund_cash_balance`): Stripe emits its funded transaction event."""
        form = {"amount": str(amount_cents), "currency": currency}
        if reference:
            form["reference"] = reference
        result: dict[str, Any] = self._fake_call(
            "stripe",
            "POST",
            f"/v1/test_helpers/customers/{customer}/fund_cash_balance",
            form=form,
            auth=self._stripe_auth(),
        )
        return result

    def stripe_topup(self, account: str, amount_micros: int) -> dict[str, Any]:
        """Start a Stripe top-up at the target (it creates the customer and funding instructions)."""
        response = self.api.call(
            "POST",
            "/v1/payments/topup/stripe",
            json_body={"account_id": account, "amount_micros": amount_micros},
        )
        return dict(self.api.expect(response, (200, 201), SuiteFailure, "a Stripe top-up starts"))

    def held_stripe_funding(
        self, account: str, amount_cents: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A Stripe top-up funded at the processor (deliveries should be held by the caller): the
        funded event as Stripe lists it, and the top-up."""
        topup = self.stripe_topup(account, amount_cents * 10_000)
        customer = str(topup["details"]["customer"])
        txn = self.stripe_fund(customer, amount_cents, reference=str(topup["id"]))
        return self.stripe_event_for(STRIPE_FUNDED_EVENT, str(txn["id"])), topup

    def stripe_complete_checkout(self, session_id: str) -> dict[str, Any]:
        """The customer pays the checkout: subscription and paid invoice, with their events."""
        result: dict[str, Any] = self._fake_call(
            "stripe", "POST", f"/_fake/checkout/sessions/{session_id}/complete"
        )
        return result

    def stripe_cancel_subscription(self, subscription_id: str) -> None:
        """Cancel at the processor (`customer.subscription.deleted` follows)."""
        self._fake_call(
            "stripe", "DELETE", f"/v1/subscriptions/{subscription_id}", auth=self._stripe_auth()
        )

    def stripe_adjust_customer_balance(self, customer: str, amount_cents: int) -> dict[str, Any]:
        """A customer balance transaction at Stripe (`customer.updated` follows). Stripe's sign: a
        negative amount is a credit the customer holds, a positive one an amount they owe."""
        result: dict[str, Any] = self._fake_call(
            "stripe",
            "POST",
            f"/v1/customers/{customer}/balance_transactions",
            form={"amount": str(amount_cents), "currency": "usd"},
            auth=self._stripe_auth(),
        )
        return result

    def stripe_customers_of(self, account_id: str) -> list[dict[str, Any]]:
        """The Stripe customers whose metadata names `account_id` (under the target's own metadata key,
        :meth:`Api.account_key`), among the newest hundred."""
        key = self.api.account_key()
        page = self._fake_call(
            "stripe",
            "GET",
            "/v1/customers",
            params={"limit": "100"},
            auth=self._stripe_auth(),
            quiet=True,
        )
        return [c for c in page["data"] if (c.get("metadata") or {}).get(key) == account_id]

    def stripe_retrieve(self, path: str, **params: str) -> Any:
        """A Stripe object or list as the processor answers `GET path` (e.g. `/v1/invoices/in_1`)."""
        return self._fake_call(
            "stripe", "GET", path, params=params or None, auth=self._stripe_auth(), quiet=True
        )

    def stripe_events(self, event_type: str) -> list[dict[str, Any]]:
        """Events of one type as Stripe lists them (newest first)."""
        page = self._fake_call(
            "stripe",
            "GET",
            "/v1/events",
            params={"type": event_type, "limit": "100"},
            auth=self._stripe_auth(),
            quiet=True,
        )
        return list(page["data"])

    def stripe_event_for(self, event_type: str, object_id: str) -> dict[str, Any]:
        """The event of `event_type` whose `data.object.id` is `object_id`."""
        for event in self.stripe_events(event_type):
            if event["data"]["object"].get("id") == object_id:
                return event
        raise HarnessError(f"the stripe fake has no {event_type} event for {object_id}")

    # -- Xendit ------------------------------------------------------------------------------------------

    def xendit_pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """The payer pays the invoice: Xendit sends its PAID callback."""
        result: dict[str, Any] = self._fake_call(
            "xendit", "POST", f"/_fake/invoices/{invoice_id}/pay", json_body={}
        )
        return result

    def xendit_invoices_like(self, invoice_id: str) -> list[dict[str, Any]]:
        """Every invoice Xendit holds under the `external_id` of `invoice_id` (the merchant's own reference
        for one payment: a retried create lands there too), `invoice_id` included."""
        key = str(self.config("xendit")["secret_key"])
        invoice = self._fake_call(
            "xendit", "GET", f"/v2/invoices/{invoice_id}", auth=(key, ""), quiet=True
        )
        external_id = str(invoice["external_id"])
        found = self._fake_call(
            "xendit",
            "GET",
            "/v2/invoices",
            params={"external_id": external_id, "limit": "100"},
            auth=(key, ""),
            quiet=True,
        )
        return list(found if isinstance(found, list) else found.get("data", []))

    def xendit_retrieve(self, path: str) -> Any:
        """A Xendit object or list as the processor answers `GET path` (e.g. `/recurring/plans/{id}`)."""
        key = str(self.config("xendit")["secret_key"])
        return self._fake_call("xendit", "GET", path, auth=(key, ""), quiet=True)

    def xendit_charge_plan(self, plan_id: str) -> None:
        """The customer activates the recurring plan and its first cycle is charged."""
        self._fake_call(
            "xendit", "POST", f"/_fake/recurring/plans/{plan_id}/activate", json_body={}
        )
        self._fake_call("xendit", "POST", f"/_fake/recurring/plans/{plan_id}/cycle", json_body={})

    def xendit_deactivate_plan(self, plan_id: str) -> None:
        """End the plan at the processor (`recurring.plan.inactivated` follows)."""
        key = str(self.config("xendit")["secret_key"])
        self._fake_call("xendit", "POST", f"/recurring/plans/{plan_id}/deactivate", auth=(key, ""))

    # -- CDP / x402 --------------------------------------------------------------------------------------

    def x402_payment(
        self, requirements: Mapping[str, Any], value_micros: int, *, wallet: int = 0
    ) -> X402Payment:
        """An `X-PAYMENT` authorising `value_micros` atomic USDC to the target's `payTo`, signed with one of
        the CDP fake's funded test wallets."""
        funded = self.config("cdp")["funded_accounts"][wallet]
        payer = X402Payer(private_key=str(funded["private_key"]))
        payload = payer.payment_payload(
            {**requirements, "maxAmountRequired": str(value_micros)}, value_atomic=value_micros
        )
        header = base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
        nonce = str(payload["payload"]["authorization"]["nonce"])
        self.api.note(f"x402 payment of {value_micros} micros signed (nonce {nonce[:18]}…)")
        return X402Payment(header=header, nonce=nonce, value_micros=value_micros)

    def cdp_settlement(self, nonce: str) -> dict[str, Any] | None:
        """The CDP fake's record of the transfer that settled the authorisation `nonce` (transaction,
        payer, payTo, value, asset, nonce, settledAt), or None while it has not settled."""
        for settlement in self._fake_call("cdp", "GET", "/_fake/settlements", quiet=True):
            if str(settlement.get("nonce")) == nonce:
                return dict(settlement)
        return None

    # -- signing webhooks ourselves ------------------------------------------------------------------------

    def webhook_secret(self, rail: str) -> str:
        """The secret (Xendit: the callback token) the fake signs `rail`'s webhooks with."""
        config = self.config(rail)
        key = "callback_token" if rail == "xendit" else "webhook_secret"
        return str(config[key])

    def signed(
        self,
        rail: str,
        body: bytes,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        event_id: str | None = None,
        event_type: str | None = None,
    ) -> dict[str, str]:
        """Headers of a delivery of `body` signed in `rail`'s own scheme (PROCESSORS.md 1.1, 2.1, 3.2)."""
        key = secret if secret is not None else self.webhook_secret(rail)
        headers = {"content-type": "application/json"}
        if rail == "stripe":
            return headers | StripeSigner(key).sign(body, timestamp=timestamp)
        if rail == "xendit":
            return headers | XenditCallbackToken(key).sign(body)
        headers |= {"x-event-id": event_id or "", "x-event-type": event_type or ""}
        return headers | Hook0Signer(key).sign(body, headers=headers, timestamp=timestamp)

    def deliver(
        self,
        rail: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """POST a webhook to the target's endpoint for `rail`."""
        return self.api.call(
            "POST", f"/v1/payments/webhook/{rail}", content=body, headers=dict(headers)
        )


def stripe_event_body(event: Mapping[str, Any]) -> bytes:
    """The raw body of a Stripe event as a processor sends it (compact JSON)."""
    return json.dumps(event, separators=(",", ":")).encode()


def stripe_invoice_paid(
    *,
    account_id: str,
    plan: str,
    subscription_ref: str,
    invoice_ref: str,
    amount_cents: int,
    account_key: str = "account_id",
) -> dict[str, Any]:
    """An `invoice.paid` event for a subscription whose metadata names the account and plan (the shape of
    newer Stripe API versions: `parent.subscription_details`). The account is named under `account_id`
    and under `account_key`, the target's own metadata key (:meth:`Api.account_key`) when it has one."""
    metadata = {"account_id": account_id, "plan": plan}
    metadata[account_key] = account_id
    return {
        "id": f"evt_{invoice_ref}",
        "object": "event",
        "type": "invoice.paid",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": invoice_ref,
                "object": "invoice",
                "amount_paid": amount_cents,
                "currency": "usd",
                "status": "paid",
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {
                        "subscription": subscription_ref,
                        "metadata": metadata,
                    },
                },
            }
        },
    }


def stripe_subscription_deleted(*, subscription_ref: str, event_ref: str) -> dict[str, Any]:
    """A `customer.subscription.deleted` event."""
    return {
        "id": f"evt_{event_ref}",
        "object": "event",
        "type": "customer.subscription.deleted",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {"id": subscription_ref, "object": "subscription", "status": "canceled"}
        },
    }


def stripe_funded(
    *, customer: str, txn_ref: str, amount_cents: int, reference: str | None = None
) -> dict[str, Any]:
    """A `customer_cash_balance_transaction.created` event of a funded bank transfer."""
    return {
        "id": f"evt_{txn_ref}",
        "object": "event",
        "type": "customer_cash_balance_transaction.created",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": txn_ref,
                "object": "customer_cash_balance_transaction",
                "currency": "usd",
                "customer": customer,
                "funded": {"bank_transfer": {"reference": reference, "type": "us_bank_transfer"}},
                "net_amount": amount_cents,
                "type": "funded",
            }
        },
    }


def xendit_cycle_succeeded(
    *, account_id: str, plan: str, plan_ref: str, cycle_ref: str, amount: str
) -> dict[str, Any]:
    """A Xendit `recurring.cycle.succeeded` callback (enveloped, PROCESSORS.md 2.1)."""
    return {
        "id": f"evt_{cycle_ref}",
        "event": "recurring.cycle.succeeded",
        "business_id": "payharness",
        "created": "2026-01-01T00:00:00.000Z",
        "data": {
            "id": cycle_ref,
            "plan_id": plan_ref,
            "type": "RECURRING_CYCLE",
            "status": "SUCCEEDED",
            "amount": amount,
            "currency": "USD",
            "metadata": {"account_id": account_id, "plan": plan},
        },
    }
