"""upgrade-tier-flip: a paid plan flips the tier, read from billing state (the truth surface, not a 200).

Modelled on PRIOR_ART.md §3 (the upgrade leg of a payment prober): mint a test-cohort account, check out a
plan on each subscription rail, let the fake processor charge it and deliver its signed webhooks, and read
`GET /v1/billing`: "webhook 200 but team tier did NOT advance" is the failure that matters. Duplicated and
reordered deliveries (a cancellation overtaking the payment it cancels) converge to the right tier. An
unsigned, wrongly signed, stale or tampered event is refused (400 with the contract's code, never 2xx) and
leaves the tier as it was; the same event validly signed then flips it, which proves the refusal was about
the signature. A validly signed paid event whose amount paid is not an amount (null, a boolean, a string,
a fractional or negative number, absent: generated) never flips the tier. The cohort account is always reaped, even when a check fails; reaping a real account is
refused (the guard is in the delete itself).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness.suites import _fixtures
from harness.suites._generation import generated
from harness.suites._processors import (
    Processors,
    stripe_invoice_paid,
    xendit_cycle_succeeded,
)
from harness.suites._support import Api, error_code, unique
from harness.suites.failures import ReapFailure, TierFlipFailure, WebhookSecurityFailure
from harness.suites.plugin import PaymentsOptions
from harness.target import RAILS

# the live suites' shared fixtures (harness/suites/_fixtures.py)
api = _fixtures.api
processors = _fixtures.processors


#: Rails with subscription checkout in the contract, and the plan each one is checked with.
PLANS = {"stripe": "pro", "xendit": "team"}
#: The codes a refused signature may carry (DESIGN.md webhook order).
_SIGNATURE_CODES = ("missing_signature_header", "webhook_signature_invalid")
#: The prober's security leg body (PRIOR_ART.md §3, leg 4), sent unsigned.
SECURITY_PROBE = {
    "event": "subscription.charged",
    "payload": {"synthetic": "payment-probe-security-leg-not-a-real-webhook"},
}


@contextmanager
def cohort(api: Api) -> Iterator[str]:
    """A test-cohort account, reaped when the block ends however it ends (PRIOR_ART.md §3: deferred reap)."""
    account = api.new_account(cohort=True)
    try:
        yield account
    finally:
        reaped = api.call("DELETE", f"/v1/accounts/{account}")
        if reaped.status_code not in (200, 204):
            api.fail(
                ReapFailure,
                observed=f"reaping the cohort account answered HTTP {reaped.status_code} {reaped.text[:200]}",
                expected="a test-cohort account is deleted (204)",
            )


def _tier(api: Api, account: str) -> tuple[str, str]:
    billing = api.billing(account)
    return str(billing.get("plan_tier")), str(billing.get("subscription_status"))


def _checkout(api: Api, account: str, rail: str) -> dict[str, Any]:
    response = api.call(
        "POST",
        "/v1/billing/checkout",
        json_body={"account_id": account, "plan": PLANS[rail], "rail": rail},
    )
    body = dict(api.expect(response, 201, TierFlipFailure, f"a {rail} checkout starts"))
    tier, _ = _tier(api, account)
    if tier != "free":
        api.fail(
            TierFlipFailure,
            observed=f"plan_tier {tier!r} right after checkout, before any payment",
            expected="the tier changes only when the processor's paid event arrives",
        )
    return body


def _pay(processors: Processors, rail: str, subscription: dict[str, Any]) -> str:
    """The processor charges the plan (and delivers its events); the processor's subscription id."""
    if rail == "stripe":
        session = processors.stripe_complete_checkout(str(subscription["checkout_ref"]))
        sub = session.get("subscription")
        return str(sub.get("id") if isinstance(sub, dict) else sub)
    plan_id = str(subscription["processor_subscription_id"])
    processors.xendit_charge_plan(plan_id)
    return plan_id


def _cancel(processors: Processors, rail: str, subscription_ref: str) -> None:
    """The processor ends the subscription (and delivers the cancellation)."""
    if rail == "stripe":
        processors.stripe_cancel_subscription(subscription_ref)
    else:
        processors.xendit_deactivate_plan(subscription_ref)


