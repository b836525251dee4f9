"""How suites reach a payments service: the in-process reference, or any service at a URL.

A :class:`Target` gives a suite an HTTP client to the payments service (:meth:`Target.client`,
:meth:`Target.async_client`), handles to the fake processors it is wired to (:attr:`Target.fakes`: journal,
faults, delivery controls, secrets, all through each fake's ``/_fake/`` control API) and says what it can do
(:class:`Capabilities`: live or dormant; whether it can be rebuilt with other settings).

* :func:`reference_target` builds the reference service in this process, on its own event loop thread (one
  loop owns its database pool, whoever calls), wired to fakes on loopback ports whose webhooks come back to it
  in-process. It can be :meth:`~Target.rebuild`-t with other settings.
* :func:`url_target` points at a running service. It cannot be rebuilt; the fakes it uses are whatever it was
  started against (see :func:`start_fakes` and :func:`fake_env`).

This is the only module besides `harness.selftest` that imports `harness.reference`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from fakes._common import LoopbackServer

from .errors import HarnessError, InvalidArgument, TargetUnreachable

__all__ = [
    "RAILS",
    "Capabilities",
    "FakeCredentials",
    "FakeHandle",
    "FakeServers",
    "Fakes",
    "Target",
    "TargetNotPayments",
    "TargetNotRebuildable",
    "credentials_from_env",
    "fake_env",
    "fakes_from_env",
    "new_admin_secret",
    "reference_generated_openapi",
    "reference_target",
    "start_fakes",
    "target_status",
    "url_target",
]

RAILS = ("stripe", "cdp", "xendit")
REFERENCE_BASE_URL = "http://reference.payharness"
T = TypeVar("T")


class TargetNotRebuildable(HarnessError):
    """Only the in-process reference can be rebuilt with other settings; a service at a URL cannot."""

    code = "target_not_rebuildable"


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """What a target can do, so a suite can say why it does not apply instead of failing obscurely."""

    live: bool
    rebuildable: bool
    in_process: bool
    rails: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeCredentials:
    """The test credentials the fakes are started with and the target must be configured with."""

    stripe_api_key: str = "sk_test_payharness"
    stripe_webhook_secret: str = "whsec_payharness_test"
    xendit_api_key: str = "xnd_development_payharness_test"
    xendit_callback_token: str = "xnd_callback_token_payharness_test"
    cdp_webhook_secret: str = "cdp_whsec_payharness_test"
    # a fixed merchant address (any checksummed address works: the fake settles to whatever `payTo` says)
    cdp_pay_to: str = "0x1111111111111111111111111111111111111111"
    #: one per run unless given (`payharness fakes` prints it as ADMIN_SECRET; the gate reads ADMIN_SECRET)
    admin_secret: str = field(default_factory=lambda: new_admin_secret())


def new_admin_secret() -> str:
    """A fresh admin secret (what `payharness fakes` prints when ADMIN_SECRET is not set already)."""
    return f"adm_{secrets.token_urlsafe(18)}"


#: FakeCredentials field → the environment variable a service (and the harness) reads it from
_CREDENTIAL_VARS = {
    "stripe_api_key": "STRIPE_API_KEY",
    "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET",
    "xendit_api_key": "XENDIT_API_KEY",
    "xendit_callback_token": "XENDIT_CALLBACK_TOKEN",
    "cdp_webhook_secret": "CDP_WEBHOOK_SECRET",
    "cdp_pay_to": "CDP_PAY_TO",
    "admin_secret": "ADMIN_SECRET",
}


def credentials_from_env(env: Mapping[str, str]) -> FakeCredentials:
    """The credentials a running service was started with, read from the same variables it reads."""
    given = {name: env[var] for name, var in _CREDENTIAL_VARS.items() if env.get(var)}
    return FakeCredentials(**given)


class FakeHandle:
    """One fake processor, driven through its ``/_fake/`` control API (works across processes)."""

    def __init__(self, rail: str, base_url: str, *, timeout_seconds: float = 10.0) -> None:
        self.rail = rail
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_seconds)

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, f"/_fake/{path}", json=body)
        except httpx.TransportError as exc:
            raise TargetUnreachable(f"{self.rail} fake at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise HarnessError(f"{self.rail} fake {method} /_fake/{path}: {response.text[:300]}")
        return response.json()

    def config(self) -> dict[str, Any]:
        """The fake's base info: keys, secrets, networks (a test fake shows its test secrets)."""
        result: dict[str, Any] = self._call("GET", "config")
        return result

    def journal(
        self, *, method: str | None = None, path_prefix: str | None = None
    ) -> list[dict[str, Any]]:
        """Processor requests the fake received, oldest first (control calls are never journaled)."""
        query = "&".join(
            f"{k}={v}" for k, v in (("method", method), ("path_prefix", path_prefix)) if v
        )
        entries: list[dict[str, Any]] = self._call(
            "GET", "journal" + (f"?{query}" if query else "")
        )
        return entries

    def clear_journal(self) -> None:
        """Forget every journaled request."""
        self._call("DELETE", "journal")

    def add_fault(self, **rule: Any) -> str:
        """Add a fault rule (``route``/``path``/``method``, ``status``, ``latency_seconds``, ...) → its id."""
        return str(self._call("POST", "faults", rule)["id"])

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "faults")

    def set_delivery_mode(
        self, mode: str, *, seed: int | None = None, batch_size: int | None = None
    ) -> None:
        """Webhook delivery mode: ``immediate``, ``held``, ``duplicated`` or ``reordered``."""
        body: dict[str, Any] = {"mode": mode}
        body.update(
            {k: v for k, v in (("seed", seed), ("batch_size", batch_size)) if v is not None}
        )
        self._call("POST", "deliveries/mode", body)

    def release(self, event_id: str | None = None) -> int:
        """Release held webhooks (one event, or all) → how many were released."""
        body = {"event_id": event_id} if event_id else {}
        return int(self._call("POST", "deliveries/release", body)["released"])

    def drain(self, timeout_seconds: float | None = None) -> None:
        """Wait (bounded) until no webhook delivery is in flight."""
        self._call(
            "POST", "deliveries/drain", {"timeout": timeout_seconds} if timeout_seconds else {}
        )

    def deliveries(self) -> dict[str, Any]:
        """Mode, held event ids and the attempt log."""
        result: dict[str, Any] = self._call("GET", "deliveries")
        return result

    def add_webhook_endpoint(self, url: str, *, secret: str | None = None) -> dict[str, Any]:
        """Register where the fake sends its webhooks → the endpoint (with its signing secret)."""
        body: dict[str, Any] = {"url": url}
        if secret is not None:
            body["secret"] = secret
        result: dict[str, Any] = self._call("POST", "webhook_endpoints", body)
        return result

    def reset(self) -> None:
        """Clear the journal, faults and all processor state."""
        self._call("POST", "reset")

    def close(self) -> None:
        """Close the control client."""
        self._http.close()


