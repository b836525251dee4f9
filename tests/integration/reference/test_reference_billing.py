"""Plan tiers: only a paid event raises the tier, a cancellation lowers it, and no order of (duplicated,
late) events can bring a canceled plan back. The truth surface is `plan_tier`, not the 200."""

from __future__ import annotations

import itertools
import json

import httpx
import pytest
from reference_support import (
    ALL_RAILS,
    ServiceFactory,
    deliver_stripe,
    deliver_xendit,
    new_account,
    stripe_event,
    stripe_invoice_paid,
    stripe_subscription_deleted,
    xendit_cycle_succeeded,
    xendit_plan_inactivated,
)


@pytest.fixture
async def rails(make_service: ServiceFactory) -> httpx.AsyncClient:
    """A live service with every rail configured."""
    return await make_service(**ALL_RAILS)


async def tier(client: httpx.AsyncClient, account: str) -> str:
    r = await client.get("/v1/billing", params={"account_id": account})
    assert r.status_code == 200
    account_tier = (await client.get(f"/v1/accounts/{account}")).json()["plan_tier"]
    assert r.json()["plan_tier"] == account_tier
    return str(account_tier)


async def test_a_new_account_is_on_the_free_tier_with_no_subscription(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    body = (await rails.get("/v1/billing", params={"account_id": account})).json()
    assert (body["plan_tier"], body["subscription_status"], body["subscriptions"]) == (
        "free",
        "none",
        [],
    )


async def test_stripe_invoice_paid_raises_the_tier(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    body = stripe_invoice_paid(
        "evt_paid", account_id=account, plan="pro", subscription="sub_1", invoice="in_1"
    )
    assert (await deliver_stripe(rails, body)).json()["status"] == "applied"
    assert await tier(rails, account) == "pro"
    billing = (await rails.get("/v1/billing", params={"account_id": account})).json()
    assert billing["subscription_status"] == "active"
    invoices = (await rails.get("/v1/billing/invoices", params={"account_id": account})).json()
    assert [(i["processor_ref"], i["amount"], i["currency"]) for i in invoices["invoices"]] == [
        ("in_1", "20.00", "USD")
    ]


async def test_events_other_than_paid_never_raise_the_tier(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    meta = {"account_id": account, "plan": "team"}
    for event_id, event_type, obj in (
        (
            "evt_cs",
            "checkout.session.completed",
            {"id": "cs_1", "mode": "subscription", "subscription": "sub_2", "metadata": meta},
        ),
        ("evt_sc", "customer.subscription.created", {"id": "sub_2", "status": "active"}),
        ("evt_su", "customer.subscription.updated", {"id": "sub_2", "status": "active"}),
        ("evt_if", "invoice.payment_failed", {"id": "in_2", "subscription": "sub_2"}),
    ):
        r = await deliver_stripe(rails, stripe_event(event_id, event_type, obj))
        assert r.status_code == 200
    assert await tier(rails, account) == "free"


async def test_cancellation_downgrades_to_free(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    await deliver_stripe(
        rails,
        stripe_invoice_paid(
            "evt_p3", account_id=account, plan="team", subscription="sub_3", invoice="in_3"
        ),
    )
    assert await tier(rails, account) == "team"
    r = await deliver_stripe(rails, stripe_subscription_deleted("evt_d3", subscription="sub_3"))
    assert r.json()["status"] == "applied"
    assert await tier(rails, account) == "free"
    status = (await rails.get("/v1/billing", params={"account_id": account})).json()
    assert status["subscription_status"] == "canceled"


async def test_a_late_paid_event_never_revives_a_canceled_plan(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    await deliver_stripe(
        rails,
        stripe_invoice_paid(
            "evt_p4", account_id=account, plan="pro", subscription="sub_4", invoice="in_4"
        ),
    )
    await deliver_stripe(rails, stripe_subscription_deleted("evt_d4", subscription="sub_4"))
    # a retried, older invoice event of the same subscription arrives after the cancellation
    late = stripe_invoice_paid(
        "evt_p4_retry",
        account_id=account,
        plan="pro",
        subscription="sub_4",
        invoice="in_4_earlier",
        created=1_600_000_000,
    )
    assert (await deliver_stripe(rails, late)).status_code == 200
    assert await tier(rails, account) == "free"


async def test_a_paid_event_arriving_after_the_cancellation_of_its_subscription_stays_free(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    await deliver_stripe(rails, stripe_subscription_deleted("evt_d5", subscription="sub_5"))
    await deliver_stripe(
        rails,
        stripe_invoice_paid(
            "evt_p5", account_id=account, plan="pro", subscription="sub_5", invoice="in_5"
        ),
    )
    assert await tier(rails, account) == "free"


async def test_the_tier_is_the_best_active_plan(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    for n, plan in ((1, "pro"), (2, "team")):
        await deliver_stripe(
            rails,
            stripe_invoice_paid(
                f"evt_best{n}",
                account_id=account,
                plan=plan,
                subscription=f"sub_best{n}",
                invoice=f"in_best{n}",
            ),
        )
    assert await tier(rails, account) == "team"
    await deliver_stripe(rails, stripe_subscription_deleted("evt_best_d", subscription="sub_best2"))
    assert await tier(rails, account) == "pro"


async def test_duplicated_paid_events_change_nothing_more(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    body = stripe_invoice_paid(
        "evt_p6", account_id=account, plan="pro", subscription="sub_6", invoice="in_6"
    )
    assert (await deliver_stripe(rails, body)).json()["status"] == "applied"
    assert (await deliver_stripe(rails, body)).json()["status"] == "duplicate"
    invoices = (await rails.get("/v1/billing/invoices", params={"account_id": account})).json()
    assert len(invoices["invoices"]) == 1
    assert await tier(rails, account) == "pro"


async def test_every_order_of_paid_duplicate_and_cancel_converges_to_free(
    rails: httpx.AsyncClient,
) -> None:
    finals = set()
    for n, order in enumerate(itertools.permutations(("paid", "paid_again", "deleted"))):
        account = await new_account(rails)
        sub = f"sub_perm{n}"
        bodies = {
            "paid": stripe_invoice_paid(
                f"evt_perm{n}_p",
                account_id=account,
                plan="pro",
                subscription=sub,
                invoice=f"in_{n}",
            ),
            "deleted": stripe_subscription_deleted(f"evt_perm{n}_d", subscription=sub),
        }
        bodies["paid_again"] = bodies["paid"]  # the same event, delivered twice
        for step in order:
            assert (await deliver_stripe(rails, bodies[step])).status_code == 200
        finals.add((order, await tier(rails, account)))
    assert {t for _, t in finals} == {"free"}, sorted(finals)


async def test_every_order_of_paid_events_alone_converges_to_the_plan(
    rails: httpx.AsyncClient,
) -> None:
    for n, order in enumerate(itertools.permutations((0, 1, 2))):
        account = await new_account(rails)
        bodies = [
            stripe_invoice_paid(
                f"evt_renew{n}_{k}",
                account_id=account,
                plan="team",
                subscription=f"sub_renew{n}",
                invoice=f"in_renew{n}_{k}",
                created=1_700_000_000 + k * 2_592_000,
            )
            for k in range(3)
        ]
        for k in order:
            await deliver_stripe(rails, bodies[k])
        assert await tier(rails, account) == "team"
        invoices = (await rails.get("/v1/billing/invoices", params={"account_id": account})).json()
        assert len(invoices["invoices"]) == 3


async def test_xendit_recurring_cycle_succeeded_raises_and_inactivation_lowers(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    cycle = xendit_cycle_succeeded(
        event_id="xevt_c1", plan_id="repl_1", cycle_id="recy_1", account_id=account, plan="team"
    )
    assert (await deliver_xendit(rails, cycle)).json()["status"] == "applied"
    assert await tier(rails, account) == "team"
    assert (await deliver_xendit(rails, cycle)).json()["status"] == "duplicate"
    ended = xendit_plan_inactivated(event_id="xevt_i1", plan_id="repl_1")
    assert (await deliver_xendit(rails, ended)).json()["status"] == "applied"
    assert await tier(rails, account) == "free"


async def test_xendit_cycle_arriving_after_its_plan_was_inactivated_stays_free(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    await deliver_xendit(rails, xendit_plan_inactivated(event_id="xevt_i2", plan_id="repl_2"))
    await deliver_xendit(
        rails,
        xendit_cycle_succeeded(
            event_id="xevt_c2", plan_id="repl_2", cycle_id="recy_2", account_id=account, plan="pro"
        ),
    )
    assert await tier(rails, account) == "free"


async def test_paid_event_for_an_unknown_account_changes_no_tier(rails: httpx.AsyncClient) -> None:
    body = stripe_invoice_paid(
        "evt_ghost", account_id="acct_ghost", plan="pro", subscription="sub_g", invoice="in_g"
    )
    r = await deliver_stripe(rails, body)
    assert (r.status_code, r.json()["status"]) == (200, "ignored")


async def test_billing_of_an_unknown_account_is_404(rails: httpx.AsyncClient) -> None:
    for path in ("/v1/billing", "/v1/billing/invoices"):
        r = await rails.get(path, params={"account_id": "acct_missing"})
        assert (r.status_code, r.json()["error"]["code"]) == (404, "account_not_found")


async def test_checkout_for_an_unknown_plan_or_a_rail_without_subscriptions_is_refused(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    r = await rails.post(
        "/v1/billing/checkout", json={"account_id": account, "plan": "pro", "rail": "cdp"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "rail_not_supported")
    r = await rails.post(
        "/v1/billing/checkout", json={"account_id": account, "plan": "pro", "rail": "paypal"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_rail")
    r = await rails.post(
        "/v1/billing/checkout", json={"account_id": account, "plan": "platinum", "rail": "stripe"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error")


#: Amounts paid that are no amount: each paid-plan event carrying one is refused and flips nothing.
UNREADABLE_AMOUNTS = [None, True, "2000", 20.5, -2000, "absent"]


def _with_amount(fields: dict[str, object], key: str, amount: object) -> None:
    fields[key] = amount
    if amount == "absent":
        del fields[key]


@pytest.mark.parametrize("amount", UNREADABLE_AMOUNTS, ids=repr)
async def test_a_paid_plan_event_whose_amount_cannot_be_read_is_refused_and_flips_nothing(
    rails: httpx.AsyncClient, amount: object
) -> None:
    """Stripe `amount_paid` is a non-negative integer of cents; Xendit's cycle `amount` a non-negative
    number: null, a boolean, a negative amount or none at all (and, at Stripe, a string or a fraction) is
    `400 invalid_payload`, and the tier stays free."""
    account = await new_account(rails)
    stripe = json.loads(
        stripe_invoice_paid(
            "evt_unread", account_id=account, plan="pro", subscription="sub_u", invoice="in_u"
        )
    )
    _with_amount(stripe["data"]["object"], "amount_paid", amount)
    answers = [await deliver_stripe(rails, json.dumps(stripe).encode())]
    negative = isinstance(amount, int | float) and not isinstance(amount, bool) and amount < 0
    if amount in (None, True, "absent") or negative:  # Xendit amounts may be fractional or text
        cycle = xendit_cycle_succeeded(
            event_id="xevt_u", plan_id="repl_u", cycle_id="recy_u", account_id=account, plan="team"
        )
        _with_amount(cycle["data"], "amount", amount)
        answers.append(await deliver_xendit(rails, cycle))
    assert [(r.status_code, r.json()["error"]["code"]) for r in answers] == [
        (400, "invalid_payload")
    ] * len(answers)
    assert await tier(rails, account) == "free"
