"""Each defective variant of the reference swaps exactly one component, and every defect class the suites
must catch has a variant."""

from __future__ import annotations

import dataclasses

import pytest

from harness.reference.components import Components
from harness.selftest import CLEAN, VARIANTS, variant

#: The defect classes of issue 5 and PRIOR_ART.md, each with the variant that stands for it.
REQUIRED = {
    "settle before the route finishes": "settle-before-route-finishes",
    "settle twice": "settle-twice",
    "no settle when the response ends outside the request context": "no-settle-outside-request-context",
    "a settle timeout counted as a failure": "settle-timeout-counted-as-failure",
    "a webhook answered 200 without flipping the tier": "webhook-200-without-tier-flip",
    "an unsigned webhook accepted": "unsigned-webhook-accepted",
    "a dormant flag that still calls a processor": "dormant-flag-still-calls-processor",
    "a duplicate webhook credited twice": "duplicate-payment-credited-twice",
    "a margin recorded unclamped": "margin-recorded-unclamped",
    "a charge for zero cost": "zero-cost-charged",
    "an outbound retry with a new idempotency key": "retry-with-new-idempotency-key",
    "§1.1 streaming path differs from the buffered one": "stream-path-never-settles",
    "§1.2 request data silently dropped": "client-idempotency-key-dropped",
    "§1.3 unknown rail misreported": "unknown-rail-misreported",
    "§1.6 duplicate outcomes give arbitrary money": "duplicate-outcome-overwrites",
    "§1.7 rail errors escape unhandled": "rail-error-unhandled",
    "§1.8 live top-up says payments_not_live": "live-topup-says-not-live",
    "§1.9 live webhook stub says bad signature": "webhook-stub-says-bad-signature",
    "§1.10 live reconcile raises": "reconcile-raises",
    "§3 reaping a real account": "reap-unguarded",
    # issue 11's blind-spot classes (1 authenticity, 2 every event, 3 limits and refusals)
    "1: a forged CDP webhook credited": "cdp-signature-prefix-accepted",
    "1: a stale or future CDP delivery accepted": "cdp-replay-window-unchecked",
    "1: a forged Xendit callback credited": "xendit-token-presence-only",
    "1: a piece of the Xendit token accepted": "xendit-token-substring",
    "1: a stale Stripe event accepted": "stripe-tolerance-off",
    "2: IDR credited as USD": "idr-credited-as-usd",
    "2: a zero-decimal currency credited as cents": "zero-decimal-currency-as-cents",
    "2: the customer-balance sign inverted": "customer-balance-sign-inverted",
    "2: invoice.payment_failed upgrades": "invoice-payment-failed-upgrades",
    "2: a failed cycle upgrades": "failed-cycle-upgrades",
    "2: a failed settlement credited": "failed-settlement-credited",
    "2: Stripe's cents credited as dollars": "stripe-cents-credited-as-dollars",
    "3: a charge overdraws": "charge-overdraws",
    "3: an Idempotency-Key reused with another amount replays": "idempotency-key-reuse-replays",
    "3: a reconcile dry run moves money": "reconcile-dry-run-moves-money",
    "3: an x402 top-up trusts the client's payment": "x402-top-up-trusts-the-client",
    "3: the margin applied twice": "margin-applied-twice",
}


def _differences(components: Components) -> list[str]:
    clean = Components()
    return [
        f.name
        for f in dataclasses.fields(Components)
        if getattr(components, f.name) != getattr(clean, f.name)
    ]


@pytest.mark.parametrize("candidate", VARIANTS, ids=[v.name for v in VARIANTS])
def test_each_variant_swaps_exactly_the_component_it_names(candidate: object) -> None:
    assert isinstance(candidate, type(CLEAN))
    expected = [candidate.component] if candidate.component else []
    assert _differences(candidate.components()) == expected


def test_every_required_defect_class_has_a_variant() -> None:
    for defect, name in REQUIRED.items():
        assert not variant(name).clean, defect


def test_variant_names_are_unique_and_unknown_names_are_refused() -> None:
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)
    with pytest.raises(KeyError, match="unknown variant 'nope'"):
        variant("nope")
