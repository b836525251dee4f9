"""The replayer: re-signing under the target's secret with a fresh timestamp (checked by independent
verifiers), the send plan (order, seed, copies), concurrency, rate, dry run, and undeliverable sends."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx
import pytest
import razorpay
import stripe

from harness.errors import InvalidArgument
from harness.replay import (
    Delivery,
    Order,
    Outcome,
    ReplayConfig,
    Replayer,
    WebhookSecrets,
    plan_sends,
    signers_for,
)

NOW = 1_800_000_000.0
SECRETS = WebhookSecrets(
    by_rail={
        "stripe": "whsec_test",
        "cdp": "cdp_test",
        "xendit": "xnd_test",
        "razorpay": "rzp_test",
    }
)


def _delivery(
    rail: str, body: bytes, headers: tuple[tuple[str, str], ...], event_id: str = "e1"
) -> Delivery:
    return Delivery(
        rail=rail,
        event_id=event_id,
        received_at="2020-01-01T00:00:00.000000Z",
        method="POST",
        path=f"/prod/{rail}",
        headers=headers,
        body=body,
    )


def _capture() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "applied"})

    return seen, httpx.MockTransport(handler)


async def _send_one(delivery: Delivery, **config: object) -> httpx.Request:
    seen, transport = _capture()
    replay_config = ReplayConfig(target="http://127.0.0.1:8000", now=lambda: NOW, **config)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport) as client:
        replayer = Replayer(replay_config, signers=signers_for(SECRETS, lambda: NOW), client=client)
        plan = plan_sends([delivery], order=Order.RECORDED, seed=None, duplicate=0)
        (result,) = await replayer.run_pass(plan, pass_number=1)
    assert result.outcome is Outcome.APPLIED
    (request,) = seen
    return request


async def test_a_stripe_delivery_is_re_signed_now_and_verifies_with_stripe_python() -> None:
    body = b'{\n  "id": "evt_1",\n  "object": "event"\n}'
    old = (
        ("Content-Type", "application/json"),
        ("Stripe-Signature", "t=1577836800,v1=" + "0" * 64),
    )

    request = await _send_one(_delivery("stripe", body, old))

    assert request.content == body
    assert request.url == "http://127.0.0.1:8000/v1/payments/webhook/stripe"
    header = request.headers["stripe-signature"]
    assert header.startswith(f"t={int(NOW)},v1=") and "0" * 64 not in header
    # stripe-python's own verifier, at the moment of sending
    stripe.WebhookSignature.verify_header(body.decode(), header, "whsec_test", tolerance=None)


async def test_a_cdp_delivery_is_re_signed_over_the_same_hook0_header_list() -> None:
    body = b'{"eventId":"e1","eventType":"x402.settlement.completed"}'
    old = (
        ("content-type", "application/json"),
        ("x-event-id", "e1"),
        ("x-event-type", "x402.settlement.completed"),
        ("X-Hook0-Signature", "t=1577836800,h=content-type x-event-id,v1=" + "0" * 64),
    )

    request = await _send_one(_delivery("cdp", body, old))

    parts = dict(p.split("=", 1) for p in request.headers["x-hook0-signature"].split(","))
    assert parts["t"] == str(int(NOW)) and parts["h"] == "content-type x-event-id"
    signed = f"{parts['t']}.{parts['h']}.application/json.e1.".encode() + body  # PROCESSORS.md 3.2
    assert parts["v1"] == hmac.new(b"cdp_test", signed, hashlib.sha256).hexdigest()


async def test_a_razorpay_delivery_keeps_its_event_id_and_verifies_with_the_razorpay_sdk() -> None:
    body = b'{"entity":"event","event":"payment.captured"}'
    old = (("X-Razorpay-Signature", "stale"), ("x-razorpay-event-id", "Ev_1"))

    request = await _send_one(_delivery("razorpay", body, old))

    assert request.headers["x-razorpay-event-id"] == "Ev_1"
    razorpay.Utility(None).verify_webhook_signature(
        body.decode(), request.headers["x-razorpay-signature"], "rzp_test"
    )


async def test_a_xendit_callback_carries_the_targets_token_instead_of_the_recorded_one() -> None:
    old = (("x-callback-token", "production-token"),)

    request = await _send_one(_delivery("xendit", b'{"id":"inv"}', old))

    assert request.headers["x-callback-token"] == "xnd_test"


async def test_connection_headers_and_masked_headers_are_not_replayed() -> None:
    headers = (
        ("Host", "prod.example.com"),
        ("Content-Length", "999"),
        ("Connection", "close"),
        ("Authorization", "[masked]"),
        ("User-Agent", "Stripe/1.0"),
        ("Stripe-Signature", "t=1,v1=00"),
    )
    request = await _send_one(_masked(headers))

    assert request.headers["host"] == "127.0.0.1:8000"
    assert request.headers["content-length"] == "2"
    assert "authorization" not in request.headers
    assert request.headers["user-agent"] == "Stripe/1.0"


def _masked(headers: tuple[tuple[str, str], ...]) -> Delivery:
    base = _delivery("stripe", b"{}", headers)
    return Delivery(
        rail=base.rail,
        event_id=base.event_id,
        received_at=base.received_at,
        method=base.method,
        path=base.path,
        headers=base.headers,
        body=base.body,
        masked_headers=("authorization",),
    )


async def test_a_custom_webhook_path_is_used_for_every_rail() -> None:
    request = await _send_one(_delivery("xendit", b"{}", ()), webhook_path="/hooks/{rail}/in")
    assert request.url.path == "/hooks/xendit/in"


def _many(count: int) -> list[Delivery]:
    return [
        _delivery("xendit", json.dumps({"n": n}).encode(), (), event_id=f"e{n}")
        for n in range(count)
    ]


def test_recorded_and_reversed_orders_keep_copies_next_to_their_original() -> None:
    deliveries = _many(3)

    recorded = plan_sends(deliveries, order=Order.RECORDED, seed=None, duplicate=1)
    reversed_ = plan_sends(deliveries, order=Order.REVERSED, seed=None, duplicate=0)

    assert [(s.index, s.copy) for s in recorded] == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert [s.seq for s in recorded] == [1, 2, 3, 4, 5, 6]
    assert [s.index for s in reversed_] == [2, 1, 0]


def test_a_shuffled_plan_is_reproduced_by_its_seed_and_spreads_the_copies() -> None:
    deliveries = _many(20)

    first = plan_sends(deliveries, order=Order.SHUFFLED, seed=42, duplicate=2)
    again = plan_sends(deliveries, order=Order.SHUFFLED, seed=42, duplicate=2)
    other = plan_sends(deliveries, order=Order.SHUFFLED, seed=43, duplicate=2)

    key = [(s.index, s.copy) for s in first]
    assert key == [(s.index, s.copy) for s in again]
    assert key != [(s.index, s.copy) for s in other]
    assert sorted(key) == [(i, c) for i in range(20) for c in range(3)]
    assert key != sorted(key)


async def test_concurrency_bounds_how_many_sends_are_in_flight() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200, json={"status": "applied"})

    config = ReplayConfig(target="http://127.0.0.1", concurrency=4)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        replayer = Replayer(config, signers=signers_for(SECRETS, lambda: NOW), client=client)
        plan = plan_sends(_many(20), order=Order.RECORDED, seed=None, duplicate=0)
        results = await replayer.run_pass(plan, pass_number=1)

    assert peak == 4
    assert [r.seq for r in results] == list(range(1, 21))


async def test_a_rate_spaces_the_sends_on_the_injected_clock() -> None:
    clock = [NOW]
    sent_at: list[float] = []

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock[0])
        return httpx.Response(200, json={"status": "applied"})

    config = ReplayConfig(
        target="http://127.0.0.1", rate_per_second=4, now=lambda: clock[0], sleep=sleep
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        replayer = Replayer(config, signers=signers_for(SECRETS, lambda: clock[0]), client=client)
        await replayer.run_pass(
            plan_sends(_many(5), order=Order.RECORDED, seed=None, duplicate=0), pass_number=1
        )

    assert [t - NOW for t in sent_at] == [0.0, 0.25, 0.5, 0.75, 1.0]


async def test_a_dry_run_sends_nothing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("a dry run must not send")

    config = ReplayConfig(target="http://127.0.0.1", dry_run=True)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        replayer = Replayer(config, signers={}, client=client)
        results = await replayer.run_pass(
            plan_sends(_many(3), order=Order.RECORDED, seed=None, duplicate=0), pass_number=1
        )

    assert {(r.sent, r.outcome) for r in results} == {(False, Outcome.NOT_SENT)}


async def test_a_target_that_does_not_answer_gives_an_error_outcome_not_a_crash() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    config = ReplayConfig(target="http://127.0.0.1")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        replayer = Replayer(config, signers=signers_for(SECRETS, lambda: NOW), client=client)
        (result,) = await replayer.run_pass(
            plan_sends(_many(1), order=Order.RECORDED, seed=None, duplicate=0), pass_number=1
        )

    assert (result.outcome, result.error_code) == (Outcome.ERROR, "transport_error")
    assert "connection refused" in (result.message or "")


async def test_answers_are_read_into_outcomes() -> None:
    answers = [
        httpx.Response(200, json={"status": "applied"}),
        httpx.Response(200, json={"status": "duplicate"}),
        httpx.Response(200, json={"status": "not_credited"}),
        httpx.Response(204),
        httpx.Response(400, json={"error": {"code": "invalid_payload", "message": "no"}}),
        httpx.Response(401, json={"error_code": "INVALID_TOKEN", "message": "bad"}),
        httpx.Response(500, text="boom"),
    ]
    queue = iter(answers)
    config = ReplayConfig(target="http://127.0.0.1")
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: next(queue))) as client:
        replayer = Replayer(config, signers=signers_for(SECRETS, lambda: NOW), client=client)
        results = await replayer.run_pass(
            plan_sends(_many(7), order=Order.RECORDED, seed=None, duplicate=0), pass_number=1
        )

    assert [(r.outcome.value, r.status or r.error_code) for r in results] == [
        ("applied", "applied"),
        ("duplicate", "duplicate"),
        ("ignored", "not_credited"),
        ("accepted", None),
        ("rejected", "invalid_payload"),
        ("rejected", "INVALID_TOKEN"),
        ("rejected", "http_500"),
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("target", "127.0.0.1:8000", "--target must be an http(s) URL"),
        ("concurrency", 0, "--concurrency must be >= 1"),
        ("duplicate", -1, "--duplicate must be >= 0"),
        ("rate_per_second", 0, "--rate must be > 0"),
        ("webhook_path", "hooks", "must start with '/'"),
    ],
)
def test_bad_replay_options_are_refused_with_a_precise_message(
    field: str, value: object, message: str
) -> None:
    options: dict[str, object] = {"target": "http://127.0.0.1"}
    options[field] = value
    with pytest.raises(
        InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")
    ) as caught:
        ReplayConfig(**options)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_argument"


def test_an_unknown_order_lists_the_choices() -> None:
    with pytest.raises(InvalidArgument, match="recorded, shuffled, reversed"):
        Order.parse("random")


def test_without_a_signer_the_recorded_signature_is_never_sent_on() -> None:
    config = ReplayConfig(target="http://127.0.0.1", dry_run=True)
    delivery = _delivery(
        "stripe", b"{}", (("Stripe-Signature", "t=1,v1=prod"), ("X-Other", "kept"))
    )
    replayer = Replayer(config, signers={}, client=httpx.AsyncClient())
    (send,) = plan_sends([delivery], order=Order.RECORDED, seed=None, duplicate=0)

    assert replayer.prepare(send).headers == {"X-Other": "kept"}
