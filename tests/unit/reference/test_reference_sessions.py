"""PaymentSession (PRIOR_ART.md section 2): the cap rule, one settle at close, and how a close can end."""

from __future__ import annotations

import asyncio
import logging

import pytest

from harness.reference.metrics import ServiceMetrics
from harness.reference.sessions import PaymentSession, usd_text


class Settler:
    """A settle closure that records its calls and can fail or hang on demand."""

    def __init__(self, *, fail: bool = False, hang: bool = False) -> None:
        self.calls: list[int] = []
        self.fail = fail
        self.hang = hang
        self.release = asyncio.Event()  # never set while the test runs: a settle that never answers

    async def __call__(self, amount_micros: int) -> str | None:
        self.calls.append(amount_micros)
        if self.hang:
            await self.release.wait()
        if self.fail:
            raise RuntimeError("facilitator answered 500")
        return "0xabc"


def settled(metrics: ServiceMetrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "payments_settle_at_close_total", {"outcome": outcome}
    )
    return 0.0 if value is None else value


def new_session(
    settler: Settler, *, cap: int = 100, timeout: float = 5.0, protocol: str = "wallet"
) -> tuple[PaymentSession, ServiceMetrics]:
    metrics = ServiceMetrics()
    session = PaymentSession(
        protocol=protocol,
        cap_micros=cap,
        settle=settler,
        metrics=metrics,
        timeout_seconds=timeout,
    )
    return session, metrics


def test_charges_within_the_cap_add_up() -> None:
    session, _ = new_session(Settler(), cap=100)
    assert session.charge(10)
    assert session.charge(20)
    assert session.spent_micros == 30


def test_a_charge_of_exactly_the_remaining_cap_is_allowed_and_then_nothing_more() -> None:
    session, _ = new_session(Settler(), cap=100)
    assert session.charge(60)
    assert session.charge(40)  # exactly the remaining cap
    assert session.spent_micros == 100
    assert not session.charge(1)
    assert session.spent_micros == 100


def test_a_charge_over_the_cap_is_refused_and_leaves_spent_unchanged() -> None:
    session, _ = new_session(Settler(), cap=100)
    assert session.charge(30)
    assert not session.charge(71)
    assert session.spent_micros == 30


def test_a_zero_charge_always_fits_even_a_zero_cap() -> None:
    session, _ = new_session(Settler(), cap=0)
    assert session.charge(0)
    assert not session.charge(1)


def test_a_negative_charge_is_refused_loudly() -> None:
    session, _ = new_session(Settler())
    with pytest.raises(ValueError):
        session.charge(-1)


async def test_close_settles_once_for_what_was_spent() -> None:
    settler = Settler()
    session, metrics = new_session(settler)
    session.charge(10)
    session.charge(25)
    result = await session.close()
    assert result.outcome == "settled"
    assert result.transaction == "0xabc"
    assert settler.calls == [35]
    assert settled(metrics, "settled") == 1


async def test_closing_twice_never_settles_twice() -> None:
    settler = Settler()
    session, metrics = new_session(settler)
    session.charge(10)
    await session.close()
    again = await session.close()
    assert again.outcome == "already_closed"
    assert settler.calls == [10]
    assert settled(metrics, "settled") == 1


async def test_concurrent_closes_settle_once() -> None:
    settler = Settler()
    session, _ = new_session(settler)
    session.charge(10)
    outcomes = await asyncio.gather(*(session.close() for _ in range(5)))
    assert settler.calls == [10]
    assert sorted(o.outcome for o in outcomes) == ["already_closed"] * 4 + ["settled"]


async def test_nothing_spent_settles_nothing_and_counts_skipped() -> None:
    settler = Settler()
    session, metrics = new_session(settler)
    result = await session.close()
    assert result.outcome == "skipped"
    assert settler.calls == []
    assert session.settled is False
    assert settled(metrics, "skipped") == 1
    assert settled(metrics, "settled") == 0


async def test_a_failing_settle_is_logged_counted_failed_and_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settler = Settler(fail=True)
    session, metrics = new_session(settler, cap=1_000_000, protocol="x402")
    session.charge(10_000)
    with caplog.at_level(logging.ERROR, logger="payharness.reference.settle"):
        result = await session.close()
    assert result.outcome == "failed"
    assert settled(metrics, "failed") == 1
    assert settled(metrics, "settled") == 0
    assert "settle_failed_at_close protocol=x402 amount=0.01" in caplog.text
    # marked settled before the call, so a failed settle is not retried at close (atxp #177)
    assert session.settled is True
    await session.close()
    assert settler.calls == [10_000]


async def test_a_settle_past_its_timeout_is_unconfirmed_not_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settler = Settler(hang=True)
    session, metrics = new_session(settler, timeout=0.01)
    session.charge(3)
    with caplog.at_level(logging.WARNING, logger="payharness.reference.settle"):
        result = await session.close()
    assert result.outcome == "unconfirmed"
    assert settled(metrics, "unconfirmed") == 1
    assert settled(metrics, "failed") == 0
    assert "settle_unconfirmed_at_close" in caplog.text
    assert "settle_failed_at_close" not in caplog.text
    assert "amount=0.000003" in caplog.text  # plain decimal, never 3e-06
    settler.release.set()  # let the in-flight settle finish: it is not aborted, only unconfirmed
    assert session._pending is not None
    assert await session._pending == "0xabc"


async def test_the_outcome_is_reported_to_the_recorder_once() -> None:
    seen: list[tuple[str, int, str | None]] = []

    async def record(outcome: str, spent: int, tx: str | None) -> None:
        seen.append((outcome, spent, tx))

    session = PaymentSession(
        protocol="wallet",
        cap_micros=100,
        settle=Settler(),
        metrics=ServiceMetrics(),
        timeout_seconds=5,
        on_done=record,
    )
    session.charge(7)
    await session.close()
    await session.close()
    assert seen == [("settled", 7, "0xabc")]


async def test_a_failing_recorder_does_not_change_the_settle_outcome() -> None:
    async def record(outcome: str, spent: int, tx: str | None) -> None:
        raise RuntimeError("database down")

    metrics = ServiceMetrics()
    session = PaymentSession(
        protocol="wallet",
        cap_micros=100,
        settle=Settler(),
        metrics=metrics,
        timeout_seconds=5,
        on_done=record,
    )
    session.charge(7)
    assert (await session.close()).outcome == "settled"
    assert settled(metrics, "settled") == 1


@pytest.mark.parametrize(
    ("micros", "text"), [(3, "0.000003"), (10_000, "0.01"), (1_000_000, "1"), (1_500_000, "1.5")]
)
def test_settle_amounts_are_logged_as_plain_decimal_usd(micros: int, text: str) -> None:
    assert usd_text(micros) == text


def test_two_sessions_never_share_state() -> None:
    first, _ = new_session(Settler(), cap=10)
    second, _ = new_session(Settler(), cap=10)
    first.charge(10)
    assert second.charge(10)