#: Event types of subscriptions, per rail: the deliveries a failed flip is about.
_SUBSCRIPTION_EVENTS = ("checkout.session.", "invoice.", "customer.subscription.", "recurring.")


def _acknowledged(processors: Processors, rail: str) -> str:
    """What the target answered to the fake's latest subscription deliveries, for the failure message."""
    attempts = [
        a
        for a in processors.handle(rail).deliveries().get("attempts", [])
        if str(a.get("event_type") or "").startswith(_SUBSCRIPTION_EVENTS)
    ][-6:]
    return ", ".join(f"{a.get('event_type')}→{a.get('status') or a.get('error')}" for a in attempts)


def _expect_tier(
    api: Api, processors: Processors, rail: str, account: str, tier: str, why: str
) -> None:
    got, status = _tier(api, account)
    if got != tier:
        api.fail(
            TierFlipFailure,
            observed=(
                f"plan_tier {got!r} (subscription_status {status!r}); the target answered the "
                f"processor's deliveries: {_acknowledged(processors, rail) or 'none'}"
            ),
            expected=f"plan_tier {tier!r} {why}",
        )


def _subscription_rail(processors: Processors, rail: str) -> None:
    processors.handle(rail)  # skips when the target has no fake for this rail
    processors.api.lacking(f"{rail}_checkout", f"plans sold on {rail}")


# ---------------------------------------------------------------------------------------- the flip


@pytest.mark.parametrize("rail", list(PLANS))
def test_a_paid_plan_flips_the_tier(api: Api, processors: Processors, rail: str) -> None:
    """Checkout, the processor charges it and delivers its signed events: billing shows the plan."""
    _subscription_rail(processors, rail)
    with cohort(api) as account:
        subscription = _checkout(api, account, rail)
        _pay(processors, rail, subscription)
        processors.drain(rail)
        _expect_tier(
            api, processors, rail, account, PLANS[rail], "once the processor charged the plan"
        )
        if api.billing(account).get("subscription_status") != "active":
            api.fail(
                TierFlipFailure,
                observed=f"subscription_status {api.billing(account).get('subscription_status')!r}",
                expected="subscription_status 'active' after the first paid cycle",
            )


@pytest.mark.parametrize("rail", list(PLANS))
def test_duplicated_subscription_events_converge_to_the_paid_tier(
    api: Api, processors: Processors, rail: str
) -> None:
    """Every event delivered twice: the plan's tier, and one invoice (where the target lists invoices)."""
    _subscription_rail(processors, rail)
    with cohort(api) as account:
        subscription = _checkout(api, account, rail)
        with processors.delivery(rail, "duplicated"):
            _pay(processors, rail, subscription)
            processors.drain(rail)
        _expect_tier(api, processors, rail, account, PLANS[rail], "after duplicated deliveries")
        if "invoices" in api.lacked():
            return  # its profile says it has no invoice list: the tier is what it shows
        invoices = api.invoices(account)
        if len(invoices) != 1:
            api.fail(
                TierFlipFailure,
                observed=f"{len(invoices)} invoices: {[i.get('processor_ref') for i in invoices]}",
                expected="one invoice for one paid cycle, however often it was reported",
            )


@pytest.mark.parametrize("rail", list(PLANS))
def test_reordered_subscription_events_converge(
    api: Api, processors: Processors, rail: str
) -> None:
    """Events delivered last first: a paid plan still flips; a plan paid then canceled ends free even
    though the cancellation arrives before the payment it cancels."""
    _subscription_rail(processors, rail)
    with cohort(api) as account:
        subscription = _checkout(api, account, rail)
        with processors.delivery(rail, "reordered") as handle:
            _pay(processors, rail, subscription)
            handle.release()
            processors.drain(rail)
        _expect_tier(
            api, processors, rail, account, PLANS[rail], "whatever order the events came in"
        )
    with cohort(api) as account:
        subscription = _checkout(api, account, rail)
        with processors.delivery(rail, "reordered") as handle:
            _cancel(processors, rail, _pay(processors, rail, subscription))
            handle.release()
            processors.drain(rail)
        _expect_tier(
            api,
            processors,
            rail,
            account,
            "free",
            "after the plan was canceled (cancellation first)",
        )


