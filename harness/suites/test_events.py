"""events: every event a processor can send has a defined effect, and a malformed one never credits.

**The table.** For every event type the fakes emit, and the failures real processors send (a failed or
voided invoice, a failed recurring cycle, a refund, a dispute, a cancellation), :data:`EVENTS` states the
effect: how much is credited (the top-up's amount, or nothing), and which tier the account ends on. Each row
is delivered validly signed to an account with a pending top-up, must be acknowledged with 200, and must
end exactly there: balance, lifetime paid, credits and tier. Zero-decimal and other currencies (JPY, IDR)
are never credited as USD; a Stripe customer balance going negative (Stripe's sign for a credit the
customer holds) is not wallet money.

**Malformed and out-of-range bodies.** Generated from the valid crediting event of each rail (hypothesis):
a required field dropped, the amount of a wrong JSON type, negative, zero or beyond the contract's range,
the currency or asset not USD(C), ids too long or holding a NUL or a lone surrogate. Validly signed, each
gets `400 invalid_payload` or a 200 no-op, never a 5xx (a processor retries a 5xx for days), and never a
credit other than the top-up's own amount when the body still states it validly.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness.suites import _fixtures
from harness.suites._deliveries import (
    Delivery,
    crediting_delivery,
    deliver,
    settlement_event,
    signed_headers,
)
from harness.suites._generation import generated
from harness.suites._processors import (
    Processors,
    stripe_invoice_paid,
    stripe_subscription_deleted,
    xendit_cycle_succeeded,
)
from harness.suites._support import Api, error_code, unique
from harness.suites.failures import IdempotencyFailure, TierFlipFailure
from harness.suites.plugin import PaymentsOptions

api = _fixtures.api
processors = _fixtures.processors

#: The largest amount the contract holds (10^9 USD in micros): beyond it an amount is out of range.
MAX_MICROS = 10**15
CREDIT = "the top-up's amount"

Build = Callable[[Delivery], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One event (after its set-up events) and the effect it must have."""

    name: str
    rail: str
    build: Build
    credits: bool = False
    tier: str = "free"
    #: out of range for the processor (e.g. a negative funding): `400 invalid_payload` is as right as a
    #: 200 no-op (issue 11, class 2), as long as nothing moves
    may_refuse: bool = False
    #: the reason code (one of those the contract lists for `ignored`/`not_credited`) a one-event row's
    #: answer gives when it carries a `reason`: what the service understood the event to be
    reason: str | None = None


def _obj(delivery: Delivery) -> dict[str, Any]:
    return dict(delivery.event["data"]["object"])


def _stripe(event_type: str, obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": unique("evt"),
        "object": "event",
        "type": event_type,
        "created": 1_767_225_600,
        "livemode": False,
        "data": {"object": obj, **extra},
    }


def _funded(delivery: Delivery, **changes: Any) -> list[dict[str, Any]]:
    event = copy.deepcopy(delivery.event)
    event["data"]["object"].update(changes)
    return [event]


def _paid_plan(
    delivery: Delivery, event_type: str = "invoice.paid", **changes: Any
) -> dict[str, Any]:
    tag = delivery.account[-12:]
    event = stripe_invoice_paid(
        account_id=delivery.account,
        plan="pro",
        subscription_ref=f"sub_{tag}",
        invoice_ref=unique("in"),
        amount_cents=2_000,
        account_key=delivery.processors.api.account_key(),
    )
    event["id"], event["type"] = unique("evt"), event_type
    event["data"]["object"].update(changes)
    return event


def _customer(delivery: Delivery, balance: int) -> dict[str, Any]:
    customer = str(delivery.topup["details"]["customer"])
    obj = {"id": customer, "object": "customer", "balance": balance, "currency": "usd"}
    return _stripe("customer.updated", obj, previous_attributes={"balance": 0})


def _stripe_session(delivery: Delivery, event_type: str) -> dict[str, Any]:
    obj = {
        "id": unique("cs"),
        "object": "checkout.session",
        "mode": "subscription",
        "subscription": f"sub_{delivery.account[-12:]}",
        "client_reference_id": delivery.account,
        "metadata": {"account_id": delivery.account, "plan": "pro"},
        "status": "complete" if event_type.endswith("completed") else "expired",
        "payment_status": "paid" if event_type.endswith("completed") else "unpaid",
    }
    return _stripe(event_type, obj)


