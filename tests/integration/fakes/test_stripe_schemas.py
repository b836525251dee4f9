"""Every object and event the fake Stripe serves validates against Stripe's published schemas.

The schemas are pinned in ``contracts/processors/stripe.objects.schema.json``, generated from the official
``stripe`` npm package at the API version the fake claims (``contracts/processors/stripe_objects.py``).
stripe-python drives the fake through every operation it serves; each response body, each list item and
each event's ``data.object`` is checked (issue 15: 0 hard violations, no field Stripe always sends absent).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from contracts.processors.stripe_validate import Violation, violations
from fakes._common import LoopbackServer
from fakes.stripe import StripeConfig, StripeFakeApp, create_app
from fakes.stripe.event_types import EVENT_TYPES
from fakes.trigger import recipes

pytestmark = pytest.mark.integration

KEY = "sk_test_payharness"

# The one exception to "0 hard violations", exact and tied to one path (issue 15; decided 2026-12-02).
#
# Funding instructions are requested for five bank-transfer types (the create parameter's enum), but the
# object's published ``bank_transfer.type`` enum lists only eu_bank_transfer and jp_bank_transfer. The fake
# answers the type that was asked for (us/gb/mx included), because every source says the real API does:
# * Stripe's OpenAPI spec marks that very enum ``x-stripeBypassValidation: true``, its marker for an enum
#   the API does not keep to (stripe/openapi, ``funding_instructions_bank_transfer.type``);
# * stripe-python (16.1.0 here) types the field ``Union[Literal["eu_bank_transfer", "jp_bank_transfer"],
#   str]`` and stripe-node since 21 ``| OtherString``: open enums;
# * the same object's ``financial_addresses`` are typed ``aba`` (US), ``sort_code`` (GB) and ``spei`` (MX),
#   and at the same API version the other bank-transfer types (a PaymentIntent's
#   ``display_bank_transfer_instructions.type``, a cash balance transaction's ``funded.bank_transfer.type``)
#   list all five;
# * Stripe's own generated fixture (stripe/openapi ``fixtures3.json``, what stripe-mock serves) shows an
#   ``aba`` address for ``country: US`` labelled ``eu_bank_transfer``: a generator held to the enum, not a
#   relabelling the API does.
# Relabelling a US (ABA) address ``eu_bank_transfer`` to satisfy the enum would make the object wrong, and
# refusing the three types would break the reference service and the example app, which ask for
# ``us_bank_transfer``. Not verified against live Stripe (no account from here).
OPEN_ENUM_SCHEMA, OPEN_ENUM_PATH = "funding_instructions", "$['bank_transfer']['type']"
OPEN_ENUM_VALUES = ("gb_bank_transfer", "mx_bank_transfer", "us_bank_transfer")
PUBLISHED_VALUES = ("eu_bank_transfer", "jp_bank_transfer")


def _open_enum_exception(name: str, obj: dict[str, Any], found: Violation) -> bool:
    """True only for the exception above: that path, on that schema, holding one of the three values,
    with the enum message and nothing else."""
    value = obj.get("bank_transfer", {}).get("type") if name == OPEN_ENUM_SCHEMA else None
    return (name, found.kind, found.where) == (OPEN_ENUM_SCHEMA, "hard", OPEN_ENUM_PATH) and (
        value in OPEN_ENUM_VALUES
        and found.message == f"{value!r} is not one of {list(PUBLISHED_VALUES)!r}"
    )


def _body(result: Any) -> dict[str, Any]:
    response = result.last_response
    assert response is not None
    data: dict[str, Any] = response.data
    return data


def tour(client: stripe.StripeClient, control: str) -> list[dict[str, Any]]:
    """Drive the fake through its operations; every JSON body it answered, in order."""
    served: list[Any] = []
    v1 = client.v1
    customer = v1.customers.create(params={"email": "a@example.com", "metadata": {"k": "v"}})
    served += [customer, v1.customers.update(customer.id, params={"name": "Ada"})]
    served += [v1.customers.retrieve(customer.id), v1.customers.list(params={"limit": 3})]
    served.append(
        v1.customers.balance_transactions.create(
            customer.id, params={"amount": -500, "currency": "usd"}
        )
    )
    served.append(v1.customers.balance_transactions.list(customer.id))
    for kind in (
        "us_bank_transfer",
        "gb_bank_transfer",
        "eu_bank_transfer",
        "jp_bank_transfer",
        "mx_bank_transfer",
    ):
        currency = {"us": "usd", "gb": "gbp", "eu": "eur", "jp": "jpy", "mx": "mxn"}[kind[:2]]
        bank: dict[str, Any] = {"type": kind}
        if kind == "eu_bank_transfer":
            bank["eu_bank_transfer"] = {"country": "DE"}
        served.append(
            v1.customers.funding_instructions.create(
                customer.id,
                params={
                    "bank_transfer": bank,  # type: ignore[typeddict-item]
                    "currency": currency,
                    "funding_type": "bank_transfer",
                },
            )
        )
    served.append(
        v1.test_helpers.customers.fund_cash_balance(
            customer.id, params={"amount": 5000, "currency": "usd", "reference": "R1"}
        )
    )
    served += [v1.customers.cash_balance.retrieve(customer.id)]
    served += [v1.customers.cash_balance_transactions.list(customer.id)]
    product = v1.products.create(params={"name": "Pro"})
    price = v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 2000,
            "recurring": {"interval": "month"},
        }
    )
    served += [product, price, v1.products.list(), v1.prices.retrieve(price.id)]
    session = v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "success_url": "https://example.com/ok",
            "line_items": [{"price": price.id, "quantity": 1}],
        }
    )
    served += [session, v1.checkout.sessions.line_items.list(session.id)]
    completed = httpx.post(f"{control}/_fake/checkout/sessions/{session.id}/complete")
    assert completed.status_code == 200, completed.text
    served.append(v1.checkout.sessions.retrieve(session.id))
    subscription_id = v1.subscriptions.list(params={"customer": customer.id}).data[0].id
    httpx.post(f"{control}/_fake/subscriptions/{subscription_id}/renew").raise_for_status()
    served += [
        v1.subscriptions.retrieve(subscription_id),
        v1.invoices.list(params={"customer": customer.id}),
    ]
    served.append(v1.subscriptions.update(subscription_id, params={"metadata": {"plan": "pro"}}))
    served.append(v1.subscriptions.cancel(subscription_id))
    endpoint = v1.webhook_endpoints.create(
        params={"url": "https://example.com/hook", "enabled_events": ["*"]}
    )
    served += [endpoint, v1.webhook_endpoints.list(), v1.webhook_endpoints.delete(endpoint.id)]
    events = v1.events.list(params={"limit": 100})
    served += [events, v1.events.retrieve(events.data[0].id)]
    served += payments_tour(client, customer.id)
    served += invoices_tour(client, customer.id)
    clock = v1.test_helpers.test_clocks.create(params={"frozen_time": 1_700_000_000, "name": "c"})
    served += [
        clock,
        v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": 1_800_000_000}),
    ]
    served += [v1.test_helpers.test_clocks.list(), v1.test_helpers.test_clocks.retrieve(clock.id)]
    served += failing_renewal_tour(client)
    served += proration_tour(client)
    served.append(v1.test_helpers.test_clocks.delete(clock.id))
    expiring = v1.checkout.sessions.create(
        params={"mode": "subscription", "success_url": "https://example.com/ok",
                "line_items": [{"price": price.id, "quantity": 1}]}
    )  # fmt: skip
    served.append(v1.checkout.sessions.expire(expiring.id))
    served.append(v1.billing_portal.sessions.create(params={"customer": customer.id}))
    served.append(v1.customers.delete(customer.id))
    return [_body(result) for result in served]


def failing_renewal_tour(client: stripe.StripeClient) -> list[Any]:
    """A direct subscription on a test clock whose card starts failing: renewal, retries, cancellation."""
    v1, served = client.v1, list[Any]()
    clock = v1.test_helpers.test_clocks.create(params={"frozen_time": 1_700_000_000})
    customer = v1.customers.create(
        params={"test_clock": clock.id, "payment_method": "pm_card_visa",
                "invoice_settings": {"default_payment_method": "pm_card_visa"}}
    )  # fmt: skip
    product = v1.products.create(params={"name": "Renewing"})
    price = v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 700,
                "recurring": {"interval": "month"}}
    )  # fmt: skip
    subscription = v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id, "quantity": 2}]}
    )
    served += [customer, subscription]
    served.append(
        v1.customers.update(
            customer.id,
            params={"invoice_settings": {"default_payment_method": "pm_card_chargeCustomerFail"}},
        )
    )
    served.append(
        v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": 1_703_000_000})
    )
    served += [v1.subscriptions.retrieve(subscription.id)]
    served.append(v1.invoices.list(params={"subscription": subscription.id}))
    served.append(
        v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": 1_705_000_000})
    )
    served.append(v1.subscriptions.retrieve(subscription.id))
    return served


def proration_tour(client: stripe.StripeClient) -> list[Any]:
    """A direct subscription on a test clock changed mid-period: pending prorations, an update invoiced
    at once, items added and deleted, and the renewal that bills the pending ones."""
    v1, served = client.v1, list[Any]()
    clock = v1.test_helpers.test_clocks.create(params={"frozen_time": 1_700_000_000})
    customer = v1.customers.create(params={"test_clock": clock.id})
    product = v1.products.create(params={"name": "Prorated"})
    prices = [
        v1.prices.create(
            params={
                "product": product.id,
                "currency": "usd",
                "unit_amount": amount,
                "recurring": {"interval": "month"},
            }
        )
        for amount in (1_000, 3_000, 500)
    ]
    subscription = v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": prices[0].id}]}
    )
    item = subscription["items"].data[0].id
    v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": 1_701_000_000})
    served.append(
        v1.subscriptions.update(
            subscription.id, params={"items": [{"id": item, "price": prices[1].id}]}
        )
    )
    served.append(v1.invoice_items.list(params={"customer": customer.id, "pending": True}))
    updated = v1.subscriptions.update(
        subscription.id,
        params={"items": [{"price": prices[2].id, "quantity": 2}],
                "proration_behavior": "always_invoice"},
    )  # fmt: skip
    served += [updated, v1.invoices.retrieve(str(updated.latest_invoice))]
    added = updated["items"].data[1].id
    served.append(
        v1.subscriptions.update(subscription.id, params={"items": [{"id": added, "deleted": True}]})
    )
    pending = v1.invoice_items.list(params={"customer": customer.id, "pending": True})
    served += [pending, v1.invoice_items.retrieve(pending.data[0].id)]
    v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": 1_703_000_000})
    served.append(v1.invoices.list(params={"subscription": subscription.id}))
    served.append(v1.invoice_items.list(params={"customer": customer.id}))
    return served


def invoices_tour(client: stripe.StripeClient, customer: str) -> list[Any]:
    """One-off invoices: paid by card, paid out of band, voided, uncollectible, deleted."""
    v1, served = client.v1, list[Any]()
    for ending in ("pay", "oob", "void", "uncollectible", "delete"):
        draft = v1.invoices.create(params={"customer": customer, "description": ending})
        served += [draft, v1.invoice_items.create(
            params={"customer": customer, "amount": 1500, "currency": "usd", "invoice": draft.id}
        )]  # fmt: skip
        if ending == "delete":
            served.append(v1.invoices.delete(draft.id))
            continue
        served.append(v1.invoices.finalize_invoice(draft.id))
        if ending in ("pay", "oob"):
            served.append(v1.invoices.pay(draft.id, params={"paid_out_of_band": ending == "oob"}))
        elif ending == "void":
            served.append(v1.invoices.void_invoice(draft.id))
        else:
            served.append(v1.invoices.mark_uncollectible(draft.id))
    return served


def payments_tour(client: stripe.StripeClient, customer: str) -> list[Any]:
    """PaymentIntents (auto and manual capture, 3DS, declined, canceled), refunds, balance, search."""
    v1, served = client.v1, list[Any]()
    paid = v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "customer": customer,
                "payment_method": "pm_card_visa", "confirm": True}
    )  # fmt: skip
    held = v1.payment_intents.create(
        params={"amount": 3000, "currency": "usd", "capture_method": "manual"}
    )
    held = v1.payment_intents.confirm(held.id, params={"payment_method": "pm_card_mastercard"})
    served += [paid, held, v1.payment_intents.capture(held.id, params={"amount_to_capture": 2500})]
    action = v1.payment_intents.create(
        params={"amount": 500, "currency": "usd", "payment_method": "pm_card_authenticationRequired",
                "confirm": True}
    )  # fmt: skip
    served += [action, v1.payment_intents.cancel(action.id)]
    declined = v1.payment_intents.create(params={"amount": 700, "currency": "usd"})
    with pytest.raises(stripe.CardError):
        v1.payment_intents.confirm(declined.id, params={"payment_method": "pm_card_chargeDeclined"})
    served.append(v1.payment_intents.retrieve(declined.id))
    served.append(v1.refunds.create(params={"payment_intent": paid.id, "amount": 500}))
    served.append(v1.refunds.create(params={"charge": str(paid.latest_charge)}))
    served += [v1.refunds.list(), v1.charges.list(), v1.charges.retrieve(str(paid.latest_charge))]
    served += [v1.payment_intents.list(), v1.balance.retrieve(), v1.balance_transactions.list()]
    served.append(v1.customers.search(params={"query": "email:'a@example.com'"}))
    return served


def objects_in(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(schema name, object)`` for a body, each list item, and each event's ``data.object``."""
    if body.get("object") in ("list", "search_result"):
        for item in body["data"]:
            yield from objects_in(item)
        return
    name = f"deleted_{body['object']}" if body.get("deleted") else str(body["object"])
    yield name, body
    if body.get("object") == "event":
        yield from objects_in(body["data"]["object"])


