"""Webhook delivery: modes, signing at send time, retries on a time-scaled schedule."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from fakes._common import (
    DeliveryMode,
    DeliverySettings,
    FakeError,
    InvalidFakeArgument,
    WebhookDelivery,
    WebhookEndpoint,
)


class Receiver:
    """An in-process webhook endpoint: records what it got, fails the first ``fail_first`` posts."""

    def __init__(self, *, fail_first: int = 0, status: int = 200) -> None:
        self.received: list[tuple[str, bytes, dict[str, str]]] = []
        self.fail_first = fail_first
        self.status = status
        self.lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.received.append((str(request.url), request.content, dict(request.headers)))
            if len(self.received) <= self.fail_first:
                return httpx.Response(500)
        return httpx.Response(self.status)

    @property
    def bodies(self) -> list[bytes]:
        return [body for _, body, _ in self.received]


def make_delivery(
    receiver: Receiver, *, schedule: tuple[float, ...] = (), **settings: Any
) -> WebhookDelivery:
    counter = iter(range(1, 1_000))

    def sign(endpoint: WebhookEndpoint, body: bytes) -> Mapping[str, str]:
        # A counter stands in for a timestamp: it proves headers are built at each attempt.
        return {"x-signature": f"{endpoint.secret}:{next(counter)}"}

    return WebhookDelivery(
        DeliverySettings(
            retry_schedule_seconds=schedule,
            time_scale=0.001,
            transport=httpx.MockTransport(receiver.handler),
            **settings,
        ),
        sign=sign,
        new_secret=lambda: "whsec_generated",
    )


async def test_immediate_mode_posts_each_event_to_every_endpoint_in_order() -> None:
    receiver = Receiver()
    delivery = make_delivery(receiver)
    delivery.add_endpoint("http://hooks.test/a")
    delivery.add_endpoint("http://hooks.test/b")

    for n in range(3):
        delivery.send(f"evt_{n}", f'{{"n":{n}}}'.encode(), event_type="thing.happened")
    await delivery.drain()

    assert [url for url, _, _ in receiver.received] == [
        "http://hooks.test/a",
        "http://hooks.test/b",
    ] * 3
    assert receiver.bodies[::2] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    assert all(attempt.ok for attempt in delivery.attempts())


async def test_every_attempt_is_signed_at_send_time_with_the_endpoint_secret() -> None:
    receiver = Receiver(fail_first=1)
    delivery = make_delivery(receiver, schedule=(1.0,))
    delivery.add_endpoint("http://hooks.test/a", secret="whsec_a")

    delivery.send("evt_1", b"{}")
    await delivery.drain()

    signatures = [headers["x-signature"] for _, _, headers in receiver.received]
    assert signatures == ["whsec_a:1", "whsec_a:2"]
    assert receiver.received[0][2]["content-type"] == "application/json"


async def test_failed_delivery_is_retried_after_the_endpoint_recovers() -> None:
    receiver = Receiver(fail_first=2)
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    delivery = make_delivery(receiver, schedule=(60.0, 300.0, 1800.0), sleep=record_sleep)
    delivery.add_endpoint("http://hooks.test/a")

    delivery.send("evt_1", b"{}")
    await delivery.drain()

    attempts = delivery.attempts()
    assert [(a.attempt, a.status) for a in attempts] == [(1, 500), (2, 500), (3, 200)]
    # The processor schedule, time-scaled by 0.001.
    assert sleeps == pytest.approx([0.06, 0.3])


async def test_delivery_gives_up_after_the_schedule_is_exhausted() -> None:
    receiver = Receiver(status=503)
    delivery = make_delivery(receiver, schedule=(1.0, 1.0))
    delivery.add_endpoint("http://hooks.test/a")

    delivery.send("evt_1", b"{}")
    await delivery.drain()

    assert [a.attempt for a in delivery.attempts()] == [1, 2, 3]
    assert not any(a.ok for a in delivery.attempts())
    assert delivery.in_flight == 0


async def test_unreachable_endpoint_is_logged_as_an_error_and_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    delivery = WebhookDelivery(
        DeliverySettings(
            retry_schedule_seconds=(1.0,), time_scale=0.0, transport=httpx.MockTransport(refuse)
        ),
        sign=lambda endpoint, body: {},
        new_secret=lambda: "s",
    )
    delivery.add_endpoint("http://hooks.test/a")

    delivery.send("evt_1", b"{}")
    await delivery.drain()

    attempts = delivery.attempts()
    assert [a.attempt for a in attempts] == [1, 2]
    assert attempts[0].status is None
    assert attempts[0].error is not None and "ConnectError" in attempts[0].error


async def test_held_mode_queues_events_until_released() -> None:
    receiver = Receiver()
    delivery = make_delivery(receiver)
    delivery.add_endpoint("http://hooks.test/a")
    delivery.set_mode(DeliveryMode.HELD)

    delivery.send("evt_1", b"1")
    delivery.send("evt_2", b"2")
    delivery.send("evt_3", b"3")
    await delivery.drain()
    assert receiver.received == []
    assert delivery.held() == ["evt_1", "evt_2", "evt_3"]

    assert delivery.release("evt_2") == 1
    await delivery.drain()
    assert receiver.bodies == [b"2"]

    assert delivery.release() == 2
    await delivery.drain()
    assert receiver.bodies == [b"2", b"1", b"3"]
    assert delivery.held() == []


async def test_duplicated_mode_sends_every_event_twice() -> None:
    receiver = Receiver()
    delivery = make_delivery(receiver)
    delivery.add_endpoint("http://hooks.test/a")
    delivery.set_mode("duplicated")

    delivery.send("evt_1", b"1")
    await delivery.drain()

    assert receiver.bodies == [b"1", b"1"]
    assert [a.copy for a in delivery.attempts()] == [1, 2]


async def test_reordered_mode_releases_the_batch_in_reverse_order() -> None:
    receiver = Receiver()
    delivery = make_delivery(receiver)
    delivery.add_endpoint("http://hooks.test/a")
    delivery.set_mode(DeliveryMode.REORDERED)

    for n in range(4):
        delivery.send(f"evt_{n}", str(n).encode())
    delivery.release()
    await delivery.drain()

    assert receiver.bodies == [b"3", b"2", b"1", b"0"]


async def test_reordered_mode_with_a_seed_shuffles_the_same_way_every_time() -> None:
    orders = []
    for _ in range(2):
        receiver = Receiver()
        delivery = make_delivery(receiver)
        delivery.add_endpoint("http://hooks.test/a")
        delivery.set_mode(DeliveryMode.REORDERED, seed=7)
        for n in range(6):
            delivery.send(f"evt_{n}", str(n).encode())
        delivery.release()
        await delivery.drain()
        orders.append(receiver.bodies)

    assert orders[0] == orders[1]
    assert sorted(orders[0]) == [str(n).encode() for n in range(6)]
    assert orders[0] != [str(n).encode() for n in range(6)]


async def test_reordered_mode_with_a_batch_size_releases_full_batches_by_itself() -> None:
    receiver = Receiver()
    delivery = make_delivery(receiver)
    delivery.add_endpoint("http://hooks.test/a")
    delivery.set_mode(DeliveryMode.REORDERED, batch_size=2)

    for n in range(3):
        delivery.send(f"evt_{n}", str(n).encode())
    await delivery.drain()

    assert receiver.bodies == [b"1", b"0"]
    assert delivery.held() == ["evt_2"]


async def test_endpoints_only_get_the_event_types_they_enabled() -> None:
    receiver = Receiver()
    delivery = make_delivery(receiver)
    delivery.add_endpoint("http://hooks.test/invoices", enabled_events=["invoice.paid"])
    delivery.add_endpoint("http://hooks.test/all")

    delivery.send("evt_1", b"1", event_type="invoice.paid")
    delivery.send("evt_2", b"2", event_type="customer.created")
    await delivery.drain()

    assert [url for url, _, _ in receiver.received] == [
        "http://hooks.test/invoices",
        "http://hooks.test/all",
        "http://hooks.test/all",
    ]


async def test_removed_endpoints_get_nothing_and_generated_secrets_come_from_the_processor() -> (
    None
):
    receiver = Receiver()
    delivery = make_delivery(receiver)
    endpoint = delivery.add_endpoint("http://hooks.test/a")
    assert endpoint.secret == "whsec_generated"
    assert delivery.remove_endpoint(endpoint.id)
    assert not delivery.remove_endpoint(endpoint.id)

    delivery.send("evt_1", b"1")
    await delivery.drain()

    assert receiver.received == []


def test_a_sync_sender_gets_deliveries_on_a_background_loop() -> None:
    receiver = Receiver()
    delivery = make_delivery(receiver)
    delivery.add_endpoint("http://hooks.test/a")
    try:
        delivery.send("evt_1", b"1")
        delivery.drain_blocking(timeout_seconds=5)
    finally:
        delivery.close()

    assert receiver.bodies == [b"1"]


async def test_drain_gives_up_with_a_stable_code_when_a_delivery_hangs() -> None:
    release = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    delivery = WebhookDelivery(
        DeliverySettings(transport=httpx.MockTransport(hang)),
        sign=lambda endpoint, body: {},
        new_secret=lambda: "s",
    )
    delivery.add_endpoint("http://hooks.test/a")
    delivery.send("evt_1", b"1")

    with pytest.raises(FakeError) as caught:
        await delivery.drain(timeout_seconds=0.01)
    assert caught.value.code == "delivery_drain_timeout"
    release.set()
    await delivery.drain()


async def test_a_slow_endpoint_times_out_and_is_logged_as_such() -> None:
    release = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    delivery = WebhookDelivery(
        DeliverySettings(transport=httpx.MockTransport(hang), timeout_seconds=0.01),
        sign=lambda endpoint, body: {},
        new_secret=lambda: "s",
    )
    delivery.add_endpoint("http://hooks.test/a")
    delivery.send("evt_1", b"1")
    await delivery.drain()

    assert [a.error for a in delivery.attempts()] == ["timeout"]
    release.set()


def test_bad_modes_and_urls_are_refused_with_a_precise_message() -> None:
    delivery = make_delivery(Receiver())
    with pytest.raises(InvalidFakeArgument, match="unknown delivery mode 'sideways'"):
        delivery.set_mode("sideways")
    with pytest.raises(InvalidFakeArgument, match="batch_size"):
        delivery.set_mode("reordered", batch_size=0)
    with pytest.raises(InvalidFakeArgument, match="http"):
        delivery.add_endpoint("ftp://hooks.test")


async def test_reset_forgets_endpoints_held_events_and_the_log() -> None:
    receiver = Receiver()
    delivery = make_delivery(receiver)
    delivery.add_endpoint("http://hooks.test/a")
    delivery.send("evt_1", b"1")
    await delivery.drain()
    delivery.set_mode("held")
    delivery.send("evt_2", b"2")

    delivery.reset()

    assert delivery.endpoints() == []
    assert delivery.held() == []
    assert delivery.attempts() == []
    assert delivery.mode is DeliveryMode.IMMEDIATE
