"""authenticity: on every rail, only an authentic webhook moves money; every forgery is refused and inert.

For each rail's signature scheme (Stripe `Stripe-Signature`, CDP's Hook0 `X-Hook0-Signature`, Xendit's
`x-callback-token`), the forgeries are generated from the scheme (:mod:`harness.suites._forgeries`): missing
and empty headers, a wrong secret, a prefix, suffix, substring, truncation, extension or one changed
character of the right signature, a valid signature over another body, a timestamp moved after signing,
stale and future timestamps, several signatures none valid, the right HMAC under an unsupported scheme only,
a signed header changed after signing. Each is delivered carrying an event that would credit a pending
top-up; it must be refused with 400 and the contract's signature code, and change nothing on any truth
surface (balance, lifetime paid, tier, ledger, processor journals). The same event, validly signed, then
credits it: the refusal was about the signature and nothing else.

Authentic deliveries in odd shapes must be accepted: a header carrying several signatures of which one is
valid (secret rotation), or a valid `v1` next to an unsupported `v0`.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness.suites import _fixtures
from harness.suites._deliveries import (
    Delivery,
    Truth,
    crediting_delivery,
    deliver,
    signed_headers,
)
from harness.suites._forgeries import ROTATION_NAMES, SCHEMES, cases, rotations
from harness.suites._processors import Processors
from harness.suites._support import Api, error_code
from harness.suites.failures import WebhookSecurityFailure

api = _fixtures.api
processors = _fixtures.processors

#: The codes a refused signature may carry (DESIGN.md webhook order).
SIGNATURE_CODES = ("missing_signature_header", "webhook_signature_invalid")


def _expect_credited(api: Api, processors: Processors, delivery: Delivery, what: str) -> None:
    """`delivery`, validly signed (or as `what` says), credits its amount exactly once."""
    state = api.account(delivery.account)
    credits = [e["amount_micros"] for e in api.entries(delivery.account, kind="credit")]
    if credits != [delivery.amount_micros] or state["balance_micros"] != delivery.amount_micros:
        api.fail(
            WebhookSecurityFailure,
            observed=f"after {what}: credits {credits}, balance {state['balance_micros']}",
            expected=f"{what} credits the top-up's {delivery.amount_micros} micros exactly once",
            event_ids=[delivery.event_id],
        )


def _control(api: Api, processors: Processors, delivery: Delivery) -> None:
    """The same event, validly signed, is accepted and credits (proves the refusal was the signature's)."""
    answer = deliver(processors, delivery, signed_headers(delivery))
    api.expect(answer, 200, WebhookSecurityFailure, "the same event validly signed is accepted")
    _expect_credited(api, processors, delivery, "the validly signed event")


def _refusal(answer: Any, before: Truth, after: Truth) -> str | None:
    """What was wrong with the answer to a forgery (None: refused with a signature code, nothing moved)."""
    if answer.status_code != 400 or error_code(answer) not in SIGNATURE_CODES:
        return f"HTTP {answer.status_code} {answer.text[:120]}"
    changed = before.changes(after)
    return f"refused but changed {'; '.join(changed)}" if changed else None


@pytest.mark.parametrize("rail", list(SCHEMES))
def test_every_forgery_of_a_webhook_is_refused_and_changes_nothing(
    api: Api, processors: Processors, rail: str
) -> None:
    """Every forgery the catalogue makes for the rail's scheme, carrying an event that would credit a
    pending top-up, gets 400 with a signature code and moves nothing on any truth surface; the same
    event validly signed then credits. A failure lists every forgery that got through, not the first."""
    delivery = crediting_delivery(api, processors, rail)
    wrong: list[str] = []
    for forgery in (f for r, f in cases() if r == rail):
        headers = forgery.make(SCHEMES[rail], delivery.sign, delivery.body)
        mark = processors.mark()
        before = Truth.read(api, processors, delivery.account, mark)
        answer = deliver(processors, delivery, headers)
        problem = _refusal(answer, before, Truth.read(api, processors, delivery.account, mark))
        if problem:
            wrong.append(f"{forgery.name}: {problem}")
            delivery = crediting_delivery(api, processors, rail)  # the last one may have credited
    if wrong:
        api.fail(
            WebhookSecurityFailure,
            observed=f"{rail}: {len(wrong)} forgeries got through: " + " | ".join(wrong),
            expected=f"400 with one of {', '.join(SIGNATURE_CODES)} and no truth surface changed",
            event_ids=[delivery.event_id],
        )
    _control(api, processors, delivery)


@pytest.mark.parametrize("rail", [r for r, s in SCHEMES.items() if s.multi])
def test_several_signatures_of_which_one_is_valid_are_accepted(
    api: Api, processors: Processors, rail: str
) -> None:
    """During a secret rotation a header carries an old and a new signature: accepted, credited once."""
    for name in ROTATION_NAMES:
        delivery = crediting_delivery(api, processors, rail)
        headers = rotations(SCHEMES[rail], delivery.sign, delivery.body)[name]
        answer = deliver(processors, delivery, headers)
        api.expect(answer, 200, WebhookSecurityFailure, f"a {rail} delivery signed {name}")
        _expect_credited(api, processors, delivery, f"a delivery signed {name}")


def test_a_token_of_another_rail_does_not_open_this_rail(api: Api, processors: Processors) -> None:
    """Each rail verifies with its own secret: Stripe's signing secret as a Xendit token is refused, and
    a Xendit token inside a Stripe signature header is refused too."""
    for rail, other in (("xendit", "stripe"), ("stripe", "xendit"), ("cdp", "stripe")):
        delivery = crediting_delivery(api, processors, rail)
        headers = delivery.sign(delivery.body, processors.webhook_secret(other), None)
        mark = processors.mark()
        before = Truth.read(api, processors, delivery.account, mark)
        answer = deliver(processors, delivery, headers)
        after = Truth.read(api, processors, delivery.account, mark)
        if answer.status_code != 400 or before.changes(after):
            api.fail(
                WebhookSecurityFailure,
                observed=f"{rail} signed with {other}'s secret: HTTP {answer.status_code}, "
                f"changes {before.changes(after)}",
                expected="400 and no change: a rail's secret opens only that rail",
                event_ids=[delivery.event_id],
            )


#: What an attacker without the secret tries first: nothing, and every one-character signature or token.
SHORT_GUESSES = ("", *"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-")


@pytest.mark.parametrize("rail", list(SCHEMES))
def test_a_forger_guessing_short_signatures_never_credits(
    api: Api, processors: Processors, rail: str
) -> None:
    """Without the secret, an attacker sends the event with every one-character signature (or token):
    none is accepted, nothing is credited. A receiver comparing only as far as the sender's text goes,
    or looking for the text inside its secret, lets one of them through."""
    scheme = SCHEMES[rail]
    delivery = crediting_delivery(api, processors, rail)
    valid = signed_headers(delivery)
    value = scheme.value(valid)
    accepted = []
    for guess in SHORT_GUESSES:
        forged = scheme.replaced(valid, scheme.with_signatures(value, [guess]))
        answer = deliver(processors, delivery, forged)
        if answer.status_code < 400:
            accepted.append(guess)
    credits = [e["amount_micros"] for e in api.entries(delivery.account, kind="credit")]
    if accepted or credits:
        api.fail(
            WebhookSecurityFailure,
            observed=f"{rail}: guesses {accepted!r} accepted; credits {credits}",
            expected="every guessed signature refused and nothing credited",
            event_ids=[delivery.event_id],
        )


#: Seconds inside and outside the 300 s window every timed scheme uses (a margin for the clocks).
INSIDE_SECONDS, OUTSIDE_SECONDS = 280, 320


@pytest.mark.parametrize("rail", [r for r, s in SCHEMES.items() if s.timed])
def test_the_replay_window_holds_at_its_edges(api: Api, processors: Processors, rail: str) -> None:
    """A delivery signed just outside the 5 minute window (in the past; in the future too where the
    scheme refuses that) is refused; the same event signed just inside is accepted and credits once."""
    scheme = SCHEMES[rail]
    delivery = crediting_delivery(api, processors, rail)
    now = int(time.time())
    outside = [now - OUTSIDE_SECONDS] + ([now + OUTSIDE_SECONDS] if scheme.future_refused else [])
    for timestamp in outside:
        answer = deliver(processors, delivery, delivery.sign(delivery.body, None, timestamp))
        if answer.status_code != 400:
            api.fail(
                WebhookSecurityFailure,
                observed=f"{rail} signed {timestamp - now:+d} s from now: HTTP {answer.status_code}",
                expected="400 webhook_signature_invalid: outside the 300 s window",
                event_ids=[delivery.event_id],
            )
    inside = delivery.sign(delivery.body, None, now - INSIDE_SECONDS)
    api.expect(
        deliver(processors, delivery, inside), 200, WebhookSecurityFailure, "inside the window"
    )
    _expect_credited(api, processors, delivery, f"a delivery signed {INSIDE_SECONDS} s ago")
