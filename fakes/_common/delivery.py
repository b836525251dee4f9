"""Webhook delivery: POST each event to every registered endpoint, signed at send time, with retries.

A fake hands :meth:`WebhookDelivery.send` an event id, its body bytes and (through ``sign``) a way to build
the signature headers for one endpoint; the headers are built at each attempt, so timestamps are fresh on
retries the way processors do it. Failed attempts (non-2xx, transport error, timeout) are retried after the
processor's schedule (delays in seconds) multiplied by ``time_scale`` (e.g. 0.001 in tests).

Modes (:class:`DeliveryMode`): ``immediate`` sends now; ``held`` queues until :meth:`release`;
``duplicated`` sends every event twice; ``reordered`` holds events and releases them in reverse order, or
shuffled with a seeded RNG when ``seed`` is given, either on :meth:`release` or when ``batch_size`` events are
held.

First attempts go out one at a time in the order events were sent (or released), so an endpoint sees a
processor's event sequence in order unless a mode says otherwise; retries are scheduled independently.

Where deliveries run: on the event loop of the code that sent the event (the fake's request handler, or an
async test calling a fake's Python helper), so in-process delivery through ``httpx.ASGITransport`` reaches an
app on the same loop. A sender with no running loop (a sync test) gets a private background loop, started on
first use and stopped by :meth:`close`. :meth:`drain` works from any thread or loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from fakes._common.errors import FakeError, FakeNotFound, InvalidFakeArgument

_log = logging.getLogger(__name__)

__all__ = [
    "DeliveryAttempt",
    "DeliveryMode",
    "DeliverySettings",
    "Signer",
    "WebhookDelivery",
    "WebhookEndpoint",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEndpoint:
    """A URL events are POSTed to, its signing secret, and the event types it wants (``*`` = all)."""

    id: str
    url: str
    secret: str
    enabled_events: tuple[str, ...] = ("*",)
    description: str | None = None

    def accepts(self, event_type: str | None) -> bool:
        """Whether this endpoint subscribes to ``event_type`` (an untyped event goes everywhere)."""
        return event_type is None or "*" in self.enabled_events or event_type in self.enabled_events


# Builds the signature headers for one endpoint at send time.
Signer = Callable[[WebhookEndpoint, bytes], Mapping[str, str]]


class DeliveryMode(enum.StrEnum):
    """How events are released to endpoints."""

    IMMEDIATE = "immediate"
    HELD = "held"
    DUPLICATED = "duplicated"
    REORDERED = "reordered"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySettings:
    """How a fake delivers webhooks. ``retry_schedule_seconds[i]`` is the wait before attempt ``i + 2``."""

    retry_schedule_seconds: tuple[float, ...] = ()
    time_scale: float = 1.0
    timeout_seconds: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    now: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    log_size: int = 10_000
    drain_timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.time_scale < 0:
            raise InvalidFakeArgument(f"time_scale must be >= 0, got {self.time_scale}")
        if any(delay < 0 for delay in self.retry_schedule_seconds):
            raise InvalidFakeArgument("retry delays must be >= 0")
        if self.timeout_seconds <= 0:
            raise InvalidFakeArgument(f"timeout_seconds must be > 0, got {self.timeout_seconds}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryAttempt:
    """One POST of one event to one endpoint: ``status`` when answered, else ``error``."""

    seq: int
    event_id: str
    event_type: str | None
    endpoint_id: str
    endpoint_url: str
    attempt: int
    copy: int
    status: int | None
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        """Whether the endpoint acknowledged the event (any 2xx)."""
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict for the control API."""
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "endpoint_id": self.endpoint_id,
            "endpoint": self.endpoint_url,
            "attempt": self.attempt,
            "copy": self.copy,
            "status": self.status,
            "error": self.error,
            "ok": self.ok,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True)
class _Event:
    event_id: str
    body: bytes
    event_type: str | None
    content_type: str


@dataclass(frozen=True, slots=True)
class _Job:
    event: _Event
    endpoint: WebhookEndpoint
    attempt: int
    copy: int


@dataclass(slots=True)
class _Lane:
    """The first-attempt queue of one event loop; ``pumping`` while a task is draining it."""

    loop: asyncio.AbstractEventLoop
    jobs: deque[_Job] = field(default_factory=deque)
    pumping: bool = False


