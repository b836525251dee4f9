"""The defective variants of the reference service: each one swaps exactly one component.

A :class:`Variant` names a defect class (from PRIOR_ART.md §1's reviewer findings, §2's settle-at-close
tests, §3's prober, and the issue's list), says where it comes from, and builds the `Components` with its one
defective part (:mod:`harness.selftest.defects`). `CLEAN` is the correct service: the suites must pass it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.reference.components import Components, default_adapter_factories
from harness.reference.routes import accounts, admin, charges, payments, webhooks
from harness.reference.routes.schemas import ReconcileResult

from .defects import events, limits, money, rails, routes, sessions, verification

__all__ = ["ADVERSARIAL", "CLEAN", "VARIANTS", "Variant", "variant"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """One build of the reference service: the clean one, or one component swapped for a defect."""

    name: str
    defect: str
    source: str
    #: the `Components` field that differs from the clean service ("" for the clean one)
    component: str = ""
    build: Callable[[], dict[str, Any]] = field(default=dict)

    def components(self) -> Components:
        """The components of this variant (every field but `component` is the correct part)."""
        return Components(**self.build())

    @property
    def clean(self) -> bool:
        """Whether this is the correct service."""
        return not self.component


def _adapters(**replaced: Any) -> dict[str, Any]:
    return {"adapter_factories": {**default_adapter_factories(), **replaced}}


def _router(original: Any, name: str, endpoint: Any, **route: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {"routers": routes.routers_with(original, name, endpoint, **route)()}


CLEAN = Variant(name="clean", defect="none: the correct reference service", source="DESIGN.md")

VARIANTS: tuple[Variant, ...] = (
    CLEAN,
    # -- settle at close (issue list; PRIOR_ART.md §2)
    Variant(
        name="settle-before-route-finishes",
        defect="settles at the first charge, while the route still runs, for what was spent so far",
        source="issue 5; PRIOR_ART.md §2 (settle after the route: call order ['route','settle'])",
        component="session_class",
        build=lambda: {"session_class": sessions.EagerSettleSession},
    ),
    Variant(
        name="settle-twice",
        defect="no re-entrancy guard: a response that closes twice settles twice",
        source="issue 5; PRIOR_ART.md §2 (a charged session closed twice makes exactly 1 settle call)",
        component="session_class",
        build=lambda: {"session_class": sessions.ReentrantSession},
    ),
    Variant(
        name="no-settle-outside-request-context",
        defect="the settle is reached only from the route's own flow: a client that hangs up mid-stream "
        "ends the response elsewhere and nothing is settled",
        source="issue 5; PRIOR_ART.md §2 (res.end fired outside the ALS chain still settles once)",
        component="stream_response_class",
        build=lambda: {"stream_response_class": sessions.NormalEndOnlyStreamResponse},
    ),
    Variant(
        name="stream-path-never-settles",
        defect="buffered responses settle, streamed ones never do",
        source="PRIOR_ART.md §1 defect 1 (behaviour held on the buffered path only)",
        component="stream_response_class",
        build=lambda: {"stream_response_class": sessions.StreamWithoutSettleResponse},
    ),
    Variant(
        name="settle-timeout-counted-as-failure",
        defect="a slow settle is aborted before its timeout and counted failed, though it may complete",
        source="issue 5; PRIOR_ART.md §2 (settle_unconfirmed_at_close; the in-flight settle is not aborted)",
        component="session_class",
        build=lambda: {"session_class": sessions.TimeoutIsFailureSession},
    ),
    # -- webhooks and tiers (issue list; PRIOR_ART.md §1, §3)
    Variant(
        name="webhook-200-without-tier-flip",
        defect="a paid subscription event is answered 200 'applied' but the tier never changes",
        source="issue 5; PRIOR_ART.md §3 (webhook 200 but team tier did NOT advance)",
        component="apply_effects",
        build=lambda: {"apply_effects": money.apply_without_tier_flip},
    ),
    Variant(
        name="unsigned-webhook-accepted",
        defect="a Stripe delivery without a Stripe-Signature header is processed",
        source="issue 5; PRIOR_ART.md §3 (SECURITY: unsigned payload ACCEPTED)",
        component="adapter_factories",
        build=lambda: _adapters(stripe=rails.stripe_factory(rails.UnsignedAcceptingStripeAdapter)),
    ),
    Variant(
        name="webhook-stub-says-bad-signature",
        defect="live, Xendit verification is an unwired stub that refuses everything as a bad signature",
        source="PRIOR_ART.md §1 defect 9",
        component="adapter_factories",
        build=lambda: _adapters(xendit=rails.xendit_factory(rails.StubVerifyXenditAdapter)),
    ),
    Variant(
        name="duplicate-payment-credited-twice",
        defect="payments deduped per event, not per payment: a payment reported twice is credited twice",
        source="issue 5 (a duplicate webhook credited twice); PROCESSORS.md 4 (duplicates by design)",
        component="apply_effects",
        build=lambda: {"apply_effects": money.apply_credit_per_event},
    ),
    Variant(
        name="unknown-rail-misreported",
        defect="the webhook route looks for a signature header before the rail: an unknown rail answers "
        "400 missing_signature_header",
        source="PRIOR_ART.md §1 defect 3",
        component="routers",
        build=_router(
            webhooks.router, "receive_webhook", routes.webhook_header_first, methods=["POST"]
        ),
    ),
    # -- the master flag and error codes (issue list; PRIOR_ART.md §1)
    Variant(
        name="dormant-flag-still-calls-processor",
        defect="the processor path forgets the live check: dormant top-ups call processors and dormant "
        "webhooks apply",
        source="issue 5; PRIOR_ART.md §1 (test_payments_flag_off_inertness)",
        component="state_class",
        build=lambda: {"state_class": routes.LeakyDormantState},
    ),
    Variant(
        name="live-topup-says-not-live",
        defect="live, the CDP top-up still answers payments_not_live while status says live",
        source="PRIOR_ART.md §1 defect 8",
        component="state_class",
        build=lambda: {"state_class": routes.StubRailState},
    ),
    # -- money (issue list; PRIOR_ART.md §1)
    Variant(
        name="margin-recorded-unclamped",
        defect="the charge records the caller's raw margin while the amount used the clamped one",
        source="issue 5; PRIOR_ART.md §1 defect 4",
        component="pricing",
        build=lambda: {"pricing": money.price_recording_requested_margin},
    ),
    Variant(
        name="zero-cost-charged",
        defect="ceil written as floor + 1: a zero cost is charged one micro and reaches the ledger",
        source="issue 5; PRIOR_ART.md §1 defect 5",
        component="pricing",
        build=lambda: {"pricing": money.price_ceil_as_floor_plus_one},
    ),
    Variant(
        name="float-rounding",
        defect="the price goes through a float factor (ceil(100 * 1.1) = 111)",
        source="issue 5 (no float rounding anywhere); DESIGN.md Money",
        component="pricing",
        build=lambda: {"pricing": money.price_in_float},
    ),
    Variant(
        name="margin-not-clamped",
        defect="the configured margin clamp is ignored: a negative margin charges below cost",
        source="PRIOR_ART.md §1 (margin clamped to [min, max]; negative margin goes to min)",
        component="pricing",
        build=lambda: {"pricing": money.price_without_clamp},
    ),
    Variant(
        name="duplicate-outcome-overwrites",
        defect="a second outcome for one inference overwrites the first: the charged cost is arbitrary",
        source="PRIOR_ART.md §1 defect 6",
        component="routers",
        build=_router(
            charges.router,
            "record_outcome",
            routes.record_outcome_last_wins,
            methods=["POST"],
            status_code=201,
        ),
    ),
    # -- outbound calls (issue list; PRIOR_ART.md §1)
    Variant(
        name="retry-with-new-idempotency-key",
        defect="Xendit retries after a fault carry a new idempotency key each",
        source="issue 5 (an outbound retry with a new idempotency key)",
        component="adapter_factories",
        build=lambda: _adapters(xendit=rails.xendit_factory(rails.FreshKeyXenditAdapter)),
    ),
    Variant(
        name="client-idempotency-key-dropped",
        defect="the client's Idempotency-Key never reaches the top-up: each repeat is a new top-up",
        source="PRIOR_ART.md §1 defect 2 (request data silently lost between layers)",
        component="routers",
        build=_router(
            payments.router,
            "start_topup",
            routes.topup_dropping_client_key,
            methods=["POST"],
            status_code=201,
        ),
    ),
    Variant(
        name="rail-error-unhandled",
        defect="a Xendit 5xx escapes as an unhandled exception (500), with no retry",
        source="PRIOR_ART.md §1 defect 7",
        component="adapter_factories",
        build=lambda: _adapters(xendit=rails.xendit_factory(rails.UnmappedErrorXenditAdapter)),
    ),
    Variant(
        name="reconcile-raises",
        defect="Stripe reconciliation raises NotImplementedError instead of answering",
        source="PRIOR_ART.md §1 defect 10",
        component="adapter_factories",
        build=lambda: _adapters(stripe=rails.stripe_factory(rails.ReconcileRaisesStripeAdapter)),
    ),
    # -- synthetic cohorts (PRIOR_ART.md §3)
    Variant(
        name="reap-unguarded",
        defect="DELETE of an account reaps real accounts too: the test-cohort guard is missing",
        source="PRIOR_ART.md §3 (DELETE ... AND is_test_cohort = true)",
        component="routers",
        build=_router(
            accounts.router,
            "delete_account",
            routes.delete_any_account,
            methods=["DELETE"],
            status_code=204,
        ),
    ),
)

#: Issue 11's blind-spot classes 1-3: defects written as a new team would, each on one component.
ADVERSARIAL: tuple[Variant, ...] = (
    # -- class 1: authenticity on every rail
    Variant(
        name="cdp-signature-prefix-accepted",
        defect="the Hook0 signature is compared only as far as the sender's text goes: a truncated or "
        "prefix signature credits a forged CDP settlement",
        source="issue 11 class 1 (forged CDP webhook credited)",
        component="adapter_factories",
        build=lambda: _adapters(
            cdp=verification.cdp_factory(verification.PrefixComparingCdpAdapter)
        ),
    ),
    Variant(
        name="cdp-replay-window-unchecked",
        defect="the Hook0 timestamp is never checked: stale and future-dated deliveries verify",
        source="issue 11 class 1 (stale and future timestamps)",
        component="adapter_factories",
        build=lambda: _adapters(cdp=verification.cdp_factory(verification.UntimedCdpAdapter)),
    ),
    Variant(
        name="xendit-token-presence-only",
        defect="any x-callback-token is accepted: a forged Xendit callback credits",
        source="issue 11 class 1 (forged Xendit webhook credited)",
        component="adapter_factories",
        build=lambda: _adapters(
            xendit=rails.xendit_factory(verification.PresentTokenXenditAdapter)
        ),
    ),
    Variant(
        name="xendit-token-substring",
        defect="the callback token is checked with `in`: any piece of the right token passes",
        source="issue 11 class 1 (prefix, suffix, substring of the right token)",
        component="adapter_factories",
        build=lambda: _adapters(
            xendit=rails.xendit_factory(verification.SubstringTokenXenditAdapter)
        ),
    ),
    Variant(
        name="stripe-tolerance-off",
        defect="stripe-python called with tolerance=None: a captured event replays forever",
        source="issue 11 class 1 (stale timestamps)",
        component="adapter_factories",
        build=lambda: _adapters(stripe=rails.stripe_factory(verification.UntimedStripeAdapter)),
    ),
    # -- class 2: every event
    Variant(
        name="idr-credited-as-usd",
        defect="a paid Xendit invoice's amount is credited as USD whatever its currency",
        source="issue 11 class 2 (an IDR amount credited as USD)",
        component="adapter_factories",
        build=lambda: _adapters(xendit=rails.xendit_factory(events.CurrencyBlindXenditAdapter)),
    ),
    Variant(
        name="zero-decimal-currency-as-cents",
        defect="Stripe cash-balance amounts are read as US cents whatever the currency (JPY, IDR)",
        source="issue 11 class 2 (zero-decimal currencies)",
        component="adapter_factories",
        build=lambda: _adapters(stripe=rails.stripe_factory(events.CurrencyBlindStripeAdapter)),
    ),
    Variant(
        name="customer-balance-sign-inverted",
        defect="a rise of the Stripe customer balance (what the customer owes) is credited as money in",
        source="issue 11 class 2 (a Stripe customer-balance sign inverted)",
        component="adapter_factories",
        build=lambda: _adapters(stripe=rails.stripe_factory(events.BalanceSignStripeAdapter)),
    ),
    Variant(
        name="stripe-cents-credited-as-dollars",
        defect="Stripe's net_amount (integer cents) is read as dollars: a 10.00 USD transfer credits "
        "1,000 USD",
        source="issue 11 class 2 (each processor's amount convention; minor units read as major)",
        component="adapter_factories",
        build=lambda: _adapters(stripe=rails.stripe_factory(events.CentsAsDollarsStripeAdapter)),
    ),
    Variant(
        name="invoice-payment-failed-upgrades",
        defect="invoice.payment_failed, voided or uncollectible raise the plan like invoice.paid",
        source="issue 11 class 2 (invoice.payment_failed upgraded a plan)",
        component="adapter_factories",
        build=lambda: _adapters(stripe=rails.stripe_factory(events.FailedInvoiceStripeAdapter)),
    ),
    Variant(
        name="failed-cycle-upgrades",
        defect="every Xendit recurring.cycle.* callback, failed ones too, raises the plan",
        source="issue 11 class 2 (cycle failed)",
        component="adapter_factories",
        build=lambda: _adapters(xendit=rails.xendit_factory(events.FailedCycleXenditAdapter)),
    ),
    Variant(
        name="plan-paid-whatever-the-amount",
        defect="a paid-plan event (Stripe invoice.paid, Xendit recurring.cycle.succeeded) raises the plan "
        "whatever its amount paid says: null, a boolean, a string, a fraction, negative or absent",
        source="issue 11 class 2 (malformed bodies never move anything; the amount_paid gap)",
        component="adapter_factories",
        build=lambda: _adapters(
            stripe=rails.stripe_factory(events.AmountBlindStripeAdapter),
            xendit=rails.xendit_factory(events.AmountBlindXenditAdapter),
        ),
    ),
    Variant(
        name="failed-settlement-credited",
        defect="a CDP settlement event is credited whatever its type (failed) or asset",
        source="issue 11 class 2 (failures included)",
        component="adapter_factories",
        build=lambda: _adapters(cdp=verification.cdp_factory(events.AnySettlementCdpAdapter)),
    ),
    # -- class 3: limits and refusals
    Variant(
        name="charge-overdraws",
        defect="the charge checks the balance against the cost, not the charged amount: it overdraws",
        source="issue 11 class 3 (a charge let the balance go below zero)",
        component="routers",
        build=_router(charges.router, "charge", limits.charge_checking_cost_only, methods=["POST"]),
    ),
    Variant(
        name="charge-replay-flag-inverted",
        defect="POST /v1/charges answers a first charge replayed=true and every repeat replayed=false: a "
        "client that books a charge when it is not a replay books every retry",
        source="issue 11 class 3 (mutation testing of routes/charges.py: a zero-cost charge answered as "
        "a replay survived every suite)",
        component="routers",
        build=_router(
            charges.router, "charge", limits.charge_with_replayed_inverted, methods=["POST"]
        ),
    ),
    Variant(
        name="margin-applied-twice",
        defect="the margin is multiplied in twice: the marked-up amount is marked up again (1000 at 10% "
        "charges 1210) while the record shows the cost and the margin",
        source="issue 11 class 3 (margin at and beyond both clamp ends; the charge agrees with its record)",
        component="pricing",
        build=lambda: {"pricing": money.price_with_margin_twice},
    ),
    Variant(
        name="idempotency-key-reuse-replays",
        defect="an Idempotency-Key reused with another amount replays the first top-up",
        source="issue 11 class 3 (Stripe's rule: a reused key with another body is an error)",
        component="routers",
        build=_router(
            payments.router,
            "start_topup",
            limits.topup_replaying_reused_key,
            methods=["POST"],
            status_code=201,
        ),
    ),
    Variant(
        name="reconcile-dry-run-moves-money",
        defect="reconcile repairs what it finds even on a dry run",
        source="issue 11 class 3 (a reconcile dry run moved money)",
        component="routers",
        build=_router(
            admin.router,
            "reconcile",
            limits.reconcile_ignoring_dry_run,
            methods=["POST"],
            response_model=ReconcileResult,
        ),
    ),
    Variant(
        name="x402-top-up-trusts-the-client",
        defect="/pay verifies the payment against requirements rebuilt from the payment itself: an "
        "underpaid or misdirected payment is credited",
        source="issue 11 class 3 (x402 payments that do not match the requirements never credit)",
        component="adapter_factories",
        build=lambda: _adapters(cdp=verification.cdp_factory(limits.ClientTrustingCdpAdapter)),
    ),
    Variant(
        name="x402-decline-answered-401",
        defect="/pay answers a declined x402 payment 401 instead of 402 payment_declined with the "
        "requirements: nothing is credited, but an x402 client never pays again",
        source="issue 11 class 3 (refusals with the contract's error; mutation testing of "
        "routes/payments.py: the decline's 402 turned 401 survived every suite)",
        component="routers",
        build=_router(
            payments.router, "pay_cdp_topup", limits.pay_declining_as_unauthorized, methods=["POST"]
        ),
    ),
    Variant(
        name="payment-bound-tighter-than-the-contract",
        defect="a payment event over 10^14 micro-USD is refused as invalid_payload, although the contract "
        "lets a top-up be opened for up to 10^15: a paid top-up is never credited",
        source="issue 11 class 3 (the largest amount allowed; the reference's own 10^14 bound until now)",
        component="adapter_factories",
        build=lambda: _adapters(
            stripe=rails.stripe_factory(limits.TightBoundStripeAdapter),
            xendit=rails.xendit_factory(limits.TightBoundXenditAdapter),
            cdp=verification.cdp_factory(limits.TightBoundCdpAdapter),
        ),
    ),
    Variant(
        name="x402-top-up-trusts-the-facilitator",
        defect="/pay credits whatever the facilitator says is valid: the authorised value is never "
        "compared with the top-up's amount, so an underpayment a lying facilitator vouches for is credited",
        source="issue 11 class 3 (x402 payments that do not match the requirements never credit; the "
        "cdp.py re-check after the facilitator)",
        component="adapter_factories",
        build=lambda: _adapters(cdp=verification.cdp_factory(limits.FacilitatorTrustingCdpAdapter)),
    ),
)

VARIANTS = VARIANTS + ADVERSARIAL

_BY_NAME = {v.name: v for v in VARIANTS}


def variant(name: str) -> Variant:
    """The variant called `name`, or `KeyError` listing the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown variant {name!r}; known: {', '.join(_BY_NAME)}") from None
