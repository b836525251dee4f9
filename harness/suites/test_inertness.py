"""inertness: a dormant target is inert, and a target's error codes tell the truth about its state.

Dormant (PRIOR_ART.md §1 master flag; DESIGN.md `PAYMENTS_LIVE`): the routes stay registered, but every
money route answers 503 `payments_not_live`; validly signed webhooks change nothing; paid usage is served
without a debit or a settle; the fakes' journals show no call from the target; ledger, balances and tiers are
unchanged. Only `1/true/yes/on` (any case) switch it on: every other spelling, unset included, is dormant.

Live, the codes must not lie (§1 defects 3, 8, 9): a live target never answers `payments_not_live`; an unknown
rail is `unknown_rail` (404) on top-up and webhook alike, before any other check; a webhook without its
signature header is `missing_signature_header`, not a "bad signature" that makes processors give up.

A live target is made dormant by rebuilding it (`Target.rebuild(payments_live=False)`); a dormant service at a
URL is checked as it is; a live one that cannot be rebuilt skips the dormant checks and says so. The spellings
need a target that can be rebuilt from an environment (`Target.rebuild_from_env`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from harness.suites._processors import (
    Processors,
    stripe_event_body,
    stripe_funded,
    stripe_invoice_paid,
    xendit_cycle_succeeded,
)
from harness.suites._streams import stream_usage
from harness.suites._support import (
    Api,
    error_code,
    not_applicable,
    require_live,
    ruled_out,
    unique,
)
from harness.suites.failures import ErrorCodeFailure, InertnessFailure
from harness.suites.plugin import PaymentsOptions
from harness.target import RAILS, Target

#: The spellings of PAYMENTS_LIVE the issue names as off (None: unset) and the ones that must be on.
OFF_SPELLINGS: tuple[str | None, ...] = (
    None,
    "",
    "0",
    "false",
    "no",
    "off",
    "FALSE",
    " 0 ",
    "garbage",
)
ON_SPELLINGS = ("1", "true", "TRUE", "yes", "on", "On")
NOT_LIVE = "payments_not_live"


@pytest.fixture(scope="module")
def dormant(target: Target) -> Iterator[Target]:
    """The target, dormant: itself when it is, else rebuilt with payments off (skipped when it cannot be)."""
    if not target.capabilities.live:
        yield target
        return
    if not target.capabilities.rebuildable:
        not_applicable(
            f"{target.name} is live and cannot be rebuilt dormant: these dormant checks run when the gate "
            "targets the service started with PAYMENTS_LIVE unset (`--expect dormant`)"
        )
    rebuilt = target.rebuild(payments_live=False)
    try:
        yield rebuilt
    finally:
        rebuilt.close()


@pytest.fixture
def quiet(dormant: Target, payments_options: PaymentsOptions) -> Iterator[Api]:
    """The dormant target's API for one test."""
    with Api(dormant, seed=payments_options.seed) as client:
        yield client


@pytest.fixture
def api(target: Target, payments_options: PaymentsOptions) -> Iterator[Api]:
    """The target's own API (live or not) for one test."""
    with Api(target, seed=payments_options.seed) as client:
        yield client


@pytest.fixture
def processors(quiet: Api) -> Iterator[Processors]:
    """The fake processors of the dormant target."""
    fakes = Processors(quiet)
    try:
        yield fakes
    finally:
        fakes.close()


def _snapshot(api: Api, account: str) -> dict[str, Any]:
    """Everything a payment could change about an account."""
    state = api.account(account)
    # a target whose profile says it keeps no invoice list has none to compare
    invoices = api.call(
        "GET", "/v1/billing/invoices", params={"account_id": account}, optional=True
    )
    return {
        "balance_micros": state["balance_micros"],
        "lifetime_paid_micros": state["lifetime_paid_micros"],
        "plan_tier": state["plan_tier"],
        "ledger_entries": len(api.entries(account)),
        "invoices": None
        if ruled_out(invoices)
        else len(api.expect(invoices, 200, InertnessFailure, "read invoices")["invoices"]),
    }


def _expect_untouched(
    api: Api,
    processors: Processors,
    account: str,
    before: dict[str, Any],
    mark: dict[str, int],
    what: str,
) -> None:
    after = _snapshot(api, account)
    if after != before:
        api.fail(
            InertnessFailure,
            observed=f"after {what}: {after} (before: {before})",
            expected="a dormant target changes no balance, ledger, tier or invoice",
        )
    calls = processors.calls_since(mark)
    if calls:
        shown = [f"{c['rail']}: {c['method']} {c['path']}" for c in calls[:5]]
        api.fail(
            InertnessFailure,
            observed=f"after {what}: {len(calls)} processor call(s): {shown}",
            expected="a dormant target makes no processor call at all",
        )


