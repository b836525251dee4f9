"""PaymentSession and settle at close (PRIOR_ART.md section 2).

A paid request opens a session whose cap comes from the credential (x402 `X-PAYMENT`) or the wallet balance.
`charge()` adds to `spent` unless that would pass the cap. When the response ends (last body byte, client
disconnect, or an error answer alike) the session settles once for `spent`, through the settle closure that
was captured when the session opened, never looked up from request context at close time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from .metrics import ServiceMetrics

__all__ = ["PaymentSession", "SettleOutcome", "SettlingStreamResponse", "usd_text"]

log = logging.getLogger("payharness.reference.settle")


def usd_text(micros: int) -> str:
    """Plain decimal USD text (never exponent notation, PRIOR_ART.md #181)."""
    return format((Decimal(micros) / Decimal(1_000_000)).normalize(), "f")


@dataclass(frozen=True, slots=True)
class SettleOutcome:
    """How a close ended: settled, failed, unconfirmed (timed out) or skipped (nothing spent)."""

    outcome: str
    transaction: str | None = None


SettleFn = Callable[[int], Awaitable[str | None]]


class PaymentSession:
    """A request-scoped spending session with a cap and a settle closure."""

    def __init__(
        self,
        *,
        protocol: str,
        cap_micros: int,
        settle: SettleFn,
        metrics: ServiceMetrics,
        timeout_seconds: float,
        on_done: Callable[[str, int, str | None], Awaitable[None]] | None = None,
        release: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.protocol = protocol
        self.cap_micros = cap_micros
        self.spent_micros = 0
        self.settled = False
        self._closed = False
        self._settle = settle
        self._metrics = metrics
        self._timeout = timeout_seconds
        self._on_done = on_done
        self._release = (
            release  # frees a reserved cap when nothing is spent (the settle frees it otherwise)
        )
        self._pending: asyncio.Task[str | None] | None = None

    def charge(self, amount_micros: int) -> bool:
        """Add a charge; False (spent unchanged) when it would pass the cap. Exactly the cap is allowed."""
        if amount_micros < 0:
            raise ValueError("charges are non-negative")
        if self.spent_micros + amount_micros > self.cap_micros:
            return False
        self.spent_micros += amount_micros
        return True

    async def close(self) -> SettleOutcome:
        """Settle once for `spent`. Never raises: the response is served whatever happens here."""
        if self._closed:
            return SettleOutcome("already_closed")
        self._closed = True
        spent = self.spent_micros
        if spent <= 0:
            self._metrics.settle_at_close.labels(outcome="skipped").inc()
            if self._release is not None:
                try:
                    await self._release()
                except Exception:  # best effort: an unreleased hold expires on its own
                    log.exception("could not release the session's reserved cap")
            return SettleOutcome("skipped")
        # marked before the network call, so re-entry can never settle twice (atxp #177)
        self.settled = True
        task = asyncio.ensure_future(self._settle(spent))
        self._pending = task
        try:
            tx = await asyncio.wait_for(asyncio.shield(task), self._timeout)
        except TimeoutError:
            # the in-flight settle is not aborted: it may still complete, so it is unconfirmed, not failed
            ms = int(self._timeout * 1000)
            log.warning(
                "settle_unconfirmed_at_close: settle timed out after %dms (settle may still complete; "
                "not confirmed within %dms) protocol=%s amount=%s",
                ms,
                ms,
                self.protocol,
                usd_text(spent),
            )
            self._metrics.settle_at_close.labels(outcome="unconfirmed").inc()
            await self._record("unconfirmed", spent, None)
            return SettleOutcome("unconfirmed")
        except Exception as exc:
            log.error(
                "settle_failed_at_close protocol=%s amount=%s: %s",
                self.protocol,
                usd_text(spent),
                exc,
            )
            self._metrics.settle_at_close.labels(outcome="failed").inc()
            await self._record("failed", spent, None)
            return SettleOutcome("failed")
        log.info(
            "Settled %s at session close: txHash=%s, amount=%s",
            self.protocol,
            tx or "<already-settled>",
            usd_text(spent),
        )
        self._metrics.settle_at_close.labels(outcome="settled").inc()
        await self._record("settled", spent, tx)
        return SettleOutcome("settled", tx)

    async def _record(self, outcome: str, spent: int, tx: str | None) -> None:
        if self._on_done is None:
            return
        try:
            await self._on_done(outcome, spent, tx)
        except (
            Exception
        ):  # recording is best effort; the settle outcome is already counted and logged
            log.exception("could not record settle outcome %s", outcome)


class SettlingStreamResponse(Response):
    """An SSE response that settles its session after the last event, or when the client goes away.

    The settle runs before the terminating event on a normal end, and in a shielded `finally` on a
    disconnect, so it happens exactly once whichever way the stream ends.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncIterator[bytes],
        *,
        close: Callable[[], Awaitable[Any]],
        terminator: Callable[[], bytes],
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status_code = 200
        self.background = None
        self._events = events
        self._close = close
        self._terminator = terminator
        self._extra_headers = headers or {}
        self.init_headers(self._extra_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        disconnected = asyncio.Event()

        async def watch() -> None:
            while True:
                message: Message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected.set()
                    return

        watcher = asyncio.ensure_future(watch())
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
        ] + [(k.lower().encode(), v.encode()) for k, v in self._extra_headers.items()]
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            async for chunk in self._events:
                if disconnected.is_set():
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            else:
                await asyncio.shield(self._close())
                last = self._terminator()
                await send({"type": "http.response.body", "body": last, "more_body": False})
                return
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()
            aclose = getattr(self._events, "aclose", None)
            if aclose is not None:
                # the generator is being torn down; nothing to report
                with contextlib.suppress(Exception):
                    await aclose()
            # idempotent: a normal end already closed the session above
            await asyncio.shield(self._close())
        if not disconnected.is_set():
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