def _stripe_plain(event_type: str, object_name: str, **fields: Any) -> Build:
    return lambda d: [
        _stripe(event_type, {"id": unique(object_name[:3]), "object": object_name} | fields)
    ]


def _xendit_invoice(delivery: Delivery, **changes: Any) -> list[dict[str, Any]]:
    return [{**delivery.event, **changes}]


def _cycle(delivery: Delivery, event: str, plan: str = "team") -> dict[str, Any]:
    body = xendit_cycle_succeeded(
        account_id=delivery.account,
        plan=plan,
        plan_ref=f"repl_{delivery.account[-12:]}",
        cycle_ref=unique("cycle"),
        amount="49",
    )
    body["event"] = event
    body["data"]["status"] = event.rpartition(".")[2].upper()
    return body


def _inactivated(delivery: Delivery) -> dict[str, Any]:
    plan_ref = f"repl_{delivery.account[-12:]}"
    return {
        "id": unique("evt"),
        "event": "recurring.plan.inactivated",
        "business_id": "payharness",
        "created": "2026-01-01T00:00:00.000Z",
        "data": {
            "id": plan_ref,
            "status": "INACTIVE",
            "metadata": {"account_id": delivery.account},
        },
    }


def _settlement(delivery: Delivery, **changes: Any) -> list[dict[str, Any]]:
    data = delivery.event["data"]
    event = settlement_event(topup=str(data["nonce"]), value=data["value"], asset=data["asset"])
    event["data"].update(changes.pop("data", {}))
    return [{**event, **changes}]


