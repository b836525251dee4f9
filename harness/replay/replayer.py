"""The re-signing replayer: one pass of planned sends against a target, concurrently and rate-limited.

Recorded signatures were made with the production secret, and their timestamps are long outside every
tolerance (Stripe 300 s, PROCESSORS.md 1.1; Hook0 5 minutes, 3.2), so each send strips the rail's
signature headers and signs the unchanged body again under the target's test secret, with a timestamp
taken *when it is sent*: a plan signed up front would go stale during a long rate-limited replay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import httpx

from fakes.signing import Signer
from harness.errors import InvalidArgument
from harness.redaction import redact_text, redact_url
from harness.replay.plan import Order, PlannedSend
from harness.replay.rails import DEFAULT_WEBHOOK_PATH, RAIL_SPECS
from harness.replay.results import Outcome, SendResult, read_answer

__all__ = ["HOP_BY_HOP", "PreparedRequest", "ReplayConfig", "Replayer"]

#: Headers that describe one connection, not the delivery; httpx sets its own.
HOP_BY_HOP = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "proxy-connection",
        "proxy-authorization",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayConfig:
    """Everything a replay needs besides the deliveries, the secrets and the HTTP client.

    ``duplicate`` is the number of *extra* copies of each delivery (0: once); ``passes`` is how many
    times the whole plan is sent (the second pass must change nothing); ``accounts`` are read for the
    exactly-once state check; ``webhook_path`` is the target's route, ``{rail}`` replaced. ``now``
    signs and names the report; ``sleep`` paces a ``rate_per_second``.
    """

    target: str
    order: Order = Order.RECORDED
    seed: int | None = None
    duplicate: int = 0
    concurrency: int = 1
    rate_per_second: float | None = None
    dry_run: bool = False
    passes: int = 2
    webhook_path: str = DEFAULT_WEBHOOK_PATH
    timeout_seconds: float = 30.0
    accounts: tuple[str, ...] = ()
    now: Callable[[], float] = field(default=time.time, repr=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)

    def __post_init__(self) -> None:
        if not self.target.startswith(("http://", "https://")):
            raise InvalidArgument(
                f"--target must be an http(s) URL, got {redact_url(self.target)!r}"
            )
        if self.duplicate < 0:
            raise InvalidArgument(f"--duplicate must be >= 0, got {self.duplicate}")
        if self.concurrency < 1:
            raise InvalidArgument(f"--concurrency must be >= 1, got {self.concurrency}")
        if self.rate_per_second is not None and not self.rate_per_second > 0:
            raise InvalidArgument(f"--rate must be > 0 per second, got {self.rate_per_second}")
        if self.passes < 1:
            raise InvalidArgument(f"passes must be >= 1, got {self.passes}")
        if not self.webhook_path.startswith("/"):
            raise InvalidArgument(
                f"the webhook path must start with '/', got {self.webhook_path!r}"
            )
        if self.timeout_seconds <= 0:
            raise InvalidArgument(f"timeout must be > 0 seconds, got {self.timeout_seconds}")

    def url_for(self, rail: str) -> str:
        """The target's webhook URL for ``rail``."""
        return self.target.rstrip("/") + self.webhook_path.replace("{rail}", rail)


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedRequest:
    """A re-signed request, ready to send."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


class _Pacer:
    """Spaces send starts ``1 / rate`` seconds apart on the injected clock (no rate: no wait)."""

    def __init__(
        self,
        rate: float | None,
        now: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._now = now
        self._sleep = sleep
        self._start: float | None = None
        self._count = 0

    async def turn(self) -> None:
        """Wait until the next send may start."""
        if not self._interval:
            return
        if self._start is None:
            self._start = self._now()
        due = self._start + self._count * self._interval
        self._count += 1
        delay = due - self._now()
        if delay > 0:
            await self._sleep(delay)


class Replayer:
    """Sends planned deliveries to ``config.target``, re-signed with ``signers[rail]``."""

    def __init__(
        self, config: ReplayConfig, *, signers: Mapping[str, Signer], client: httpx.AsyncClient
    ) -> None:
        self._config = config
        self._signers = dict(signers)
        self._client = client

    def prepare(self, send: PlannedSend) -> PreparedRequest:
        """The request for ``send``: recorded headers minus hop-by-hop and masked ones, freshly signed.

        A rail without a signer (a dry run without secrets) goes out with its signature headers
        removed, never with the recorded ones.
        """
        delivery = send.delivery
        drop = HOP_BY_HOP | set(delivery.masked_headers)
        headers: dict[str, str] = {}
        for name, value in delivery.headers:
            if name.lower() not in drop and not name.startswith(":"):
                headers[name] = value
        signer = self._signers.get(delivery.rail)
        if signer is not None:
            headers = signer.resign(delivery.body, headers)
        elif delivery.rail in RAIL_SPECS:
            stale = RAIL_SPECS[delivery.rail].signature_header
            headers = {k: v for k, v in headers.items() if k.lower() != stale}
        return PreparedRequest(
            method=delivery.method,
            url=self._config.url_for(delivery.rail),
            headers=headers,
            body=delivery.body,
        )

    async def run_pass(
        self,
        sends: Sequence[PlannedSend],
        *,
        pass_number: int,
        on_result: Callable[[SendResult], None] | None = None,
    ) -> list[SendResult]:
        """Send every planned delivery (or, in a dry run, only prepare it); results in plan order."""
        results: list[SendResult | None] = [None] * len(sends)
        pacer = _Pacer(self._config.rate_per_second, self._config.now, self._config.sleep)
        # Workers take sends in plan order, so with concurrency 1 the target sees exactly the plan.
        queue = iter(range(len(sends)))

        async def worker() -> None:
            for position in queue:
                await pacer.turn()
                result = await self._send(sends[position], pass_number)
                results[position] = result
                if on_result is not None:
                    on_result(result)

        workers = min(self._config.concurrency, len(sends)) or 1
        await asyncio.gather(*(worker() for _ in range(workers)))
        return [r for r in results if r is not None]

    async def _send(self, send: PlannedSend, pass_number: int) -> SendResult:
        delivery = send.delivery
        unsent = SendResult(
            pass_number=pass_number,
            seq=send.seq,
            copy=send.copy,
            rail=delivery.rail,
            event_id=delivery.event_id,
            origin=delivery.origin,
            sent=False,
            outcome=Outcome.NOT_SENT,
        )
        request = self.prepare(send)
        if self._config.dry_run:
            return unsent
        # Latency is reported, never acted on, so it reads the wall clock rather than the injected one.
        started = time.perf_counter()
        try:
            response = await self._client.request(
                request.method,
                request.url,
                content=request.body,
                headers=request.headers,
                timeout=self._config.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            timed_out = isinstance(exc, httpx.TimeoutException)
            return replace(
                unsent,
                sent=True,
                outcome=Outcome.ERROR,
                error_code="timeout" if timed_out else "transport_error",
                message=redact_text(f"{type(exc).__name__}: {exc}")[:300],
            )
        answer = read_answer(response.status_code, response.content)
        return replace(
            unsent,
            sent=True,
            outcome=answer.outcome,
            http_status=response.status_code,
            status=answer.status,
            error_code=answer.error_code,
            message=answer.message,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            account_id=answer.account_id,
            reason=answer.reason,
            json_answer=answer.json_answer,
        )