def all_violations(bodies: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], Violation]]:
    return [
        (name, obj, found)
        for body in bodies
        for name, obj in objects_in(body)
        for found in violations(obj, name)
    ]


def unexplained(bodies: list[dict[str, Any]]) -> tuple[list[tuple[str, Violation]], list[str]]:
    """Every violation but the documented exception, and the values the exception was taken for."""
    found = all_violations(bodies)
    excepted = [o["bank_transfer"]["type"] for n, o, v in found if _open_enum_exception(n, o, v)]
    rest = [(n, v) for n, o, v in found if not _open_enum_exception(n, o, v)]
    return rest, excepted


@pytest.fixture(scope="module")
def fake_server() -> Iterator[tuple[StripeFakeApp, LoopbackServer]]:
    app = create_app(StripeConfig(time_scale=0.0001))
    with LoopbackServer(app) as server:
        yield app, server
    app.webhooks.close()


def test_every_object_and_event_the_fake_serves_matches_stripes_published_schema(
    fake_server: tuple[StripeFakeApp, LoopbackServer],
) -> None:
    app, server = fake_server
    client = stripe.StripeClient(
        KEY, base_addresses={"api": server.base_url}, max_network_retries=0
    )
    bodies = tour(client, server.base_url) + app.events()
    names = {name for body in bodies for name, _ in objects_in(body)}
    found, excepted = unexplained(bodies)
    assert found == []
    # the tour asks once for each type: the exception is taken exactly for the three, never more
    assert sorted(excepted) == list(OPEN_ENUM_VALUES)
    assert {
        "customer",
        "invoice",
        "subscription",
        "checkout.session",
        "event",
        "funding_instructions",
        "deleted_test_helpers.test_clock",
        "invoiceitem",  # an invoice's lines are checked inside the invoice's own schema
    } <= names


