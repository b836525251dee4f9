"""close-time-settle: a paid request settles exactly once, after the route finished, for what it spent.

Modelled on PRIOR_ART.md §2 (atxp-dev/sdk #177, settle at session close) as DESIGN.md pins it for the
contract: a paid request (`POST /v1/usage`) opens a session whose cap is the wallet balance or the x402
authorisation; each unit charges the session; when the response ends (last JSON byte, last SSE event, or a
client that hangs up) the session settles **once** for `spent` (wallet: one ledger debit; x402: one facilitator
`/settle`). Nothing spent settles nothing. A charge over the cap answers 402 and spends nothing. A settle that
fails, or outlives its timeout, never fails the served response, and the two are counted apart in
`payments_settle_at_close_total{outcome}` (failed vs unconfirmed: a timed-out settle may still complete).

Observed black-box only: the ledger, the facilitator's journal in the CDP fake, and `/metrics`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from harness.suites import _fixtures
from harness.suites._processors import Processors, X402Payment
from harness.suites._streams import stream_usage
from harness.suites._support import (
    Api,
    error_code,
    not_applicable,
    require_live,
    settle_delta,
    wait_until,
)
from harness.suites.failures import SettleFailure
from harness.suites.plugin import PaymentsOptions
from harness.target import Target

# the live suites' shared fixtures (harness/suites/_fixtures.py)
api = _fixtures.api
processors = _fixtures.processors


#: A delay between streamed units: enough for the suite to look at the ledger between two events of a
#: stream served over a socket (the in-process drive pauses the stream itself and needs none).
UNIT_DELAY_MS = 150
#: The settle timeout of the rebuilt target, and how long the facilitator then takes to settle.
SHORT_SETTLE_TIMEOUT_SECONDS = 0.15
SLOW_SETTLE_SECONDS = 0.6
#: A settle slow but inside its timeout: 85% of it. A session that gives up early (at 80% or less) sees it
#: fail; the 0.3 s left over is the facilitator's own work plus the loopback round trip.
WITHIN_TIMEOUT_SETTLE_TIMEOUT_SECONDS = 2.0
WITHIN_TIMEOUT_SETTLE_SECONDS = 1.7
#: How long a look between two events of a paused in-process stream waits for a settle that should not come.
SETTLE_LOOK_SECONDS = 1.0


@pytest.fixture
def _has_sessions(target: Target, payments_options: PaymentsOptions) -> None:
    """Every check here is about paid usage sessions: not applicable to a live target whose profile says
    it has none (a dormant one is left to the checks' own guards)."""
    if target.capabilities.live:
        with Api(target, seed=payments_options.seed) as api:
            api.lacking("paid_usage", "paid usage sessions")


# requested by this module's tests only (an autouse fixture here would reach every suite of a gate run: the
# gate collects its suites with `--pyargs` under `-c /dev/null`, so a module's fixtures are not scoped to it)
pytestmark = pytest.mark.usefixtures("_has_sessions")


def _unit_delay_ms(api: Api) -> int:
    return 0 if api.target.asgi_app is not None else UNIT_DELAY_MS


def _attempts(delta: dict[str, float]) -> float:
    return delta["settled"] + delta["failed"] + delta["unconfirmed"]


def _requirements(api: Api) -> dict[str, Any]:
    """The target's own x402 payment requirements (network, asset, payTo, EIP-712 domain), read from a
    CDP top-up it offers: the suite pays exactly what the target would ask any client to pay."""
    account_id = api.new_account()
    response = api.call(
        "POST", "/v1/payments/topup/cdp", json_body={"account_id": account_id, "amount_micros": 1}
    )
    body = api.expect(response, 201, SettleFailure, "a CDP top-up offers x402 requirements")
    accepts = body.get("details", {}).get("payment_requirements", {}).get("accepts", [])
    if not accepts:
        api.fail(
            SettleFailure,
            observed=f"a CDP top-up without payment requirements: {body}",
            expected="details.payment_requirements.accepts[0] (x402 v1 PaymentRequirements)",
        )
    return dict(accepts[0])


def _settles_of(
    processors: Processors, mark: dict[str, int], payment: X402Payment
) -> list[dict[str, Any]]:
    """The facilitator `/settle` calls for one payment (by its EIP-3009 nonce)."""
    return [
        call
        for call in processors.calls_since(mark, "cdp", method="POST")
        if call["path"].endswith("/settle") and payment.nonce in str(call["body"])
    ]


def _paid_usage(api: Api, payment: X402Payment, charges: list[int]) -> Any:
    return api.call(
        "POST",
        "/v1/usage",
        json_body={"charges_micros": charges},
        headers={"X-PAYMENT": payment.header},
    )


# ---------------------------------------------------------------------------------------- buffered JSON


def test_several_charges_settle_once_after_the_route_for_the_amount_spent(api: Api) -> None:
    """Three charges in one request: one debit of their sum, one settle counted as settled."""
    account = api.funded_account(10_000)
    with settle_delta(api) as delta:
        response = api.call(
            "POST",
            "/v1/usage",
            json_body={"account_id": account, "charges_micros": [100, 200, 300]},
        )
    body = api.expect(response, 200, SettleFailure, "a paid request within its cap is served")
    debits = api.entries(account, kind="debit")
    if body.get("spent_micros") != 600 or [d["amount_micros"] for d in debits] != [600]:
        api.fail(
            SettleFailure,
            observed=f"spent_micros={body.get('spent_micros')}, debits {[d['amount_micros'] for d in debits]}",
            expected="spent_micros=600 and exactly one debit of 600 micros (the sum of the charges)",
        )
    if delta["settled"] != 1 or _attempts(delta) != 1:
        api.fail(
            SettleFailure,
            observed=f"settle outcomes grew by {delta}",
            expected="exactly one settle, counted as settled",
        )
    if api.account(account)["balance_micros"] != 9_400:
        api.fail(
            SettleFailure,
            observed=f"balance {api.account(account)['balance_micros']}",
            expected="balance 9400 micros after spending 600 of 10000",
        )


@pytest.mark.parametrize("charges", [[], [0, 0]], ids=["no-charge", "zero-charges"])
def test_a_request_that_charged_nothing_settles_nothing(api: Api, charges: list[int]) -> None:
    """No charge, or only zero charges: served, no debit, no settle attempt."""
    account = api.funded_account(10_000)
    with settle_delta(api) as delta:
        response = api.call(
            "POST", "/v1/usage", json_body={"account_id": account, "charges_micros": charges}
        )
    api.expect(response, 200, SettleFailure, "a paid request that charges nothing is served")
    debits = api.entries(account, kind="debit")
    if debits or _attempts(delta):
        api.fail(
            SettleFailure,
            observed=f"debits {[d['amount_micros'] for d in debits]}, settle outcomes grew by {delta}",
            expected="no debit and no settle attempt when nothing was spent",
        )


def test_a_charge_over_the_cap_answers_402_and_spends_nothing(api: Api) -> None:
    """501 against a 500 balance: 402, no debit, nothing settled."""
    account = api.funded_account(500)
    with settle_delta(api) as delta:
        response = api.call(
            "POST", "/v1/usage", json_body={"account_id": account, "charges_micros": [501]}
        )
    if response.status_code != 402 or error_code(response) not in (
        "insufficient_credit",
        "payment_required",
    ):
        api.fail(
            SettleFailure,
            observed=f"HTTP {response.status_code} {response.text[:300]}",
            expected="HTTP 402 insufficient_credit for a charge over the session cap",
        )
    debits = api.entries(account, kind="debit")
    if debits or delta["settled"] or delta["failed"]:
        api.fail(
            SettleFailure,
            observed=f"debits {[d['amount_micros'] for d in debits]}, settle outcomes grew by {delta}",
            expected="an over-cap charge spends nothing: no debit, no settle",
        )


def test_a_refused_charge_settles_only_what_was_charged_before_it(api: Api) -> None:
    """100 and 200 fit a 500 cap, 10000 does not: 402, and one debit of 300 (never the refused amount)."""
    account = api.funded_account(500)
    response = api.call(
        "POST", "/v1/usage", json_body={"account_id": account, "charges_micros": [100, 200, 10_000]}
    )
    api.expect(response, 402, SettleFailure, "the over-cap third charge is refused")
    debits = [d["amount_micros"] for d in api.entries(account, kind="debit")]
    if debits != [300]:
        api.fail(
            SettleFailure,
            observed=f"debits {debits}",
            expected="exactly one debit of 300 micros: what was charged before the refused charge",
        )


# ---------------------------------------------------------------------------------------- x402


def test_an_x402_paid_request_settles_once_at_the_facilitator(
    api: Api, processors: Processors
) -> None:
    """One `/settle` per paid request at the facilitator, none for a request that charged nothing."""
    requirements = _requirements(api)
    mark = processors.mark()
    paid = processors.x402_payment(requirements, 1_000)
    with settle_delta(api) as delta:
        body = api.expect(
            _paid_usage(api, paid, [100, 200]), 200, SettleFailure, "an x402-paid request"
        )
    unused = processors.x402_payment(requirements, 1_000)
    api.expect(_paid_usage(api, unused, []), 200, SettleFailure, "an x402 request charging nothing")
    settles, idle = _settles_of(processors, mark, paid), _settles_of(processors, mark, unused)
    if body.get("spent_micros") != 300 or len(settles) != 1 or idle:
        api.fail(
            SettleFailure,
            observed=(
                f"spent_micros={body.get('spent_micros')}; the facilitator saw {len(settles)} /settle "
                f"for the paid request and {len(idle)} for the one that charged nothing"
            ),
            expected="spent_micros=300, exactly one /settle for the paid request, none for the idle one",
        )
    if delta["settled"] != 1 or _attempts(delta) != 1:
        api.fail(
            SettleFailure,
            observed=f"settle outcomes grew by {delta}",
            expected="exactly one settle, counted as settled",
        )


def test_an_x402_charge_over_the_authorised_value_is_402_and_settles_nothing(
    api: Api, processors: Processors
) -> None:
    """1001 against an authorisation of 1000: 402 payment_required and no `/settle`."""
    requirements = _requirements(api)
    mark = processors.mark()
    payment = processors.x402_payment(requirements, 1_000)
    response = _paid_usage(api, payment, [1_001])
    if response.status_code != 402:
        api.fail(
            SettleFailure,
            observed=f"HTTP {response.status_code} {response.text[:300]}",
            expected="HTTP 402 for a charge over the authorised value",
        )
    settles = _settles_of(processors, mark, payment)
    if settles:
        api.fail(
            SettleFailure,
            observed=f"{len(settles)} /settle call(s) at the facilitator",
            expected="no settle when nothing could be spent",
        )


def test_a_failing_settle_still_serves_the_response_and_is_counted_failed(
    api: Api, processors: Processors
) -> None:
    """The facilitator answers 500 to every `/settle`: still HTTP 200, counted failed (not unconfirmed)."""
    requirements = _requirements(api)
    payment = processors.x402_payment(requirements, 1_000)
    with (
        processors.fault("cdp", path="**/settle", method="POST", status=500),
        settle_delta(api) as delta,
    ):
        response = _paid_usage(api, payment, [100])
    body = api.expect(response, 200, SettleFailure, "the served response survives a failed settle")
    if body.get("spent_micros") != 100:
        api.fail(
            SettleFailure,
            observed=f"body {body}",
            expected="the normal body with spent_micros=100, whatever the settle did",
        )
    if delta["failed"] != 1 or delta["unconfirmed"] or delta["settled"]:
        api.fail(
            SettleFailure,
            observed=f"settle outcomes grew by {delta}",
            expected="one settle counted as failed (never as unconfirmed or settled)",
        )


@contextmanager
def _rebuilt_with_settle_timeout(
    target: Target, options: PaymentsOptions, seconds: float, why_not_here: str
) -> Iterator[tuple[Api, Processors, X402Payment, dict[str, int]]]:
    """The target rebuilt with a settle timeout of `seconds`, and an x402 payment of 1,000 for it: the
    api, the processors, the payment and the journal mark taken before it is used. Not applicable, with
    `why_not_here`, for a target that cannot be rebuilt."""
    require_live(target)
    if not target.capabilities.rebuildable:
        not_applicable(f"{target.name} {why_not_here}")
    with (
        target.rebuild(settle_timeout_seconds=seconds) as rebuilt,
        Api(rebuilt, seed=options.seed) as api,
    ):
        processors = Processors(api)
        try:
            payment = processors.x402_payment(_requirements(api), 1_000)
            yield api, processors, payment, processors.mark()
        finally:
            processors.close()


def _slow_settle(processors: Processors, seconds: float) -> AbstractContextManager[str]:
    """The facilitator's next `/settle` takes `seconds`."""
    return processors.fault(
        "cdp", path="**/settle", method="POST", latency_seconds=seconds, first_k=1
    )


def test_a_settle_past_its_timeout_still_serves_and_is_counted_unconfirmed(
    target: Target, payments_options: PaymentsOptions
) -> None:
    """A `/settle` slower than the settle timeout: HTTP 200, counted unconfirmed (never failed), and the
    in-flight settle is not aborted (it completes at the facilitator)."""
    with _rebuilt_with_settle_timeout(
        target,
        payments_options,
        SHORT_SETTLE_TIMEOUT_SECONDS,
        "cannot be rebuilt with a short settle timeout, and waiting out its real one "
        "(30 s by default) is not a gate check: run the gate on the embedded reference for this",
    ) as (api, processors, payment, mark):
        with _slow_settle(processors, SLOW_SETTLE_SECONDS), settle_delta(api) as delta:
            response = _paid_usage(api, payment, [100])
            body = api.expect(response, 200, SettleFailure, "served despite a slow settle")
            # the slow settle is still running: it must complete at the facilitator, not be aborted
            done = wait_until(
                lambda: [s for s in _settles_of(processors, mark, payment) if s["status"]],
                timeout_seconds=5.0,
            )
        if body.get("spent_micros") != 100:
            api.fail(
                SettleFailure,
                observed=f"body {body}",
                expected="the normal body with spent_micros=100",
            )
        if delta["unconfirmed"] != 1 or delta["failed"] or delta["settled"]:
            api.fail(
                SettleFailure,
                observed=(
                    f"settle outcomes grew by {delta} (settle timeout {SHORT_SETTLE_TIMEOUT_SECONDS} s, "
                    f"/settle took {SLOW_SETTLE_SECONDS} s)"
                ),
                expected="one settle counted as unconfirmed: it may still complete, so never failed",
            )
        if not done:
            api.fail(
                SettleFailure,
                observed="the timed-out settle never reached the facilitator's answer",
                expected="the in-flight settle is not aborted when the timeout passes",
            )


def test_a_settle_slow_but_within_its_timeout_is_counted_settled(
    target: Target, payments_options: PaymentsOptions
) -> None:
    """A `/settle` taking 85% of the settle timeout: it is waited for and counted settled (never failed or
    unconfirmed), and the facilitator completed exactly one settle for the payment."""
    with _rebuilt_with_settle_timeout(
        target,
        payments_options,
        WITHIN_TIMEOUT_SETTLE_TIMEOUT_SECONDS,
        "cannot be rebuilt with a known settle timeout, and a settle just inside its "
        "real one (30 s by default) is not a gate check: run the gate on the embedded reference for this",
    ) as (api, processors, payment, mark):
        with _slow_settle(processors, WITHIN_TIMEOUT_SETTLE_SECONDS), settle_delta(api) as delta:
            started = time.monotonic()
            response = _paid_usage(api, payment, [100])
            took = time.monotonic() - started
        body = api.expect(response, 200, SettleFailure, "served after a slow settle")
        settles = _settles_of(processors, mark, payment)
        if body.get("spent_micros") != 100:
            api.fail(
                SettleFailure,
                observed=f"body {body}",
                expected="the normal body with spent_micros=100",
            )
        if delta["settled"] != 1 or _attempts(delta) != 1:
            api.fail(
                SettleFailure,
                observed=(
                    f"settle outcomes grew by {delta} (settle timeout "
                    f"{WITHIN_TIMEOUT_SETTLE_TIMEOUT_SECONDS} s, /settle held "
                    f"{WITHIN_TIMEOUT_SETTLE_SECONDS} s, the request took {took:.2f} s)"
                ),
                expected="one settle counted as settled: it finished inside its timeout",
            )
        done = [s for s in settles if 200 <= int(s["status"]) < 300]
        if len(settles) != 1 or len(done) != 1:
            api.fail(
                SettleFailure,
                observed=f"the facilitator saw {len(settles)} /settle, {len(done)} completed",
                expected="exactly one /settle for the payment, completed",
            )


# ---------------------------------------------------------------------------------------- SSE


def test_an_sse_response_settles_once_after_its_last_event(api: Api) -> None:
    """While the stream runs nothing is settled; after its last event exactly one debit of the sum."""
    account = api.funded_account(10_000)
    before = api.settle_counts()
    during: dict[str, Any] = {}

    def look() -> None:
        during["debits"] = [d["amount_micros"] for d in api.entries(account, kind="debit")]
        during["settles"] = api.settle_counts()

    result = stream_usage(
        api,
        {
            "account_id": account,
            "charges_micros": [100, 200, 300],
            "chunk_delay_ms": _unit_delay_ms(api),
        },
        on_first_event=look,
    )
    names = [name for name, _ in result.events]
    if result.status != 200 or not names or names[-1] != "done":
        api.fail(
            SettleFailure,
            observed=f"HTTP {result.status}, events {names}",
            expected="HTTP 200 and a stream that ends with its `done` event",
        )
    if during.get("debits") or during.get("settles") != before:
        api.fail(
            SettleFailure,
            observed=(
                f"after the first event (the route still running): debits {during.get('debits')}, "
                f"settle outcomes {during.get('settles')} (before: {before})"
            ),
            expected="no settle before the route finished (the last event was produced)",
        )
    after = api.settle_counts()
    delta = {k: after[k] - before[k] for k in after}
    debits = [d["amount_micros"] for d in api.entries(account, kind="debit")]
    if debits != [600] or delta["settled"] != 1 or _attempts(delta) != 1:
        api.fail(
            SettleFailure,
            observed=f"debits {debits}, settle outcomes grew by {delta}",
            expected="exactly one settle attempt, settled, one debit of 600 micros",
        )


def test_a_stream_that_runs_out_of_credit_settles_what_it_charged(api: Api) -> None:
    """250 of credit, three units of 100: two served, the third refused in-stream, one debit of 200."""
    account = api.funded_account(250)
    result = stream_usage(api, {"account_id": account, "charges_micros": [100, 100, 100]})
    debits = [d["amount_micros"] for d in api.entries(account, kind="debit")]
    if result.status != 200 or debits != [200]:
        api.fail(
            SettleFailure,
            observed=f"HTTP {result.status}, events {[n for n, _ in result.events]}, debits {debits}",
            expected="HTTP 200 and exactly one debit of 200 micros (the units served before the cap)",
        )


def test_a_client_that_hangs_up_mid_stream_is_settled_exactly_once(api: Api) -> None:
    """The client leaves after the first event: the session still settles, once, for what was charged."""
    account = api.funded_account(10_000)
    before = api.settle_counts()
    result = stream_usage(
        api,
        {
            "account_id": account,
            "charges_micros": [100] * 5,
            "chunk_delay_ms": _unit_delay_ms(api),
        },
        hang_up_after_first_event=True,
    )
    if result.status != 200:
        api.fail(SettleFailure, observed=f"HTTP {result.status}", expected="HTTP 200 stream")
    # the response ended outside the route's own flow: the settle follows the hang-up, shortly
    settled = wait_until(lambda: api.entries(account, kind="debit"))
    debits = [d["amount_micros"] for d in settled or []]
    after = api.settle_counts()
    delta = {k: after[k] - before[k] for k in after}
    if len(debits) != 1 or not (100 <= debits[0] < 500) or debits[0] % 100:
        api.fail(
            SettleFailure,
            observed=f"debits {debits} after the client hung up (settle outcomes grew by {delta})",
            expected=(
                "exactly one debit for the units charged before the hang-up was noticed "
                "(at least the first 100, never the 500 of units never produced)"
            ),
        )
    if delta["settled"] != 1 or _attempts(delta) != 1:
        api.fail(
            SettleFailure,
            observed=f"settle outcomes grew by {delta}",
            expected="exactly one settle attempt after the client hung up",
        )


def test_every_x402_paid_session_settles_exactly_once_at_the_facilitator(
    api: Api, processors: Processors
) -> None:
    """Five x402 sessions, ended every way a response ends (buffered JSON, a stream to its last event, a
    stream that runs out of its authorisation, a client that hangs up mid-stream, a request that charged
    nothing): the facilitator's journal holds exactly one `/settle` for each payment that was spent from,
    none for the idle one, and none for a stream while its route still runs."""
    requirements = _requirements(api)
    mark = processors.mark()
    delay = {"chunk_delay_ms": _unit_delay_ms(api)}
    during: dict[str, int] = {}
    # in process the stream is paused while we look, so a premature settle has time to show; over a
    # socket the route runs on meanwhile, so only an immediate look is fair
    patience = SETTLE_LOOK_SECONDS if api.target.asgi_app is not None else 0.0

    def look() -> None:
        early = wait_until(
            lambda: _settles_of(processors, mark, sessions["streamed"]),
            timeout_seconds=patience,
        )
        during["streamed"] = len(early or [])

    def paid() -> X402Payment:
        return processors.x402_payment(requirements, 1_000)

    def streamed(payment: X402Payment, charges: list[int], **how: Any) -> int:
        headers = {"X-PAYMENT": payment.header}
        body = {"charges_micros": charges, **delay}
        return stream_usage(api, body, headers=headers, **how).status

    sessions = {name: paid() for name in ("buffered", "streamed", "ran-out", "hung-up", "idle")}
    statuses = {
        "buffered": _paid_usage(api, sessions["buffered"], [100, 200]).status_code,
        "streamed": streamed(sessions["streamed"], [100, 200], on_first_event=look),
        "ran-out": streamed(sessions["ran-out"], [600, 600]),
        "hung-up": streamed(sessions["hung-up"], [100] * 5, hang_up_after_first_event=True),
        "idle": _paid_usage(api, sessions["idle"], []).status_code,
    }
    if set(statuses.values()) != {200}:
        api.fail(
            SettleFailure,
            observed=f"HTTP statuses {statuses}",
            expected="HTTP 200 for every session (a stream refuses an over-cap unit in-stream)",
        )
    # the hung-up session settles after the response ended, outside the route's flow: shortly
    wait_until(lambda: _settles_of(processors, mark, sessions["hung-up"]))
    counts = {name: len(_settles_of(processors, mark, p)) for name, p in sessions.items()}
    wanted = {name: 0 if name == "idle" else 1 for name in sessions}
    if counts != wanted or during.get("streamed"):
        api.fail(
            SettleFailure,
            observed=(
                f"/settle calls at the facilitator per session: {counts}; "
                f"{during.get('streamed')} while the streamed session's route still ran"
            ),
            expected=(
                f"exactly one per session that spent, none for the idle one: {wanted}; none before a "
                "stream's route finished"
            ),
        )