@dataclass(slots=True, kw_only=True)
class Fakes:
    """The fakes a target is wired to, by rail; `missing` says why a rail has none."""

    handles: dict[str, FakeHandle] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    credentials: FakeCredentials = field(default_factory=FakeCredentials)

    def get(self, rail: str) -> FakeHandle:
        """The handle of one rail's fake, or a `HarnessError` saying why there is none."""
        handle = self.handles.get(rail)
        if handle is None:
            reason = self.missing.get(rail, "not started")
            raise HarnessError(f"no {rail} fake for this target: {reason}")
        return handle

    def close(self) -> None:
        """Close every control client (the fakes themselves are owned by whoever started them)."""
        for handle in self.handles.values():
            handle.close()


class _AppLoop:
    """An event loop on its own thread that owns an ASGI app: every request runs there, whoever sends it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.app: Any = None
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="payharness-app", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_seconds: float = 60.0) -> T:
        """Run a coroutine on the app loop from a thread that is not the app loop."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_seconds)

    async def send(self, request: httpx.Request) -> httpx.Response:
        """One request through the app (body fully read on the app loop)."""
        # a crash inside the app reaches the suite as the 500 a client would see, not as an exception
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        response = await transport.handle_async_request(request)
        body = await response.aread()
        # a stream, not `content=`: the client then times the response and closes it as from a socket
        return httpx.Response(
            response.status_code, headers=response.headers, stream=httpx.ByteStream(body)
        )

    def close(self) -> None:
        """Stop the loop and join its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, runner: _AppLoop) -> None:
        self._runner = runner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._runner.run(self._runner.send(request))


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, runner: _AppLoop) -> None:
        self._runner = runner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        future = asyncio.run_coroutine_threadsafe(self._runner.send(request), self._runner.loop)
        return await asyncio.wrap_future(future)


class Target:
    """A payments service under test: an HTTP client, the fakes it is wired to, and its capabilities."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        capabilities: Capabilities,
        fakes: Fakes,
        transport: Callable[[], httpx.BaseTransport] | None = None,
        async_transport: Callable[[], httpx.AsyncBaseTransport] | None = None,
        rebuild: Callable[..., Target] | None = None,
        rebuild_from_env: Callable[[Mapping[str, str]], Target] | None = None,
        close: Callable[[], None] | None = None,
        asgi_app: Any = None,
        app_loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.capabilities = capabilities
        self.fakes = fakes
        self._transport = transport
        self._async_transport = async_transport
        self._rebuild = rebuild
        self._rebuild_from_env = rebuild_from_env
        self._close = close
        #: the in-process ASGI app (None for a service at a URL)
        self.asgi_app = asgi_app
        #: the event loop the in-process app runs on (its processor clients are bound to it)
        self.app_loop = app_loop

    def client(self, *, timeout_seconds: float = 30.0) -> httpx.Client:
        """A synchronous HTTP client to the service (the caller closes it)."""
        transport = self._transport() if self._transport else None
        return httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout_seconds)

    def async_client(self, *, timeout_seconds: float = 30.0) -> httpx.AsyncClient:
        """An async HTTP client to the service, usable from any event loop (the caller closes it)."""
        transport = self._async_transport() if self._async_transport else None
        return httpx.AsyncClient(
            base_url=self.base_url, transport=transport, timeout=timeout_seconds
        )

    def webhook_url(self, rail: str) -> str:
        """Where processors deliver this rail's webhooks."""
        return f"{self.base_url}/v1/payments/webhook/{rail}"

    def rebuild(self, **settings: Any) -> Target:
        """A fresh in-process reference with settings replaced (e.g. ``payments_live=False``)."""
        if self._rebuild is None:
            raise TargetNotRebuildable(
                f"{self.name} is a running service: restart it with other settings instead"
            )
        return self._rebuild(**settings)

    def rebuild_from_env(self, env: Mapping[str, str]) -> Target:
        """A fresh in-process reference started from `env` exactly as its entry point reads it."""
        if self._rebuild_from_env is None:
            raise TargetNotRebuildable(
                f"{self.name} is a running service: restart it with that environment instead"
            )
        return self._rebuild_from_env(env)

    def close(self) -> None:
        """Release what the target owns (the in-process app and its loop; never a remote service)."""
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(slots=True, kw_only=True)
class FakeServers:
    """Fakes serving on loopback ports in this process; `stop()` shuts them down."""

    fakes: Fakes
    servers: list[LoopbackServer] = field(default_factory=list)

    def stop(self) -> None:
        """Stop every fake server."""
        self.fakes.close()
        for server in self.servers:
            server.stop()
        self.servers.clear()