def test_every_event_type_the_fake_can_emit_matches_stripes_published_schema(
    fake_server: tuple[StripeFakeApp, LoopbackServer],
) -> None:
    """Every trigger recipe run (one per emittable event type), every event and object checked."""
    app, server = fake_server
    app.reset()
    for event_type in sorted(recipes("stripe")):
        answer = httpx.post(
            f"{server.base_url}/_fake/trigger", json={"event": event_type}, timeout=30
        )
        assert answer.status_code == 200, answer.text
    events = app.events()
    assert {event["type"] for event in events} == EVENT_TYPES
    found, _excepted = unexplained(events)
    assert found == []


@pytest.mark.parametrize("kind", PUBLISHED_VALUES + OPEN_ENUM_VALUES)
def test_funding_instructions_answer_the_requested_type_outside_the_published_enum_only_for_us_gb_mx(
    fake_server: tuple[StripeFakeApp, LoopbackServer], kind: str
) -> None:
    """The exception stated as a test: the requested type comes back; eu/jp are clean; us/gb/mx break
    the published enum at that one path and nowhere else."""
    _app, server = fake_server
    client = stripe.StripeClient(
        KEY, base_addresses={"api": server.base_url}, max_network_retries=0
    )
    customer = client.v1.customers.create()
    bank: dict[str, Any] = {"type": kind}
    if kind == "eu_bank_transfer":
        bank["eu_bank_transfer"] = {"country": "NL"}
    currency = {"us": "usd", "gb": "gbp", "eu": "eur", "jp": "jpy", "mx": "mxn"}[kind[:2]]
    body = _body(
        client.v1.customers.funding_instructions.create(
            customer.id,
            params={"bank_transfer": bank, "currency": currency, "funding_type": "bank_transfer"},  # type: ignore[typeddict-item]
        )
    )

    assert body["bank_transfer"]["type"] == kind
    expected = (
        []
        if kind in PUBLISHED_VALUES
        else [
            Violation(
                "hard",
                OPEN_ENUM_PATH,
                f"{kind!r} is not one of ['eu_bank_transfer', 'jp_bank_transfer']",
            )
        ]
    )
    assert violations(body, OPEN_ENUM_SCHEMA) == expected