EVENTS: tuple[Row, ...] = (
    # -- Stripe: cash balance (wallet top-ups)
    Row(name="funded-usd", rail="stripe", build=_funded, credits=True),
    Row(name="funded-jpy-zero-decimal", rail="stripe", build=lambda d: _funded(d, currency="jpy")),
    Row(name="funded-idr", rail="stripe", build=lambda d: _funded(d, currency="idr")),
    Row(
        name="funded-negative",
        rail="stripe",
        build=lambda d: _funded(d, net_amount=-100),
        may_refuse=True,
    ),
    Row(
        name="applied-to-invoice",
        rail="stripe",
        build=lambda d: _funded(d, type="applied_to_invoice", net_amount=-100),
    ),
    Row(
        name="cash-balance-funds-available",
        rail="stripe",
        build=_stripe_plain("cash_balance.funds_available", "cash_balance", available={"usd": 100}),
    ),
    Row(name="customer-balance-negative", rail="stripe", build=lambda d: [_customer(d, -100_000)]),
    Row(name="customer-balance-positive", rail="stripe", build=lambda d: [_customer(d, 100_000)]),
    Row(
        name="customer-created", rail="stripe", build=_stripe_plain("customer.created", "customer")
    ),
    Row(
        name="customer-deleted", rail="stripe", build=_stripe_plain("customer.deleted", "customer")
    ),
    # -- Stripe: subscriptions
    Row(
        name="checkout-completed",
        rail="stripe",
        build=lambda d: [_stripe_session(d, "checkout.session.completed")],
        reason="subscription_link_only",
    ),
    Row(
        name="checkout-expired",
        rail="stripe",
        build=lambda d: [_stripe_session(d, "checkout.session.expired")],
    ),
    Row(
        name="subscription-created-incomplete",
        rail="stripe",
        build=_stripe_plain("customer.subscription.created", "subscription", status="incomplete"),
    ),
    Row(name="invoice-paid", rail="stripe", build=lambda d: [_paid_plan(d)], tier="pro"),
    Row(
        name="invoice-payment-failed",
        rail="stripe",
        build=lambda d: [_paid_plan(d, "invoice.payment_failed", status="open", amount_paid=0)],
    ),
    Row(
        name="invoice-voided",
        rail="stripe",
        build=lambda d: [_paid_plan(d, "invoice.voided", status="void", amount_paid=0)],
    ),
    Row(
        name="invoice-uncollectible",
        rail="stripe",
        build=lambda d: [
            _paid_plan(d, "invoice.marked_uncollectible", status="uncollectible", amount_paid=0)
        ],
    ),
    Row(
        name="invoice-finalized",
        rail="stripe",
        build=lambda d: [_paid_plan(d, "invoice.finalized", status="open", amount_paid=0)],
    ),
    Row(
        name="paid-then-canceled",
        rail="stripe",
        build=lambda d: [
            _paid_plan(d),
            stripe_subscription_deleted(
                subscription_ref=f"sub_{d.account[-12:]}", event_ref=unique("del")
            ),
        ],
    ),
    Row(
        name="paid-then-past-due",
        rail="stripe",
        build=lambda d: [
            _paid_plan(d),
            _stripe(
                "customer.subscription.updated",
                {"id": f"sub_{d.account[-12:]}", "object": "subscription", "status": "past_due"},
            ),
        ],
        tier="pro",
    ),
    # -- Stripe: money going back
    Row(
        name="charge-refunded",
        rail="stripe",
        build=_stripe_plain(
            "charge.refunded", "charge", amount=500, amount_refunded=500, currency="usd"
        ),
    ),
    Row(
        name="dispute-created",
        rail="stripe",
        build=_stripe_plain("charge.dispute.created", "dispute", amount=500, currency="usd"),
    ),
    Row(
        name="payment-intent-failed",
        rail="stripe",
        build=_stripe_plain(
            "payment_intent.payment_failed", "payment_intent", amount=500, currency="usd"
        ),
    ),
    Row(
        name="payment-intent-succeeded-unattributed",
        rail="stripe",
        build=_stripe_plain(
            "payment_intent.succeeded", "payment_intent", amount=500, currency="usd"
        ),
    ),
    # -- Xendit: invoices (flat callbacks) and recurring plans (enveloped)
    Row(name="invoice-paid-usd", rail="xendit", build=_xendit_invoice, credits=True),
    Row(
        name="invoice-paid-idr",
        rail="xendit",
        build=lambda d: _xendit_invoice(d, currency="IDR", amount=15_000, paid_amount=15_000),
    ),
    Row(
        name="invoice-paid-jpy",
        rail="xendit",
        build=lambda d: _xendit_invoice(d, currency="JPY", amount=150, paid_amount=150),
    ),
    Row(
        name="invoice-paid-no-currency",
        rail="xendit",
        build=lambda d: [{k: v for k, v in d.event.items() if k != "currency"}],
    ),
    Row(
        name="invoice-expired", rail="xendit", build=lambda d: _xendit_invoice(d, status="EXPIRED")
    ),
    Row(
        name="invoice-pending", rail="xendit", build=lambda d: _xendit_invoice(d, status="PENDING")
    ),
    Row(
        name="plan-activated",
        rail="xendit",
        build=lambda d: [_cycle(d, "recurring.plan.activated")],
    ),
    Row(
        name="cycle-succeeded",
        rail="xendit",
        build=lambda d: [_cycle(d, "recurring.cycle.succeeded")],
        tier="team",
    ),
    Row(name="cycle-failed", rail="xendit", build=lambda d: [_cycle(d, "recurring.cycle.failed")]),
    Row(
        name="cycle-retrying",
        rail="xendit",
        build=lambda d: [_cycle(d, "recurring.cycle.retrying")],
    ),
    Row(
        name="cycle-succeeded-then-inactivated",
        rail="xendit",
        build=lambda d: [_cycle(d, "recurring.cycle.succeeded"), _inactivated(d)],
    ),
    # -- CDP: x402 settlements
    Row(name="settlement-completed", rail="cdp", build=_settlement, credits=True),
    Row(
        name="settlement-failed",
        rail="cdp",
        build=lambda d: _settlement(d, eventType="x402.settlement.failed"),
    ),
    Row(
        name="settlement-other-asset",
        rail="cdp",
        build=lambda d: _settlement(d, data={"asset": "0x" + "ab" * 20}),
    ),
    Row(name="settlement-zero", rail="cdp", build=lambda d: _settlement(d, data={"value": "0"})),
)


def _ends(api: Api, delivery: Delivery, credit: int, tier: str, what: str) -> None:
    """The account holds exactly `credit` (as one credit entry, or none) and is on `tier`."""
    state = api.account(delivery.account)
    credits = [int(e["amount_micros"]) for e in api.entries(delivery.account, kind="credit")]
    billing = api.billing(delivery.account)
    expected_credits = [credit] if credit else []
    got = (credits, int(state["balance_micros"]), int(state["lifetime_paid_micros"]))
    if got != (expected_credits, credit, credit):
        api.fail(
            IdempotencyFailure,
            observed=f"{what}: credits {credits}, balance {got[1]}, lifetime paid {got[2]}",
            expected=f"credits {expected_credits}, balance and lifetime paid {credit}",
            event_ids=[delivery.event_id],
        )
    if billing.get("plan_tier") != tier:
        api.fail(
            TierFlipFailure,
            observed=f"{what}: plan_tier {billing.get('plan_tier')!r}",
            expected=f"plan_tier {tier!r}",
            event_ids=[delivery.event_id],
        )