def _fake_app(
    rail: str,
    credentials: FakeCredentials,
    webhook_url: str | None,
    transport: httpx.AsyncBaseTransport | None,
) -> Any:
    urls = (webhook_url,) if webhook_url else ()
    # retry schedules of hours, scaled down so a gate run never waits on one
    common: dict[str, Any] = {
        "webhook_urls": urls,
        "delivery_transport": transport,
        "time_scale": 0.0001,
    }
    if rail == "stripe":
        from fakes.stripe import StripeConfig
        from fakes.stripe import create_app as stripe_app

        return stripe_app(
            StripeConfig(
                api_keys=(credentials.stripe_api_key,),
                webhook_secret=credentials.stripe_webhook_secret,
                **common,
            )
        )
    if rail == "xendit":
        from fakes.xendit import XenditConfig
        from fakes.xendit import create_app as xendit_app

        return xendit_app(
            XenditConfig(
                secret_key=credentials.xendit_api_key,
                callback_token=credentials.xendit_callback_token,
                **common,
            )
        )
    from fakes.cdp import CdpConfig
    from fakes.cdp import create_app as cdp_app

    return cdp_app(CdpConfig(webhook_secret=credentials.cdp_webhook_secret, **common))


def start_fakes(
    *,
    credentials: FakeCredentials | None = None,
    webhook_base_url: str | None = None,
    delivery_transport: httpx.AsyncBaseTransport | None = None,
    rails: tuple[str, ...] = RAILS,
) -> FakeServers:
    """Start each rail's fake on a free loopback port; a fake that cannot start is recorded, not hidden.

    With `webhook_base_url`, each fake delivers its webhooks to ``<base>/v1/payments/webhook/<rail>``
    (through `delivery_transport` when given, e.g. into an in-process app).
    """
    creds = credentials or FakeCredentials()
    started = FakeServers(fakes=Fakes(credentials=creds))
    for rail in rails:
        hook = (
            f"{webhook_base_url.rstrip('/')}/v1/payments/webhook/{rail}"
            if webhook_base_url
            else None
        )
        try:
            app = _fake_app(rail, creds, hook, delivery_transport)
        except (ImportError, AttributeError, TypeError) as exc:
            started.fakes.missing[rail] = f"the {rail} fake could not be built: {exc}"
            continue
        server = LoopbackServer(app).start()
        started.servers.append(server)
        started.fakes.handles[rail] = FakeHandle(rail, server.base_url)
    return started