class _BorrowedTransport(httpx.AsyncBaseTransport):
    """Lets a short-lived client use an injected transport without closing it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        return None


class WebhookDelivery:
    """Registered endpoints, a delivery mode, the outbox and the log of attempts for one fake."""

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        sign: Signer,
        new_secret: Callable[[], str],
        endpoint_id_prefix: str = "we_",
    ) -> None:
        self._settings = settings
        self._sign = sign
        self._new_secret = new_secret
        self._endpoint_prefix = endpoint_id_prefix
        self._lock = threading.Lock()
        self._endpoints: dict[str, WebhookEndpoint] = {}
        self._endpoint_ids = itertools.count(1)
        self._mode = DeliveryMode.IMMEDIATE
        self._seed: int | None = None
        self._batch_size: int | None = None
        self._held: list[_Event] = []
        # Every event handed to send(), by id, oldest first (bounded like the log): what resend reads.
        self._sent: OrderedDict[str, _Event] = OrderedDict()
        self._log: deque[DeliveryAttempt] = deque(maxlen=settings.log_size)
        self._attempt_seq = itertools.count(1)
        self._lanes: dict[int, _Lane] = {}
        self._pending = 0  # jobs queued, in flight or waiting to retry
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._idle = threading.Event()
        self._idle.set()
        self._background: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # strong refs: the loop only keeps weak ones

    @property
    def settings(self) -> DeliverySettings:
        """The settings this delivery was built with."""
        return self._settings

    # -- endpoints -------------------------------------------------------------------------------------

    def add_endpoint(
        self,
        url: str,
        *,
        secret: str | None = None,
        enabled_events: Sequence[str] = ("*",),
        endpoint_id: str | None = None,
        description: str | None = None,
    ) -> WebhookEndpoint:
        """Register ``url``; a secret is generated by the processor when none is given."""
        if not url.startswith(("http://", "https://")):
            raise InvalidFakeArgument(f"webhook endpoint url must be http(s), got {url!r}")
        with self._lock:
            if endpoint_id is None:
                endpoint_id = f"{self._endpoint_prefix}{next(self._endpoint_ids)}"
            endpoint = WebhookEndpoint(
                id=endpoint_id,
                url=url,
                secret=secret if secret is not None else self._new_secret(),
                enabled_events=tuple(enabled_events) or ("*",),
                description=description,
            )
            self._endpoints[endpoint.id] = endpoint
        return endpoint

    def replace_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Store an updated endpoint under its id (for processors that let the API update endpoints)."""
        with self._lock:
            self._endpoints[endpoint.id] = endpoint

    def remove_endpoint(self, endpoint_id: str) -> bool:
        """Unregister an endpoint; ``False`` if unknown."""
        with self._lock:
            return self._endpoints.pop(endpoint_id, None) is not None

    def endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        """One endpoint by id."""
        with self._lock:
            return self._endpoints.get(endpoint_id)

    def endpoints(self) -> list[WebhookEndpoint]:
        """Every registered endpoint, in registration order."""
        with self._lock:
            return list(self._endpoints.values())

    # -- modes -----------------------------------------------------------------------------------------

    @property
    def mode(self) -> DeliveryMode:
        """The current delivery mode."""
        return self._mode

    def set_mode(
        self, mode: DeliveryMode | str, *, seed: int | None = None, batch_size: int | None = None
    ) -> None:
        """Switch mode. Leaving ``held``/``reordered`` keeps held events until :meth:`release`."""
        try:
            chosen = DeliveryMode(mode)
        except ValueError as exc:
            names = ", ".join(m.value for m in DeliveryMode)
            raise InvalidFakeArgument(
                f"unknown delivery mode {mode!r}; use one of {names}"
            ) from exc
        if batch_size is not None and batch_size < 1:
            raise InvalidFakeArgument(f"batch_size must be >= 1, got {batch_size}")
        with self._lock:
            self._mode, self._seed, self._batch_size = chosen, seed, batch_size

    def held(self) -> list[str]:
        """Ids of events waiting for :meth:`release`, in the order they were sent."""
        with self._lock:
            return [event.event_id for event in self._held]

    # -- sending ---------------------------------------------------------------------------------------

    def send(
        self,
        event_id: str,
        body: bytes,
        *,
        event_type: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Deliver (or hold) one event according to the mode. Never blocks and never raises on I/O."""
        event = _Event(event_id, body, event_type, content_type)
        with self._lock:
            self._sent[event_id] = event
            while len(self._sent) > self._settings.log_size:
                self._sent.popitem(last=False)
            mode = self._mode
            if mode in (DeliveryMode.HELD, DeliveryMode.REORDERED):
                self._held.append(event)
                if mode is DeliveryMode.REORDERED and len(self._held) == self._batch_size:
                    batch = self._take_held(None)
                else:
                    return
            else:
                batch = [event]
        copies = 2 if mode is DeliveryMode.DUPLICATED else 1
        self._dispatch(batch, copies)

    def sent(self) -> list[tuple[str, str | None]]:
        """``(event_id, event_type)`` of every event sent so far, oldest first (bounded)."""
        with self._lock:
            return [(event.event_id, event.event_type) for event in self._sent.values()]

    def sent_body(self, event_id: str) -> bytes | None:
        """The body of a sent event, or ``None`` when unknown (or forgotten)."""
        with self._lock:
            event = self._sent.get(event_id)
        return None if event is None else event.body

    def resend(self, event_id: str, *, endpoint_id: str | None = None) -> int:
        """Deliver a sent event again, now, whatever the mode (as ``stripe events resend`` does).

        It goes to every endpoint that accepts its type, or only to ``endpoint_id``; each attempt is
        signed afresh (new timestamp). Returns how many endpoints it went to; raises
        :class:`FakeNotFound` for an unknown event or endpoint.
        """
        with self._lock:
            event = self._sent.get(event_id)
            if event is None:
                raise FakeNotFound(f"no sent event {event_id!r}", code="unknown_event")
            if endpoint_id is not None and endpoint_id not in self._endpoints:
                raise FakeNotFound(
                    f"no webhook endpoint {endpoint_id!r}", code="unknown_webhook_endpoint"
                )
        targets = [
            endpoint
            for endpoint in self.endpoints()
            if (endpoint_id is None and endpoint.accepts(event.event_type))
            or endpoint.id == endpoint_id
        ]
        if targets:
            self._enqueue([_Job(event, endpoint, 1, 1) for endpoint in targets])
        return len(targets)

    def release(self, event_id: str | None = None) -> int:
        """Send held events (all, or the one with ``event_id``); returns how many were released.

        In ``reordered`` mode the batch goes out reversed, or shuffled with ``seed``.
        """
        with self._lock:
            batch = self._take_held(event_id)
        self._dispatch(batch, 1)
        return len(batch)

    def _take_held(self, event_id: str | None) -> list[_Event]:
        # Caller holds the lock.
        if event_id is not None:
            batch = [event for event in self._held if event.event_id == event_id]
            self._held = [event for event in self._held if event.event_id != event_id]
            return batch
        batch, self._held = self._held, []
        if self._mode is DeliveryMode.REORDERED:
            if self._seed is None:
                batch.reverse()
            else:
                random.Random(self._seed).shuffle(batch)
        return batch

    def _dispatch(self, events: Sequence[_Event], copies: int) -> None:
        endpoints = self.endpoints()
        jobs = [
            _Job(event, endpoint, 1, copy)
            for event in events
            for copy in range(1, copies + 1)
            for endpoint in endpoints
            if endpoint.accepts(event.event_type)
        ]
        if jobs:
            self._enqueue(jobs)

    def _enqueue(self, jobs: Sequence[_Job]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = self._background_loop()
        with self._lock:
            self._pending += len(jobs)
            self._idle.clear()
            lane = self._lane(loop)
            lane.jobs.extend(jobs)
            start = not lane.pumping
            lane.pumping = True
        if start:
            if _running_loop() is loop:
                self._spawn(loop, self._pump(lane))
            else:
                loop.call_soon_threadsafe(self._spawn, loop, self._pump(lane))

    def _lane(self, loop: asyncio.AbstractEventLoop) -> _Lane:
        # Caller holds the lock. A lane whose loop has closed (a finished test) is discarded, and its
        # queued jobs stop counting as pending so a later drain does not wait for them.
        for key, stale in list(self._lanes.items()):
            if stale.loop.is_closed():
                self._pending -= len(stale.jobs)
                del self._lanes[key]
        lane = self._lanes.get(id(loop))
        if lane is None or lane.loop is not loop:
            lane = self._lanes[id(loop)] = _Lane(loop)
        return lane

    async def _pump(self, lane: _Lane) -> None:
        async with self._client() as client:
            while True:
                with self._lock:
                    if not lane.jobs:
                        lane.pumping = False
                        return
                    job = lane.jobs.popleft()
                try:
                    ok = await self._attempt(client, job)
                except asyncio.CancelledError:
                    with self._lock:
                        dropped = 1 + len(lane.jobs)
                        lane.jobs.clear()
                        lane.pumping = False
                    self._finish(dropped)
                    raise
                self._after_attempt(job, ok)

    def _client(self) -> httpx.AsyncClient:
        transport = self._settings.transport
        if transport is not None:
            return httpx.AsyncClient(transport=_BorrowedTransport(transport))
        # verify=False skips loading the CA bundle (~25 ms per client): the fakes deliver over loopback.
        return httpx.AsyncClient(verify=False)

    async def _attempt(self, client: httpx.AsyncClient, job: _Job) -> bool:
        status: int | None = None
        error: str | None = None
        try:
            headers = {"content-type": job.event.content_type}
            headers.update(self._sign(job.endpoint, job.event.body))
            # asyncio.timeout also bounds in-process transports (ASGITransport), which ignore httpx's.
            async with asyncio.timeout(self._settings.timeout_seconds):
                response = await client.post(
                    job.endpoint.url,
                    content=job.event.body,
                    headers=headers,
                    timeout=self._settings.timeout_seconds,
                )
            status = response.status_code
        except (httpx.TimeoutException, TimeoutError):
            error = "timeout"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a signer bug must not stop the outbox; the log shows it
            _log.exception("webhook attempt for %s failed before sending", job.event.event_id)
            error = f"{type(exc).__name__}: {exc}"
        self._log.append(
            DeliveryAttempt(
                seq=next(self._attempt_seq),
                event_id=job.event.event_id,
                event_type=job.event.event_type,
                endpoint_id=job.endpoint.id,
                endpoint_url=job.endpoint.url,
                attempt=job.attempt,
                copy=job.copy,
                status=status,
                error=error,
                at=self._settings.now(),
            )
        )
        return status is not None and 200 <= status < 300

    def _after_attempt(self, job: _Job, ok: bool) -> None:
        schedule = self._settings.retry_schedule_seconds
        if ok or job.attempt > len(schedule):
            self._finish(1)
            return
        delay = schedule[job.attempt - 1] * self._settings.time_scale
        retry = _Job(job.event, job.endpoint, job.attempt + 1, job.copy)
        self._spawn(asyncio.get_running_loop(), self._retry_later(retry, delay))

    async def _retry_later(self, job: _Job, delay: float) -> None:
        try:
            await self._settings.sleep(delay)
        except asyncio.CancelledError:
            self._finish(1)
            raise
        # The retry joins the first-attempt queue; it was already counted as pending.
        loop = asyncio.get_running_loop()
        with self._lock:
            lane = self._lane(loop)
            lane.jobs.append(job)
            start = not lane.pumping
            lane.pumping = True
        if start:
            self._spawn(loop, self._pump(lane))

    def _spawn(self, loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, None]) -> None:
        task = loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish(self, count: int) -> None:
        with self._lock:
            self._pending -= count
            if self._pending > 0:
                return
            self._pending = 0
            self._idle.set()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting
                loop.call_soon_threadsafe(_resolve, future)

    # -- observing -------------------------------------------------------------------------------------

    def attempts(self) -> list[DeliveryAttempt]:
        """Every logged attempt, oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def in_flight(self) -> int:
        """Deliveries queued, being sent or waiting to retry (held events are not counted)."""
        with self._lock:
            return self._pending

    async def drain(self, timeout_seconds: float | None = None) -> None:
        """Wait until no delivery is queued, in flight or waiting to retry; held events are not waited
        for. Raises :class:`FakeError` (``delivery_drain_timeout``) after ``timeout_seconds``."""
        limit = self._settings.drain_timeout_seconds if timeout_seconds is None else timeout_seconds
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._pending == 0:
                return
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, limit)
        except TimeoutError as exc:
            raise FakeError(
                f"webhook deliveries still in flight after {limit} s ({self.in_flight} left)",
                code="delivery_drain_timeout",
            ) from exc

    def drain_blocking(self, timeout_seconds: float | None = None) -> None:
        """:meth:`drain` for synchronous callers (not from inside the loop that delivers)."""
        limit = self._settings.drain_timeout_seconds if timeout_seconds is None else timeout_seconds
        if not self._idle.wait(limit):
            raise FakeError(
                f"webhook deliveries still in flight after {limit} s ({self.in_flight} left)",
                code="delivery_drain_timeout",
            )

    def reset(self) -> None:
        """Forget endpoints, held events and the log; back to ``immediate``. In-flight sends finish."""
        with self._lock:
            self._endpoints.clear()
            self._held.clear()
            self._sent.clear()
            self._log.clear()
            self._mode, self._seed, self._batch_size = DeliveryMode.IMMEDIATE, None, None

    def close(self) -> None:
        """Stop the private background loop, if one was started (only sync senders start it)."""
        with self._lock:
            background, self._background = self._background, None
        if background is not None:
            loop, thread = background
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)

    def _background_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._background is not None:
                return self._background[0]
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=_run_forever, args=(loop,), name="fake-webhook-delivery", daemon=True
            )
            self._background = (loop, thread)
        thread.start()
        return loop


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()
