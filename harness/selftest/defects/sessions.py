"""Settle-at-close defects (PRIOR_ART.md §2): when, how often and whether a paid request settles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from harness.reference.sessions import PaymentSession, SettleOutcome, SettlingStreamResponse

__all__ = [
    "EagerSettleSession",
    "NormalEndOnlyStreamResponse",
    "ReentrantSession",
    "StreamWithoutSettleResponse",
    "TimeoutIsFailureSession",
]


class EagerSettleSession(PaymentSession):
    """Settles as soon as the first unit is charged, while the route is still running: the settle is for
    what was spent so far, and later charges are never settled."""

    _eager: asyncio.Future[SettleOutcome] | None = None

    def charge(self, amount_micros: int) -> bool:
        """Charge, then start the settle right away (the defect)."""
        accepted = super().charge(amount_micros)
        if accepted and self.spent_micros > 0 and not self.settled:
            self.settled = True
            self._eager = asyncio.ensure_future(self.close())
        return accepted


class ReentrantSession(PaymentSession):
    """Forgets its re-entrancy guard: every `close()` settles again (SSE closes twice, normal end and
    `finally`)."""

    async def close(self) -> SettleOutcome:
        """Settle on every call (the defect)."""
        self._closed = False
        return await super().close()


class TimeoutIsFailureSession(PaymentSession):
    """Gives up on a slow settle before its timeout, aborting it, and counts it as a failure: a settle that
    may still complete is reported as unbilled."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        settle, timeout = self._settle, self._timeout

        async def settle_or_fail(spent: int) -> str | None:
            try:
                return await asyncio.wait_for(settle(spent), timeout * 0.8)
            except TimeoutError as exc:
                raise RuntimeError("settle timed out") from exc

        self._settle = settle_or_fail


class NormalEndOnlyStreamResponse(SettlingStreamResponse):
    """Settles only when the route's own event loop runs to its end: a client that hangs up ends the
    response outside that flow, and the settle is never reached."""

    def __init__(
        self,
        events: AsyncIterator[bytes],
        *,
        close: Callable[[], Awaitable[Any]],
        terminator: Callable[[], bytes],
        headers: dict[str, str] | None = None,
    ) -> None:
        finished = {"route": False}

        async def tracked() -> AsyncIterator[bytes]:
            async for chunk in events:
                yield chunk
            finished["route"] = True

        async def close_after_route() -> Any:
            return await close() if finished["route"] else None

        super().__init__(tracked(), close=close_after_route, terminator=terminator, headers=headers)


class StreamWithoutSettleResponse(SettlingStreamResponse):
    """The buffered path settles; the streaming path never does (PRIOR_ART.md §1 defect 1: a behaviour
    that holds on the buffered path but not on the streaming one)."""

    def __init__(
        self,
        events: AsyncIterator[bytes],
        *,
        close: Callable[[], Awaitable[Any]],
        terminator: Callable[[], bytes],
        headers: dict[str, str] | None = None,
    ) -> None:
        async def no_settle() -> None:
            return None

        super().__init__(events, close=no_settle, terminator=terminator, headers=headers)