# ---------------------------------------------------------------------------------------- what is recorded


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _charged(
    processors: Processors, rail: str, subscription_ref: str
) -> dict[str, tuple[Any, str]]:
    """What the processor charged for the subscription, by its invoice (Xendit: cycle) id: the amount in
    major units and the currency, lower case."""
    if rail == "stripe":
        page = processors.stripe_retrieve("/v1/invoices", subscription=subscription_ref)
        return {
            str(i["id"]): (Decimal(int(i["amount_paid"])) / 100, str(i["currency"]).lower())
            for i in page["data"]
            if i.get("status") == "paid"
        }
    page = processors.xendit_retrieve(f"/recurring/plans/{subscription_ref}/cycles")
    return {
        str(c["id"]): (_decimal(c["amount"]), str(c["currency"]).lower())
        for c in page["data"]
        if c.get("status") == "SUCCEEDED"
    }


@pytest.mark.parametrize("rail", list(PLANS))
def test_the_paid_invoice_records_the_amount_and_currency_the_processor_charged(
    api: Api, processors: Processors, rail: str
) -> None:
    """Once the processor charged the plan (Stripe `invoice.paid`, Xendit `recurring.cycle.succeeded`),
    `GET /v1/billing/invoices` lists that invoice with exactly the amount and currency paid: not negated,
    not in minor units, not another currency."""
    _subscription_rail(processors, rail)
    with cohort(api) as account:
        subscription = _checkout(api, account, rail)
        subscription_ref = _pay(processors, rail, subscription)
        processors.drain(rail)
        charged = _charged(processors, rail, subscription_ref)
        recorded = {
            str(i.get("processor_ref")): (_decimal(i.get("amount")), str(i.get("currency")).lower())
            for i in api.invoices(account)
        }
        if not charged or recorded != charged:
            api.fail(
                TierFlipFailure,
                observed=f"invoices listed {recorded}",
                expected=f"the invoices the {rail} processor charged: {charged} (amount, currency)",
            )


def _payment_url(processors: Processors, rail: str, subscription: dict[str, Any]) -> str | None:
    """The URL the processor gave the checkout for the customer to pay at (Stripe: the session's `url`;
    Xendit: the plan's first action `url`)."""
    if rail == "stripe":
        session = processors.stripe_retrieve(
            f"/v1/checkout/sessions/{subscription.get('checkout_ref')}"
        )
        url = session.get("url")
        return str(url) if url else None
    plan = processors.xendit_retrieve(
        f"/recurring/plans/{subscription.get('processor_subscription_id')}"
    )
    urls = [a.get("url") for a in plan.get("actions") or [] if isinstance(a, dict)]
    return next((str(u) for u in urls if u), None)


@pytest.mark.parametrize("rail", list(PLANS))
def test_the_checkout_answer_carries_the_processors_payment_url(
    api: Api, processors: Processors, rail: str
) -> None:
    """A checkout answers the URL the processor returned for the customer to pay at (`checkout_url`):
    without it the customer has nowhere to pay, and the plan is never charged."""
    _subscription_rail(processors, rail)
    with cohort(api) as account:
        subscription = _checkout(api, account, rail)
        url = _payment_url(processors, rail, subscription)
        if not url or subscription.get("checkout_url") != url:
            api.fail(
                TierFlipFailure,
                observed=f"checkout_url {subscription.get('checkout_url')!r}",
                expected=f"the URL the {rail} processor returned to pay at: {url!r}",
            )


# ---------------------------------------------------------------------------------------- signatures


#: Marks an amount field left out of the paid event altogether.
ABSENT = "<absent>"
#: The paid event's own, valid amount.
_VALID = object()


def _paid_event(api: Api, rail: str, account: str, amount: Any = _VALID) -> tuple[bytes, str]:
    """A paid-plan event for `account` in `rail`'s wire format, and its event id; `amount` (when given)
    replaces the amount paid (Stripe `amount_paid`, Xendit `data.amount`), :data:`ABSENT` drops it."""
    tag = unique("flip")
    if rail == "stripe":
        event = stripe_invoice_paid(
            account_id=account,
            plan=PLANS[rail],
            subscription_ref=f"sub_{tag}",
            invoice_ref=f"in_{tag}",
            amount_cents=2_000,
            account_key=api.account_key(),
        )
        fields = event["data"]["object"]
        key = "amount_paid"
    else:
        event = xendit_cycle_succeeded(
            account_id=account,
            plan=PLANS[rail],
            plan_ref=f"repl_{tag}",
            cycle_ref=f"cyc_{tag}",
            amount="100",
        )
        fields, key = event["data"], "amount"
    if amount is not _VALID:
        fields[key] = amount
        if amount == ABSENT:
            del fields[key]
    return json.dumps(event, separators=(",", ":")).encode(), str(event["id"])