@pytest.mark.parametrize("row", EVENTS, ids=[f"{r.rail}-{r.name}" for r in EVENTS])
def test_every_event_has_its_defined_effect(api: Api, processors: Processors, row: Row) -> None:
    """Each event, validly signed, is acknowledged with 200 and ends at the table's credit and tier. The
    answer says what happened: `applied` exactly when a one-event row moves money or the tier; the same
    delivery again is a `duplicate` and moves nothing."""
    if row.tier != "free":
        api.lacking(f"{row.rail}_checkout", f"a plan paid on {row.rail}")
    delivery = crediting_delivery(api, processors, row.rail)
    events = row.build(delivery)
    for event in events:
        sent = delivery.with_event(event)
        answer = deliver(processors, sent, signed_headers(sent))
        if row.may_refuse and answer.status_code == 400 and error_code(answer) == "invalid_payload":
            _ends(api, delivery, 0, row.tier, f"{row.rail} {row.name} (refused as invalid)")
            return
        body = api.expect(answer, 200, IdempotencyFailure, f"{row.rail} {row.name}: a valid event")
    moved = row.credits or row.tier != "free"
    first = body.get("status")
    if len(events) == 1 and ((first == "applied") != moved or first == "duplicate"):
        api.fail(
            IdempotencyFailure,
            observed=f"{row.rail} {row.name}: answered status {body.get('status')!r}",
            expected="status 'applied' exactly when the event moves money or the tier (and never "
            "'duplicate' for an event seen the first time)",
            event_ids=[delivery.event_id],
        )
    reason = body.get("reason")
    if row.reason and isinstance(reason, str) and reason.partition(":")[0] != row.reason:
        api.fail(
            IdempotencyFailure,
            observed=f"{row.rail} {row.name}: answered reason {reason!r}",
            expected=f"a reason with the contract's code {row.reason!r} (or none)",
            event_ids=[delivery.event_id],
        )
    again = deliver(processors, sent, signed_headers(sent))
    repeated = api.expect(again, 200, IdempotencyFailure, f"{row.rail} {row.name} delivered again")
    if repeated.get("status") != "duplicate":
        api.fail(
            IdempotencyFailure,
            observed=f"{row.rail} {row.name} delivered again: status {repeated.get('status')!r}",
            expected="status 'duplicate': the processor's event id was seen",
            event_ids=[delivery.event_id],
        )
    credit = delivery.amount_micros if row.credits else 0
    _ends(api, delivery, credit, row.tier, f"{row.rail} {row.name}")


# ------------------------------------------------------------------------------ malformed bodies

#: Where each rail's crediting event keeps its amount, its currency (CDP: asset), and its ids.
Path = tuple[str, ...]
AMOUNT: dict[str, list[Path]] = {
    "stripe": [("data", "object", "net_amount")],
    "xendit": [("amount",), ("paid_amount",)],
    "cdp": [("data", "value")],
}
CURRENCY: dict[str, Path] = {
    "stripe": ("data", "object", "currency"),
    "xendit": ("currency",),
    "cdp": ("data", "asset"),
}
IDS: dict[str, list[Path]] = {
    "stripe": [("id",), ("data", "object", "id")],
    "xendit": [("id",)],
    "cdp": [("eventId",), ("data", "transaction")],
}
#: Fields without which the event cannot be a credit.
REQUIRED: dict[str, list[Path]] = {
    "stripe": [
        ("id",),
        ("type",),
        ("data",),
        ("data", "object"),
        *AMOUNT["stripe"],
        CURRENCY["stripe"],
    ],
    "xendit": [("id",), ("status",), ("external_id",), ("currency",)],
    "cdp": [("data",), ("data", "transaction"), ("data", "value"), ("data", "nonce")],
}


@dataclass(frozen=True, slots=True)
class Mutation:
    """A change to a valid crediting event: set `path` to `value`, or drop it (`drop`)."""

    kind: str
    path: tuple[str, ...]
    value: Any = None
    drop: bool = False
    #: the body still validly states the top-up's payment (an odd id): a credit of its amount is allowed
    may_credit: bool = False
    also: tuple[tuple[str, ...], ...] = field(default=())

    def apply(self, event: dict[str, Any]) -> dict[str, Any]:
        """A changed copy of `event`."""
        changed = copy.deepcopy(event)
        for path in (self.path, *self.also):
            node = changed
            for key in path[:-1]:
                node = node[key]
            if self.drop:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = self.value
        return changed


_JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))
_ANY_JSON = st.one_of(
    _JSON_SCALAR,
    st.lists(_JSON_SCALAR, max_size=3),
    st.dictionaries(st.text(max_size=5), _JSON_SCALAR, max_size=2),
)


def _numeric(value: Any) -> bool:
    """A number, or text a lenient parser reads as one: the same amount in another spelling."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _wrong_amounts(rail: str) -> st.SearchStrategy[Any]:
    """Amounts no processor sends for a payment: not a number at all (null, a boolean, a list, an
    object, words), or a number that is negative, zero or beyond the contract's range."""
    wrong_type = _ANY_JSON.filter(lambda v: not _numeric(v))
    unit = {"stripe": 10_000, "xendit": 1_000_000, "cdp": 1}[rail]
    beyond = st.integers(min_value=MAX_MICROS // unit + 1, max_value=10**40)
    bad_numbers: st.SearchStrategy[Any] = st.one_of(st.integers(max_value=0), beyond)
    if rail == "xendit":
        bad_numbers = st.one_of(bad_numbers, st.sampled_from([1e30, -0.5, 1e-9, 0.0000001]))
    if rail == "cdp":
        bad_numbers = bad_numbers.map(str) | st.sampled_from(
            ["1e30", "1.5", "-1", "0x10", " 1", ""]
        )
    return st.one_of(wrong_type, bad_numbers)


def _not_usd(rail: str) -> st.SearchStrategy[Any]:
    named = st.sampled_from(["jpy", "JPY", "idr", "IDR", "usdc", "eur", "", "US D", "xxx"])
    if rail == "cdp":
        named = st.sampled_from(["", "USDC", "usdc", "0x" + "00" * 20, "0x" + "ab" * 20, "eth"])
    return st.one_of(named, _ANY_JSON).filter(
        lambda v: not (isinstance(v, str) and v.strip().lower() == "usd")
    )


_ODD_IDS = st.sampled_from(["x" * 300, "a\x00b", "\ud800", "", "😀" * 70, "../../etc"])


def mutations(rail: str) -> st.SearchStrategy[Mutation]:
    """Every kind of malformed or out-of-range change to `rail`'s crediting event."""
    amounts = AMOUNT[rail]
    return st.one_of(
        st.sampled_from(REQUIRED[rail]).map(lambda p: Mutation("drop", p, drop=True)),
        _wrong_amounts(rail).map(
            lambda v: Mutation("amount", amounts[0], v, also=tuple(amounts[1:]))
        ),
        _not_usd(rail).map(lambda v: Mutation("currency", CURRENCY[rail], v)),
        st.tuples(st.sampled_from(IDS[rail]), _ODD_IDS).map(
            lambda pv: Mutation("id", pv[0], pv[1], may_credit=True)
        ),
    )


@pytest.mark.parametrize("rail", sorted(AMOUNT))
def test_a_malformed_or_out_of_range_event_never_credits_and_never_gets_a_5xx(
    api: Api, processors: Processors, payments_options: PaymentsOptions, rail: str
) -> None:
    """Validly signed, malformed: `400 invalid_payload` or a 200 no-op; no 5xx; no unexpected credit."""

    @generated(payments_options, at_least=6, per_example=3)
    @given(mutation=mutations(rail))
    def check(mutation: Mutation) -> None:
        delivery = crediting_delivery(api, processors, rail)
        sent = delivery.with_event(mutation.apply(delivery.event))
        answer = deliver(processors, sent, signed_headers(sent))
        what = f"{rail} {mutation.kind} {'/'.join(mutation.path)}={json.dumps(mutation.value)[:60]}"
        if answer.status_code >= 500 or (
            answer.status_code != 200
            and not (answer.status_code == 400 and error_code(answer) == "invalid_payload")
        ):
            api.fail(
                IdempotencyFailure,
                observed=f"{what}: HTTP {answer.status_code} {answer.text[:200]}",
                expected="400 invalid_payload or a 200 no-op (a 5xx makes the processor retry for days)",
                event_ids=[delivery.event_id],
            )
        credits = [int(e["amount_micros"]) for e in api.entries(delivery.account, kind="credit")]
        allowed = ([], [delivery.amount_micros]) if mutation.may_credit else ([],)
        if credits not in allowed:
            api.fail(
                IdempotencyFailure,
                observed=f"{what}: credited {credits}",
                expected="no credit from a malformed or out-of-range event",
                event_ids=[delivery.event_id],
            )

    check()


@pytest.mark.parametrize("amount_cents", [-5_000, 5_000], ids=["customer-credit", "customer-debt"])
def test_a_customer_balance_change_at_stripe_moves_no_wallet_money(
    api: Api, processors: Processors, amount_cents: int
) -> None:
    """A customer balance transaction made at Stripe (its `customer.updated` delivered by the processor
    itself) is Stripe's invoice credit or debt, in either sign: the wallet does not move."""
    delivery = crediting_delivery(api, processors, "stripe")
    customer = str(delivery.topup["details"]["customer"])
    processors.stripe_adjust_customer_balance(customer, amount_cents)
    processors.drain("stripe")
    _ends(api, delivery, 0, "free", f"a customer balance transaction of {amount_cents} cents")


#: Rows that move nothing: no credit, no tier, one event each (a paid event would mask later failures).
QUIET = [
    r
    for r in EVENTS
    if not r.credits and r.tier == "free" and not r.name.startswith(("paid-", "cycle-succeeded"))
]


@pytest.mark.parametrize("rail", sorted(AMOUNT))
def test_every_non_crediting_event_in_any_order_leaves_wallet_and_tier_alone(
    api: Api, processors: Processors, payments_options: PaymentsOptions, rail: str
) -> None:
    """All of a rail's failures, other currencies, unpaid invoices and unrelated events, delivered to one
    account in a generated order: every one acknowledged, nothing credited, the tier stays free."""
    rows = [r for r in QUIET if r.rail == rail]

    @generated(payments_options, at_least=2)
    @given(order=st.permutations(range(len(rows))))
    def check(order: list[int]) -> None:
        delivery = crediting_delivery(api, processors, rail)
        for index in order:
            for event in rows[index].build(delivery):
                sent = delivery.with_event(event)
                answer = deliver(processors, sent, signed_headers(sent))
                refused = answer.status_code == 400 and error_code(answer) == "invalid_payload"
                if not (rows[index].may_refuse and refused):
                    api.expect(answer, 200, IdempotencyFailure, f"{rail} {rows[index].name}")
        _ends(api, delivery, 0, "free", f"{rail}: {', '.join(rows[i].name for i in order)}")

    check()


# ------------------------------------------------------------------------ fields of the wrong JSON type

#: One value of each JSON type; a field is sent with every one its valid value is not.
WRONG_TYPES: dict[str, Any] = {
    "list": [1],
    "object": {"x": 1},
    "number": 7,
    "string": "x",
    "bool": True,
    "null": None,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Reads:
    """A valid event of a type with an effect, and the fields (paths from the event's root) the effect
    reads: the amount and currency, the status, type or mode deciding it, the ids and metadata naming the
    account, plan, top-up or subscription."""

    rail: str
    event_type: str
    build: Callable[[Delivery], dict[str, Any]]
    fields: tuple[Path, ...]
    #: of `fields`, the amounts: a number in another spelling is the existing generator's business
    amounts: tuple[Path, ...] = ()
    #: of `fields`, those without which no wallet money may move and no plan may flip (the amount, its
    #: currency, the kind): a paid plan whose amount paid cannot be read is no proof of payment
    decides: tuple[Path, ...] = ()
    #: what the valid event does: credit the top-up's amount, or put the account on this tier
    credits: bool = False
    tier: str = "free"


def _object_fields(*names: str) -> tuple[Path, ...]:
    return tuple(("data", "object", *name.split(".")) for name in names)


def _data_fields(*names: str) -> tuple[Path, ...]:
    return tuple(("data", *name.split(".")) for name in names)


_SUB = "parent.subscription_details"
READS: tuple[Reads, ...] = (
    Reads(
        rail="stripe",
        event_type="customer_cash_balance_transaction.created",
        build=lambda d: copy.deepcopy(d.event),
        fields=_object_fields(
            "id",
            "type",
            "net_amount",
            "currency",
            "customer",
            "funded",
            "funded.bank_transfer",
            "funded.bank_transfer.reference",
        ),
        amounts=_object_fields("net_amount"),
        decides=_object_fields("type", "net_amount", "currency"),
        credits=True,
    ),
    Reads(
        rail="stripe",
        event_type="checkout.session.completed",
        build=lambda d: _stripe_session(d, "checkout.session.completed"),
        fields=_object_fields(
            "id",
            "mode",
            "subscription",
            "metadata",
            "metadata.account_id",
            "metadata.plan",
            "client_reference_id",
        ),
    ),
    Reads(
        rail="stripe",
        event_type="invoice.paid",
        build=_paid_plan,
        fields=_object_fields(
            "id",
            "amount_paid",
            "currency",
            "parent",
            _SUB,
            f"{_SUB}.subscription",
            f"{_SUB}.metadata",
            f"{_SUB}.metadata.account_id",
            f"{_SUB}.metadata.plan",
        ),
        amounts=_object_fields("amount_paid"),
        decides=_object_fields("amount_paid"),
        tier="pro",
    ),
    Reads(
        rail="stripe",
        event_type="customer.subscription.deleted",
        build=lambda d: stripe_subscription_deleted(
            subscription_ref=f"sub_{d.account[-12:]}", event_ref=unique("del")
        ),
        fields=_object_fields("id", "status", "metadata"),
    ),
    Reads(
        rail="stripe",
        event_type="customer.subscription.updated",
        build=lambda d: _stripe(
            "customer.subscription.updated",
            {"id": f"sub_{d.account[-12:]}", "object": "subscription", "status": "canceled"},
        ),
        fields=_object_fields("id", "status", "metadata"),
    ),
    Reads(
        rail="xendit",
        event_type="invoice (PAID)",
        build=lambda d: copy.deepcopy(d.event),
        fields=(
            ("id",),
            ("status",),
            ("amount",),
            ("paid_amount",),
            ("currency",),
            ("external_id",),
        ),
        amounts=(("amount",), ("paid_amount",)),
        decides=(("status",), ("paid_amount",), ("currency",)),
        credits=True,
    ),
    Reads(
        rail="xendit",
        event_type="recurring.cycle.succeeded",
        build=lambda d: _cycle(d, "recurring.cycle.succeeded"),
        fields=(
            ("event",),
            *_data_fields(
                "id",
                "plan_id",
                "amount",
                "currency",
                "metadata",
                "metadata.account_id",
                "metadata.plan",
            ),
        ),
        amounts=_data_fields("amount"),
        decides=_data_fields("amount"),
        tier="team",
    ),
    Reads(
        rail="xendit",
        event_type="recurring.plan.inactivated",
        build=_inactivated,
        fields=(("event",), *_data_fields("id", "status", "metadata", "metadata.account_id")),
    ),
    Reads(
        rail="cdp",
        event_type="x402.settlement.completed",
        build=lambda d: copy.deepcopy(d.event),
        fields=(*_data_fields("transaction", "value", "asset", "nonce", "from", "payer"),),
        amounts=_data_fields("value"),
        decides=_data_fields("value", "asset"),
        credits=True,
    ),
)


def _json_type(value: Any) -> str:
    if value is ...:
        return "absent"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


@dataclass(frozen=True, slots=True)
class WrongType:
    """`reads`'s event with the field at `path` holding `value` (of JSON type `kind`)."""

    reads: Reads
    path: Path
    kind: str

    def event(self, delivery: Delivery) -> dict[str, Any]:
        """The valid event of this type for `delivery`'s account, with the one field of the wrong type."""
        event = self.reads.build(delivery)
        node = event
        for key in self.path[:-1]:
            node = node[key]
        node[self.path[-1]] = copy.deepcopy(WRONG_TYPES[self.kind])
        return event


def wrong_types(rail: str) -> list[WrongType]:
    """Every field each effect of `rail` reads, with every JSON type its valid value is not (an amount is
    not re-spelled as a number, which the malformed-body generator covers with its range)."""
    cases = []
    for reads in (r for r in READS if r.rail == rail):
        for path in reads.fields:
            for kind, value in WRONG_TYPES.items():
                if path in reads.amounts and _numeric(value):
                    continue
                cases.append(WrongType(reads, path, kind))
    return cases


def _value_at(event: dict[str, Any], path: Path) -> Any:
    node: Any = event
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return ...  # absent from the valid event: every JSON type is a wrong one
        node = node[key]
    return node


@pytest.mark.parametrize("rail", sorted(AMOUNT))
def test_a_known_event_with_a_field_of_the_wrong_json_type_moves_nothing_and_never_gets_a_5xx(
    api: Api, processors: Processors, payments_options: PaymentsOptions, rail: str
) -> None:
    """Validly signed events of each type with an effect, one field its effect reads holding another JSON
    type (a list, an object, a number, a string, a boolean, null): `400 invalid_payload` or a 200, never a
    5xx. Nothing moves (no credit, no plan) when the wrong field is the amount, its currency or the kind
    of the payment; for
    another field (an id, a reference, metadata) at most the valid event's own effect."""
    cases = wrong_types(rail)

    def one(case: WrongType) -> None:
        delivery = crediting_delivery(api, processors, rail)
        if _json_type(_value_at(case.reads.build(delivery), case.path)) == case.kind:
            return  # the field's valid type: nothing wrong to send
        sent = delivery.with_event(case.event(delivery))
        answer = deliver(processors, sent, signed_headers(sent))
        what = f"{case.reads.event_type} with {'.'.join(case.path)} a {case.kind}"
        refused = answer.status_code == 400 and error_code(answer) == "invalid_payload"
        if answer.status_code != 200 and not refused:
            api.fail(
                IdempotencyFailure,
                observed=f"{what}: HTTP {answer.status_code} {answer.text[:200]}",
                expected="400 invalid_payload or a 200 no-op (a 5xx makes the processor retry for days)",
                event_ids=[delivery.event_id],
            )
        reads = case.reads
        if case.path in reads.decides or _moved(api, delivery) == (0, "free"):
            _ends(api, delivery, 0, "free", what)
        else:
            credit = delivery.amount_micros if reads.credits else 0
            _ends(api, delivery, credit, reads.tier, f"{what} (applied as the valid event)")

    @generated(payments_options, at_least=8, per_example=2)
    @given(case=st.sampled_from(cases))
    @example(case=[c for c in cases if c.kind == "list" and c.path in c.reads.amounts][-1])
    def check(case: WrongType) -> None:
        one(case)

    check()
    # always, whatever the sample: who the payment is for, as a container (a 500 in the reference once),
    # and a paid plan's amount as null or a boolean (once read as 0 or 1 paid, and the plan flipped)
    for case in cases:
        if (case.path[-1] in ("account_id", "plan") and case.kind in ("list", "object")) or (
            case.path in case.reads.amounts
            and case.reads.tier != "free"
            and case.kind in ("null", "bool")
        ):
            one(case)


def _moved(api: Api, delivery: Delivery) -> tuple[int, str]:
    """The account's balance and tier."""
    balance = int(api.account(delivery.account)["balance_micros"])
    return balance, str(api.billing(delivery.account).get("plan_tier"))


#: Amounts each rail's conversion to micros must refuse: finer than a micro, or beyond the contract.
UNCONVERTIBLE: dict[str, tuple[Any, ...]] = {
    "stripe": (MAX_MICROS // 10_000 + 1, 10**30),
    "xendit": (
        1.0000001,
        "1.0000001",
        MAX_MICROS // 10**6 + 1,
        (MAX_MICROS + 10_000) / 10**6,
        "1e30",
    ),
    "cdp": (str(MAX_MICROS + 1), str(10**40)),
}


@pytest.mark.parametrize(
    ("rail", "amount"),
    [(rail, amount) for rail, amounts in UNCONVERTIBLE.items() for amount in amounts],
)
def test_an_amount_finer_than_a_micro_or_beyond_the_contract_is_refused_without_a_5xx(
    api: Api, processors: Processors, rail: str, amount: Any
) -> None:
    """The crediting event with such an amount: `400 invalid_payload` or a 200 no-op, nothing credited."""
    delivery = crediting_delivery(api, processors, rail)
    mutation = Mutation("amount", AMOUNT[rail][0], amount, also=tuple(AMOUNT[rail][1:]))
    sent = delivery.with_event(mutation.apply(delivery.event))
    answer = deliver(processors, sent, signed_headers(sent))
    refused = answer.status_code == 400 and error_code(answer) == "invalid_payload"
    if answer.status_code != 200 and not refused:
        api.fail(
            IdempotencyFailure,
            observed=f"{rail} amount {amount!r}: HTTP {answer.status_code} {answer.text[:200]}",
            expected="400 invalid_payload or a 200 no-op (a 5xx makes the processor retry for days)",
            event_ids=[delivery.event_id],
        )
    _ends(api, delivery, 0, "free", f"{rail} amount {amount!r}")