def _requirements(processors: Processors) -> dict[str, Any]:
    """x402 requirements a payer could sign for the dormant target (it offers none while dormant)."""
    network = processors.config("cdp")["networks"][0]
    return {
        "scheme": "exact",
        "network": network["v1"],
        "maxAmountRequired": "1000",
        "asset": network["usdc"],
        "payTo": processors.fakes.credentials.cdp_pay_to,
        "resource": "http://payharness.invalid/v1/usage",
        "description": "payharness inertness probe",
        "mimeType": "application/json",
        "maxTimeoutSeconds": 60,
        "extra": network["eip712_domain"],
    }


# ---------------------------------------------------------------------------------------- dormant


def test_a_dormant_target_says_so_on_its_status(quiet: Api) -> None:
    """`GET /v1/payments/status` says `live: false`."""
    status = quiet.status()
    if status.get("live") is not False:
        quiet.fail(
            InertnessFailure,
            observed=f"status {status}",
            expected="live: false on a target started with payments off",
        )


def test_every_money_route_answers_payments_not_live_and_calls_no_processor(
    quiet: Api, processors: Processors
) -> None:
    """Top-ups on every rail, checkout, charges, paying an x402 top-up and reconciling: all 503
    `payments_not_live`, with no processor call and nothing written."""
    account = quiet.new_account()
    inference = unique("inf")
    quiet.expect(
        quiet.call(
            "POST",
            "/v1/outcomes",
            json_body={
                "inference_id": inference,
                "account_id": account,
                "cost_micros": 1_000 * quiet.grain().step_micros,
            },
        ),
        201,
        InertnessFailure,
        "metered outcomes are still recorded while dormant (they move no money)",
    )
    before, mark = _snapshot(quiet, account), processors.mark()
    payment = processors.x402_payment(_requirements(processors), 1_000)
    calls: list[tuple[str, str, Any, dict[str, str]]] = [
        (
            "POST",
            f"/v1/payments/topup/{rail}",
            {"account_id": account, "amount_micros": 1_000_000},
            {},
        )
        for rail in RAILS
    ]
    calls += [
        ("POST", "/v1/billing/checkout", {"account_id": account, "plan": "pro", "rail": rail}, {})
        for rail in ("stripe", "xendit")
    ]
    calls += [
        ("POST", "/v1/charges", {"inference_id": inference}, {}),
        ("POST", "/v1/payments/topup/cdp/top_payharness/pay", None, {"X-PAYMENT": payment.header}),
    ]
    calls += [("POST", f"/admin/reconcile/{rail}", None, quiet.admin_headers()) for rail in RAILS]
    wrong = []
    for method, path, body, headers in calls:
        response = quiet.call(method, path, json_body=body, headers=headers, optional=True)
        if ruled_out(response):
            continue  # the target's profile says it has no such route (a rail it lacks)
        if path.startswith("/admin/") and response.status_code in (401, 403):
            continue  # the target does not take the harness's admin secret: nothing to judge here
        if response.status_code != 503 or error_code(response) != NOT_LIVE:
            wrong.append(f"{method} {path} → {response.status_code} {error_code(response)}")
    if wrong:
        quiet.fail(
            InertnessFailure,
            observed="; ".join(wrong),
            expected="every money route answers 503 payments_not_live while dormant",
        )
    _expect_untouched(quiet, processors, account, before, mark, "every money route")


def test_validly_signed_webhooks_change_nothing_when_dormant(
    quiet: Api, processors: Processors
) -> None:
    """A paid plan, a funding and a settlement, each signed in its rail's scheme: refused as not live and
    nothing changes."""
    account = quiet.new_account(cohort=True)
    before, mark = _snapshot(quiet, account), processors.mark()
    tag = unique("dormant")
    stripe_paid = stripe_invoice_paid(
        account_id=account,
        plan="pro",
        subscription_ref=f"sub_{tag}",
        invoice_ref=f"in_{tag}",
        amount_cents=2_000,
        account_key=quiet.account_key(),
    )
    stripe_money = stripe_funded(customer=f"cus_{tag}", txn_ref=f"ccsbtxn_{tag}", amount_cents=500)
    xendit_paid = xendit_cycle_succeeded(
        account_id=account,
        plan="team",
        plan_ref=f"repl_{tag}",
        cycle_ref=f"cyc_{tag}",
        amount="100",
    )
    cdp_money = {
        "eventId": f"evt_{tag}",
        "eventType": "x402.settlement.completed",
        "data": {"transaction": f"0x{tag}", "value": "1000000", "nonce": f"0x{tag}"},
    }
    deliveries = [
        ("stripe", stripe_event_body(stripe_paid), None),
        ("stripe", stripe_event_body(stripe_money), None),
        ("xendit", json.dumps(xendit_paid).encode(), None),
        ("cdp", json.dumps(cdp_money).encode(), f"evt_{tag}"),
    ]
    wrong = []
    for rail, body, event_id in deliveries:
        headers = processors.signed(
            rail, body, event_id=event_id, event_type="x402.settlement.completed"
        )
        path = f"/v1/payments/webhook/{rail}"
        response = quiet.call("POST", path, content=body, headers=headers, optional=True)
        if ruled_out(response):
            continue  # the target's profile says it lacks this rail
        if response.status_code != 503 or error_code(response) != NOT_LIVE:
            wrong.append(f"{rail} → {response.status_code} {error_code(response)}")
    if wrong:
        quiet.fail(
            InertnessFailure,
            observed="; ".join(wrong),
            expected="validly signed webhooks answer 503 payments_not_live while dormant",
            event_ids=[str(stripe_paid["id"]), str(stripe_money["id"]), str(xendit_paid["id"])],
        )
    _expect_untouched(quiet, processors, account, before, mark, "validly signed webhooks")
    quiet.call("DELETE", f"/v1/accounts/{account}")