def _finite_non_negative(value: Any) -> bool:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return False
    return number.is_finite() and number >= 0


_CONTAINERS = st.lists(st.integers(0, 5_000), max_size=2) | st.dictionaries(
    st.text(max_size=4), st.integers(0, 5_000), max_size=2
)


def unpaid_amounts(rail: str) -> st.SearchStrategy[Any]:
    """Amounts no processor states for a paid plan. Stripe's `amount_paid` is a non-negative JSON integer
    of cents: null, a boolean, any string (digits too), a fractional number, a negative one, a container
    or no field at all is not one. (A float with no fraction, 2000.0, is left out: a JSON parser may not
    tell it from 2000.) Xendit's `amount` is a number or numeric string in major units: null, a boolean,
    words, a negative or non-finite number, a container or no field is not one."""
    common = st.one_of(st.none(), st.booleans(), _CONTAINERS, st.just(ABSENT))
    negative = st.integers(max_value=-1) | st.floats(max_value=-0.01, allow_infinity=False)
    if rail == "stripe":
        fractional = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f))
        return st.one_of(common, st.text(max_size=8), fractional, negative)
    words = st.text(max_size=8).filter(lambda t: not _finite_non_negative(t))
    return st.one_of(common, words, negative, negative.map(str))


@pytest.mark.parametrize("rail", list(PLANS))
def test_a_paid_event_whose_amount_is_not_an_amount_never_flips_the_tier(
    api: Api, processors: Processors, payments_options: PaymentsOptions, rail: str
) -> None:
    """A validly signed paid-plan event (Stripe `invoice.paid`, Xendit `recurring.cycle.succeeded`) whose
    amount paid is null, a boolean, a string, a fractional or negative number, a container or absent
    (generated): `400 invalid_payload` or a 200 no-op, never a 5xx, and the tier stays free. A service that
    flips on an amount it cannot read upgrades a plan nobody was shown to pay for."""
    _subscription_rail(processors, rail)

    @generated(payments_options, at_least=2)
    @given(amount=unpaid_amounts(rail))
    @example(amount=None)
    @example(amount=True)
    @example(amount="2000" if rail == "stripe" else "-100")
    @example(amount=2000.5 if rail == "stripe" else -100.0)
    @example(amount=-2000 if rail == "stripe" else "NaN")
    @example(amount=ABSENT)
    def check(amount: Any) -> None:
        with cohort(api) as account:
            body, event_id = _paid_event(api, rail, account, amount)
            answer = processors.deliver(rail, body, processors.signed(rail, body))
            refused = answer.status_code == 400 and error_code(answer) == "invalid_payload"
            tier, _ = _tier(api, account)
            if (answer.status_code != 200 and not refused) or tier != "free":
                api.fail(
                    TierFlipFailure,
                    observed=f"{rail} paid event with amount {json.dumps(amount)[:60]}: HTTP "
                    f"{answer.status_code} {error_code(answer)}; plan_tier {tier!r}",
                    expected="400 invalid_payload or a 200 no-op, and plan_tier still 'free'",
                    event_ids=[event_id],
                )

    check()


