"""Which behaviour suites catch each defective variant: the declarations `--self-test --quick` relies on.

Taken from the whole matrix (`payharness gate --self-test`, every suite against every variant: on
2026-12-02, 28 min on two loaded cores, every variant caught at least twice). With ``--quick`` a variant
meets only the suites named here, in the gate's suite order, until its second catch: the clean reference
still meets every suite, so the proof that each defect is caught twice costs minutes, not half an hour.

The whole matrix keeps these honest: a suite named here that runs against its variant and misses it fails
the self-test (:meth:`~harness.selftest.matrix.CatchMatrix.problems`). A new variant needs a line here
(a unit test says so); run ``payharness gate --self-test --variant NAME`` and name the suites it shows.

The stateful suite is named for none: what it catches depends on the sequences a seed draws (at its
default depth it caught 10 of 39 variants on one seed), and a declaration must hold on every seed.
"""

from __future__ import annotations

__all__ = ["CATCHERS", "catchers"]

#: variant name -> the suites (as `payharness gate --suite` spells them) that catch it
CATCHERS: dict[str, tuple[str, ...]] = {
    "settle-before-route-finishes": ("close-time-settle", "limits"),
    "settle-twice": ("close-time-settle", "limits"),
    "no-settle-outside-request-context": ("close-time-settle", "limits"),
    "stream-path-never-settles": ("close-time-settle", "limits"),
    "settle-timeout-counted-as-failure": ("close-time-settle",),
    "webhook-200-without-tier-flip": ("idempotency", "upgrade-tier-flip", "events"),
    "unsigned-webhook-accepted": ("inertness", "upgrade-tier-flip", "authenticity"),
    "webhook-stub-says-bad-signature": (
        "inertness",
        "idempotency",
        "upgrade-tier-flip",
        "authenticity",
        "events",
        "limits",
    ),
    "duplicate-payment-credited-twice": ("idempotency", "limits"),
    "unknown-rail-misreported": ("inertness", "limits"),
    "dormant-flag-still-calls-processor": ("inertness",),
    "live-topup-says-not-live": (
        "inertness",
        "idempotency",
        "close-time-settle",
        "upgrade-tier-flip",
        "authenticity",
        "events",
        "limits",
    ),
    "margin-recorded-unclamped": ("margin-math", "limits"),
    "zero-cost-charged": ("margin-math", "limits"),
    "float-rounding": ("margin-math", "limits"),
    "margin-not-clamped": ("margin-math", "limits"),
    "duplicate-outcome-overwrites": ("idempotency", "limits"),
    "retry-with-new-idempotency-key": ("idempotency",),
    "client-idempotency-key-dropped": ("idempotency", "limits"),
    "rail-error-unhandled": ("idempotency",),
    "reconcile-raises": ("idempotency", "limits"),
    "reap-unguarded": ("upgrade-tier-flip", "limits"),
    "cdp-signature-prefix-accepted": ("authenticity",),
    "cdp-replay-window-unchecked": ("authenticity",),
    "xendit-token-presence-only": ("upgrade-tier-flip", "authenticity"),
    "xendit-token-substring": ("authenticity",),
    "stripe-tolerance-off": ("upgrade-tier-flip", "authenticity"),
    "idr-credited-as-usd": ("events",),
    "zero-decimal-currency-as-cents": ("idempotency", "events"),
    "customer-balance-sign-inverted": ("events",),
    "stripe-cents-credited-as-dollars": ("idempotency", "authenticity", "events", "limits"),
    "invoice-payment-failed-upgrades": ("events",),
    "failed-cycle-upgrades": ("events",),
    "failed-settlement-credited": ("events",),
    "charge-overdraws": ("limits",),
    "margin-applied-twice": ("margin-math", "limits"),
    "idempotency-key-reuse-replays": ("limits",),
    "reconcile-dry-run-moves-money": ("limits",),
    "x402-top-up-trusts-the-client": ("limits",),
    # from `--self-test --variant NAME` on the suites that catch them (2026-12-02)
    "plan-paid-whatever-the-amount": ("upgrade-tier-flip", "events"),
    "x402-top-up-trusts-the-facilitator": ("limits",),
    "payment-bound-tighter-than-the-contract": ("idempotency", "limits"),
    "charge-replay-flag-inverted": ("margin-math", "idempotency"),
    "x402-decline-answered-401": ("limits",),
}


def catchers(name: str) -> tuple[str, ...]:
    """The suites declared to catch variant `name` (none for the clean reference or an undeclared one)."""
    return CATCHERS.get(name, ())