def test_paid_usage_is_served_free_when_dormant(quiet: Api, processors: Processors) -> None:
    """Metered usage (wallet, x402, streamed): served, `spent_micros` 0, no debit, no settle counted, no
    facilitator call."""
    account = quiet.funded_account(quiet.grain().up(1_000))  # a balance the target can hold
    before, mark = _snapshot(quiet, account), processors.mark()
    settles = quiet.settle_counts()
    payment = processors.x402_payment(_requirements(processors), 1_000)
    wallet = quiet.call(
        "POST", "/v1/usage", json_body={"account_id": account, "charges_micros": [100, 200]}
    )
    x402 = quiet.call(
        "POST",
        "/v1/usage",
        json_body={"charges_micros": [300]},
        headers={"X-PAYMENT": payment.header},
    )
    streamed = stream_usage(quiet, {"account_id": account, "charges_micros": [100, 100]})
    served = [(wallet.status_code, wallet), (x402.status_code, x402)]
    spent = [r.json().get("spent_micros") if s == 200 else None for s, r in served]
    if [s for s, _ in served] != [200, 200] or spent != [0, 0] or streamed.status != 200:
        quiet.fail(
            InertnessFailure,
            observed=(
                f"wallet usage HTTP {wallet.status_code} spent {spent[0]}, x402 usage HTTP "
                f"{x402.status_code} spent {spent[1]}, streamed HTTP {streamed.status}"
            ),
            expected="paid usage is served for free while dormant: HTTP 200, spent_micros 0",
        )
    if quiet.settle_counts() != settles:
        quiet.fail(
            InertnessFailure,
            observed=f"settle outcomes went from {settles} to {quiet.settle_counts()}",
            expected="no settle of any outcome while dormant",
        )
    _expect_untouched(quiet, processors, account, before, mark, "paid usage")


# ---------------------------------------------------------------------------------------- spellings


def _rebuild_from_env(target: Target) -> Callable[[dict[str, str]], Target]:
    hook = getattr(target, "rebuild_from_env", None)
    if not target.capabilities.rebuildable or not callable(hook):
        not_applicable(
            f"{target.name} is a running service and cannot be rebuilt from an environment, so the "
            "spellings of PAYMENTS_LIVE cannot be tried here: start it with each spelling instead"
        )
    rebuild: Callable[[dict[str, str]], Target] = hook
    return rebuild


def _liveness(target: Target, seed_value: int, spelling: str | None, rebuild: Any) -> str | None:
    """What is wrong with `target` rebuilt under `spelling`, or None."""
    env = {} if spelling is None else {"PAYMENTS_LIVE": spelling}
    with rebuild(env) as built, Api(built, seed=seed_value) as api:
        live = api.status().get("live")
        code = error_code(
            api.call("POST", "/v1/charges", json_body={"inference_id": unique("inf")})
        )
    want_live = spelling is not None and spelling in ON_SPELLINGS
    if live is not want_live:
        return f"PAYMENTS_LIVE={spelling!r}: status live={live}"
    if want_live and code == NOT_LIVE:
        return f"PAYMENTS_LIVE={spelling!r}: live, but a charge answered {NOT_LIVE}"
    if not want_live and code != NOT_LIVE:
        return f"PAYMENTS_LIVE={spelling!r}: dormant, but a charge answered {code}"
    return None


def test_every_spelling_of_off_is_dormant(
    target: Target, payments_options: PaymentsOptions
) -> None:
    """Unset, empty, 0, false, no, off, FALSE, ' 0 ', garbage: each one dormant (status and refusals)."""
    rebuild = _rebuild_from_env(target)
    wrong = [
        w
        for s in OFF_SPELLINGS
        if (w := _liveness(target, payments_options.seed, s, rebuild)) is not None
    ]
    if wrong:
        raise InertnessFailure(
            observed="; ".join(wrong),
            expected="every spelling but 1/true/yes/on (any case) leaves payments dormant",
            reproduce=[f"start the target with PAYMENTS_LIVE={s!r}" for s in OFF_SPELLINGS],
            seed=payments_options.seed,
        )