@pytest.mark.parametrize("rail", list(PLANS))
def test_an_unsigned_or_wrongly_signed_event_is_refused_and_the_tier_is_unchanged(
    api: Api, processors: Processors, rail: str
) -> None:
    """Unsigned, signed with another secret, and (Stripe) signed for another body or too long ago: 400 with
    the contract's code and the tier unchanged; the same event validly signed then flips it."""
    _subscription_rail(processors, rail)
    with cohort(api) as account:
        body, event_id = _paid_event(api, rail, account)
        other, _ = _paid_event(api, rail, account)
        forged: list[tuple[str, dict[str, str], str]] = [
            ("unsigned", {"content-type": "application/json"}, "missing_signature_header"),
            (
                "signed with another secret",
                processors.signed(rail, body, secret="whsec_not_the_target_secret"),
                "webhook_signature_invalid",
            ),
        ]
        if rail == "stripe":
            # an HMAC over the body and a timestamp (PROCESSORS.md 1.1); Xendit's static callback token
            # signs neither (2.1), so a tampered body or an old delivery cannot be told apart there
            stale = int(time.time()) - 600  # twice stripe-python's 300 s tolerance
            forged += [
                (
                    "signed for another body",
                    processors.signed(rail, other),
                    "webhook_signature_invalid",
                ),
                (
                    "signed ten minutes ago",
                    processors.signed(rail, body, timestamp=stale),
                    "webhook_signature_invalid",
                ),
            ]
        wrong = []
        for what, headers, code in forged:
            response = processors.deliver(rail, body, headers)
            if response.status_code != 400 or error_code(response) != code:
                wrong.append(
                    f"{what} → {response.status_code} {error_code(response)} (want 400 {code})"
                )
        tier, _ = _tier(api, account)
        if wrong or tier != "free":
            api.fail(
                WebhookSecurityFailure,
                observed=f"{'; '.join(wrong) or 'refusals as expected'}; plan_tier now {tier!r}",
                expected="every forged delivery refused with 400 and its code, the tier still 'free'",
                event_ids=[event_id],
            )
        genuine = processors.deliver(rail, body, processors.signed(rail, body))
        api.expect(genuine, 200, TierFlipFailure, "the same event validly signed is accepted")
        _expect_tier(api, processors, rail, account, PLANS[rail], "once the genuine event arrived")


def test_the_probers_unsigned_security_payload_is_refused_on_every_rail(api: Api) -> None:
    """The payment prober's security probe, unsigned, on every rail: 400 with a signature code, never 2xx
    (PRIOR_ART.md §3 leg 4: 2xx is a security failure, any other status than 400 a failure)."""
    body = json.dumps(SECURITY_PROBE).encode()
    accepted, wrong = [], []
    for rail in RAILS:
        response = api.call(
            "POST",
            f"/v1/payments/webhook/{rail}",
            content=body,
            headers={"content-type": "application/json"},
        )
        code = error_code(response)
        if 200 <= response.status_code < 300:
            accepted.append(f"{rail} → {response.status_code}")
        elif response.status_code != 400 or code not in _SIGNATURE_CODES:
            wrong.append(f"{rail} → {response.status_code} {code}")
    if accepted:
        api.fail(
            WebhookSecurityFailure,
            observed=f"SECURITY: unsigned payload ACCEPTED: {'; '.join(accepted)}",
            expected="an unsigned delivery is refused on every rail",
        )
    if wrong:
        api.fail(
            WebhookSecurityFailure,
            observed=f"the unsigned probe got {'; '.join(wrong)}",
            expected="400 missing_signature_header (or webhook_signature_invalid) on every rail",
        )


# ---------------------------------------------------------------------------------------- cohort


def test_a_cohort_account_is_reaped_even_when_a_check_fails(api: Api) -> None:
    """A failing check inside the cohort block still deletes the account."""
    created: list[str] = []
    with pytest.raises(TierFlipFailure), cohort(api) as account:
        created.append(account)
        raise TierFlipFailure(observed="a deliberate failure", expected="the account reaped anyway")
    response = api.call("GET", f"/v1/accounts/{created[0]}")
    if response.status_code != 404:
        api.fail(
            ReapFailure,
            observed=f"the cohort account still answers HTTP {response.status_code} after the reap",
            expected="404 account_not_found: the cohort account is gone",
        )


def test_reaping_a_non_cohort_account_is_refused(api: Api) -> None:
    """`DELETE` of a real account is 409 `not_test_cohort` and the account is still there."""
    account = api.new_account(cohort=False)
    response = api.call("DELETE", f"/v1/accounts/{account}")
    still = api.call("GET", f"/v1/accounts/{account}")
    if (
        response.status_code != 409
        or error_code(response) != "not_test_cohort"
        or still.status_code != 200
    ):
        api.fail(
            ReapFailure,
            observed=(
                f"DELETE answered {response.status_code} {error_code(response)}; "
                f"the account then answers {still.status_code}"
            ),
            expected="409 not_test_cohort and the real account untouched",
        )