def fake_env(fakes: Fakes) -> dict[str, str]:
    """The environment a payments service needs to use these fakes (what `payharness reference` reads)."""
    from fakes.stack import service_env

    creds = fakes.credentials
    return {
        "PAYMENTS_LIVE": "1",
        "ADMIN_SECRET": creds.admin_secret,
        **service_env(
            {rail: handle.base_url for rail, handle in fakes.handles.items()},
            api_keys={"stripe": creds.stripe_api_key, "xendit": creds.xendit_api_key},
            secrets={
                "stripe": creds.stripe_webhook_secret,
                "xendit": creds.xendit_callback_token,
                "cdp": creds.cdp_webhook_secret,
            },
            pay_to=creds.cdp_pay_to,
        ),
    }


_FAKE_URL_VARS = {
    "stripe": "STRIPE_API_BASE",
    "xendit": "XENDIT_API_BASE",
    "cdp": "CDP_FACILITATOR_URL",
}


def fakes_from_env(env: Mapping[str, str]) -> Fakes:
    """Handles to fakes a service was already started against (the URLs of `fake_env`'s variables), with
    the credentials (ADMIN_SECRET included) the same environment gives."""
    fakes = Fakes(credentials=credentials_from_env(env))
    for rail, var in _FAKE_URL_VARS.items():
        url = env.get(var)
        if url:
            fakes.handles[rail] = FakeHandle(rail, str(httpx.URL(url).copy_with(path="/")))
        else:
            fakes.missing[rail] = f"{var} is not set"
    return fakes


class TargetNotPayments(HarnessError):
    """Something answers at the URL, but not as a payments service (HTML, another API, a proxy page)."""

    code = "target_not_payments"


def target_status(url: str, *, wait_seconds: float = 0.0) -> dict[str, Any]:
    """`GET /v1/payments/status` of the service at `url`, waiting up to `wait_seconds` for it to listen.

    `TargetUnreachable` when nothing answers in time; `TargetNotPayments` when what answers is not the
    contract's status document (an HTML page, another service).
    """
    status_url = f"{url.rstrip('/')}/v1/payments/status"
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    while True:
        try:
            response = httpx.get(status_url, timeout=10)
            break
        except httpx.TransportError as exc:
            if time.monotonic() >= deadline:
                waited = f" after waiting {wait_seconds:g} s" if wait_seconds > 0 else ""
                raise TargetUnreachable(
                    f"{url} does not answer{waited} ({exc.__class__.__name__}): start the service "
                    "first, or give it longer with --wait-for-target SECONDS"
                ) from exc
            time.sleep(0.2)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("live"), bool):
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise TargetNotPayments(
            f"{status_url} answered HTTP {response.status_code} ({kind}), not the payments "
            "contract's status JSON: point --target at the payments service's base URL"
        )
    return dict(body)