def test_every_spelling_of_on_is_live(target: Target, payments_options: PaymentsOptions) -> None:
    """1, true, TRUE, yes, on, On: each one live, and none of its routes says `payments_not_live`."""
    rebuild = _rebuild_from_env(target)
    wrong = [
        w
        for s in ON_SPELLINGS
        if (w := _liveness(target, payments_options.seed, s, rebuild)) is not None
    ]
    if wrong:
        raise ErrorCodeFailure(
            observed="; ".join(wrong),
            expected="1/true/yes/on in any case switch payments on",
            reproduce=[f"start the target with PAYMENTS_LIVE={s!r}" for s in ON_SPELLINGS],
            seed=payments_options.seed,
        )


# ---------------------------------------------------------------------------------------- live codes


def test_a_live_target_never_answers_payments_not_live(api: Api) -> None:
    """Status says live, so top-ups start on every configured rail and nothing says `payments_not_live`."""
    require_live(api.target)
    status = api.status()
    account = api.new_account()
    wrong = []
    for rail in RAILS:
        configured = status.get("rails", {}).get(rail, {}).get("configured")
        response = api.call(
            "POST",
            f"/v1/payments/topup/{rail}",
            json_body={"account_id": account, "amount_micros": 1_000_000},
            optional=True,
        )
        if ruled_out(response):
            continue  # the target's profile says it lacks this rail: the others are judged
        code = error_code(response)
        if (configured and response.status_code != 201) or code == NOT_LIVE:
            wrong.append(f"{rail} (configured={configured}) → {response.status_code} {code}")
    if status.get("live") is not True or wrong:
        api.fail(
            ErrorCodeFailure,
            observed=f"status live={status.get('live')}; top-ups: {'; '.join(wrong) or 'fine'}",
            expected="a live target starts top-ups on configured rails and never says payments_not_live",
        )


def test_a_webhook_without_its_signature_header_is_missing_signature_header(api: Api) -> None:
    """Live, an unsigned delivery on each rail is 400 `missing_signature_header`: not a bad signature
    (processors would give up on the endpoint), not `payments_not_live`, never accepted."""
    require_live(api.target)
    body = json.dumps(
        {"id": unique("evt"), "type": "invoice.paid", "data": {"object": {}}}
    ).encode()
    wrong = []
    for rail in RAILS:
        response = api.call(
            "POST",
            f"/v1/payments/webhook/{rail}",
            content=body,
            headers={"content-type": "application/json"},
            optional=True,
        )
        if ruled_out(response):
            continue  # the target's profile says it lacks this rail: the others are judged
        if response.status_code != 400 or error_code(response) != "missing_signature_header":
            wrong.append(f"{rail} → {response.status_code} {error_code(response)}")
    if wrong:
        api.fail(
            ErrorCodeFailure,
            observed="; ".join(wrong),
            expected="400 missing_signature_header on every rail for a delivery with no signature",
        )


@pytest.mark.parametrize("state", ["live", "dormant"])
def test_an_unknown_rail_is_unknown_rail_on_top_up_and_webhook_alike(
    target: Target,
    payments_options: PaymentsOptions,
    state: str,
    request: pytest.FixtureRequest,
) -> None:
    """`paypal` is checked first: 404 `unknown_rail` for a top-up and for a webhook, signed or not, live
    or dormant (PRIOR_ART.md §1 defect 3: the header lookup ran before the rail lookup)."""
    if state == "live":
        require_live(target)
        chosen = target
    else:
        chosen = request.getfixturevalue("dormant")
    with Api(chosen, seed=payments_options.seed) as api:
        body = b'{"id":"evt_payharness","type":"invoice.paid"}'
        attempts: list[httpx.Response] = [
            api.call(
                "POST",
                "/v1/payments/topup/paypal",
                json_body={"account_id": api.new_account(), "amount_micros": 1_000_000},
            ),
            api.call("POST", "/v1/payments/webhook/paypal", content=body),
            api.call(
                "POST",
                "/v1/payments/webhook/paypal",
                content=body,
                headers={"Stripe-Signature": "t=1,v1=00", "x-callback-token": "token"},
            ),
        ]
        wrong = [
            f"{r.request.url.path} → {r.status_code} {error_code(r)}"
            for r in attempts
            if r.status_code != 404 or error_code(r) != "unknown_rail"
        ]
        if wrong:
            api.fail(
                ErrorCodeFailure,
                observed=f"{state}: " + "; ".join(wrong),
                expected="404 unknown_rail for an unknown rail, before any other check",
            )