def url_target(url: str, *, fakes: Fakes | None = None, live: bool | None = None) -> Target:
    """A payments service already running at `url` (never rebuilt; its liveness is read from the service)."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidArgument(f"--target must be an http(s) URL, got {url!r}")
    fakes = fakes if fakes is not None else Fakes()
    if live is None:
        live = bool(target_status(url)["live"])
    return Target(
        name=url,
        base_url=url,
        capabilities=Capabilities(
            live=live, rebuildable=False, in_process=False, rails=tuple(sorted(fakes.handles))
        ),
        fakes=fakes,
        close=fakes.close,
    )


def _reference_settings(
    fakes: Fakes, database_url: str, live: bool, overrides: Mapping[str, Any]
) -> Any:
    from harness.reference import CdpRail, ReferenceSettings, StripeRail, XenditRail

    creds, handles = fakes.credentials, fakes.handles
    settings = ReferenceSettings(
        payments_live=live,
        database_url=database_url,
        admin_secret=creds.admin_secret,
        public_base_url=REFERENCE_BASE_URL,
        stripe=StripeRail(
            api_base=handles["stripe"].base_url,
            api_key=creds.stripe_api_key,
            webhook_secret=creds.stripe_webhook_secret,
        )
        if "stripe" in handles
        else None,
        xendit=XenditRail(
            api_base=handles["xendit"].base_url,
            api_key=creds.xendit_api_key,
            callback_token=creds.xendit_callback_token,
        )
        if "xendit" in handles
        else None,
        cdp=CdpRail(
            facilitator_url=handles["cdp"].base_url,
            webhook_secret=creds.cdp_webhook_secret,
            pay_to=creds.cdp_pay_to,
        )
        if "cdp" in handles
        else None,
        # processor calls go to loopback fakes: fail fast and retry briefly
        outbound_timeout_seconds=5.0,
        outbound_backoff_seconds=0.01,
    )
    return dataclasses.replace(settings, **overrides)


def reference_target(
    *,
    live: bool = True,
    database_url: str | None = None,
    with_fakes: bool = True,
    wrap: Callable[[Any], Any] | None = None,
    **settings: Any,
) -> Target:
    """The reference payments service in this process, on SQLite in a temporary folder by default.

    With `with_fakes`, the three fakes are started on loopback ports and the reference is wired to them
    (their webhooks come back into the in-process app). `settings` override `ReferenceSettings` fields.
    `wrap` turns the reference app into a variant (an ASGI app around it, or the same app changed), which
    is how tests build a defective target without editing the reference.
    """
    from harness.reference import close_app, create_app

    runner = _AppLoop()
    workdir = tempfile.TemporaryDirectory(prefix="payharness-target-")
    db = database_url or f"sqlite+aiosqlite:///{Path(workdir.name) / 'reference.sqlite3'}"
    servers = (
        start_fakes(webhook_base_url=REFERENCE_BASE_URL, delivery_transport=_AsyncTransport(runner))
        if with_fakes
        else FakeServers(fakes=Fakes())
    )
    try:
        reference_settings = _reference_settings(servers.fakes, db, live, settings)
        reference_app = create_app(reference_settings)
        runner.app = wrap(reference_app) if wrap is not None else reference_app
    except BaseException:
        servers.stop()
        runner.close()
        workdir.cleanup()
        raise

    def close() -> None:
        try:
            runner.run(close_app(reference_app))
        finally:
            servers.stop()
            runner.close()
            workdir.cleanup()

    def rebuild(**changes: Any) -> Target:
        merged = {**settings, **changes}
        return reference_target(
            live=bool(merged.pop("payments_live", live)),
            database_url=database_url,
            with_fakes=with_fakes,
            wrap=wrap,
            **merged,
        )

    def rebuild_from_env(env: Mapping[str, str]) -> Target:
        from harness.reference import settings_from_env

        # the entry point's own parser decides live or dormant; no fakes are needed for that question
        parsed = settings_from_env(dict(env))
        return reference_target(
            live=parsed.payments_live,
            database_url="sqlite+aiosqlite://",
            with_fakes=False,
            wrap=wrap,
        )

    return Target(
        name="in-process reference",
        base_url=REFERENCE_BASE_URL,
        capabilities=Capabilities(
            live=reference_settings.payments_live,
            rebuildable=True,
            in_process=True,
            rails=tuple(sorted(servers.fakes.handles)),
        ),
        fakes=servers.fakes,
        transport=lambda: _SyncTransport(runner),
        async_transport=lambda: _AsyncTransport(runner),
        rebuild=rebuild,
        rebuild_from_env=rebuild_from_env,
        close=close,
        asgi_app=runner.app,
        app_loop=runner.loop,
    )


def reference_generated_openapi() -> dict[str, Any]:
    """The OpenAPI document FastAPI generates from the reference's routes (not the pinned one it serves)."""
    from fastapi import FastAPI

    from harness.reference import ReferenceSettings, create_app

    app = create_app(
        ReferenceSettings(database_url="sqlite+aiosqlite:///:memory:", create_schema=False)
    )
    document: dict[str, Any] = FastAPI.openapi(app)
    return document
