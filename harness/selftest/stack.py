"""One set of fakes, and the reference's variants built on demand as targets wired to them.

Starting the three fakes is the slow part of a target, so the self-test starts them once: every variant gets
fresh processor state (`/_fake/reset`), its own SQLite database and its own in-process app, and the fakes'
webhooks reach it through a :class:`~harness.selftest.inprocess.Switchboard` at one stable address. Targets
built here can be rebuilt with other settings, or from an environment (`rebuild_from_env`, which parses
`PAYMENTS_LIVE` with the reference's own entry-point parser), as the inertness suite asks.
"""

from __future__ import annotations

import dataclasses
import itertools
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.reference import (
    CdpRail,
    ReferenceSettings,
    StripeRail,
    XenditRail,
    close_app,
    create_app,
    settings_from_env,
)
from harness.target import Capabilities, Fakes, FakeServers, Target, start_fakes

from .inprocess import AppThread, Switchboard
from .variants import Variant

__all__ = ["VariantStack", "VariantTarget"]

#: Where the fakes deliver webhooks; the switchboard answers there for the variant under test.
BASE_URL = "http://variant.payharness"


#: a target built from one variant; it can be rebuilt with other settings or from an environment
VariantTarget = Target


class VariantStack:
    """Fakes on loopback ports, an app thread, and a workdir for databases; `close()` releases all."""

    def __init__(self) -> None:
        self._apps = AppThread()
        self._switchboard = Switchboard()
        self._workdir = tempfile.TemporaryDirectory(prefix="payharness-selftest-")
        self._count = itertools.count(1)
        self._servers: FakeServers = start_fakes(
            webhook_base_url=BASE_URL,
            delivery_transport=self._apps.async_transport(self._switchboard),
        )

    @property
    def fakes(self) -> Fakes:
        """The shared fakes."""
        return self._servers.fakes

    def settings(self, **overrides: Any) -> ReferenceSettings:
        """Reference settings wired to the fakes, on a fresh SQLite file, with `overrides` applied."""
        creds, handles = self.fakes.credentials, self.fakes.handles
        database = Path(self._workdir.name) / f"variant-{next(self._count)}.sqlite3"
        settings = ReferenceSettings(
            payments_live=True,
            database_url=f"sqlite+aiosqlite:///{database}",
            admin_secret=creds.admin_secret,
            public_base_url=BASE_URL,
            stripe=StripeRail(
                api_base=handles["stripe"].base_url,
                api_key=creds.stripe_api_key,
                webhook_secret=creds.stripe_webhook_secret,
            ),
            xendit=XenditRail(
                api_base=handles["xendit"].base_url,
                api_key=creds.xendit_api_key,
                callback_token=creds.xendit_callback_token,
            ),
            cdp=CdpRail(
                facilitator_url=handles["cdp"].base_url,
                webhook_secret=creds.cdp_webhook_secret,
                pay_to=creds.cdp_pay_to,
            ),
            # processor calls go to loopback fakes: fail fast and retry briefly
            outbound_timeout_seconds=5.0,
            outbound_backoff_seconds=0.01,
        )
        return dataclasses.replace(settings, **overrides)

    def target(self, variant: Variant) -> VariantTarget:
        """The variant under test: fresh processor state, and the fakes' webhooks delivered to it."""
        for handle in self.fakes.handles.values():
            handle.reset()
        return self._build(variant, {}, primary=True)

    def _build(
        self, variant: Variant, overrides: dict[str, Any], *, primary: bool
    ) -> VariantTarget:
        settings = self.settings(**overrides)
        app = create_app(settings, components=variant.components())
        if primary:
            self._switchboard.current = app

        def close() -> None:
            if self._switchboard.current is app:
                self._switchboard.current = None
            self._apps.run(close_app(app))

        def rebuild(**changes: Any) -> Target:
            return self._build(variant, {**overrides, **changes}, primary=False)

        def rebuild_from_env(env: Mapping[str, str]) -> Target:
            live = settings_from_env(env).payments_live  # the reference's own flag parsing
            # a short-lived build probed with a request or two: an in-memory database is enough
            changes = {"payments_live": live, "database_url": "sqlite+aiosqlite://"}
            return self._build(variant, {**overrides, **changes}, primary=False)

        return VariantTarget(
            name=f"reference variant {variant.name}",
            base_url=BASE_URL,
            capabilities=Capabilities(
                live=settings.payments_live,
                rebuildable=True,
                in_process=True,
                rails=tuple(sorted(self.fakes.handles)),
            ),
            fakes=self.fakes,
            transport=lambda: self._apps.sync_transport(app),
            async_transport=lambda: self._apps.async_transport(app),
            rebuild=rebuild,
            rebuild_from_env=rebuild_from_env,
            close=close,
            asgi_app=app,
            app_loop=self._apps.loop,
        )

    def close(self) -> None:
        """Stop the fakes and the app thread, remove the databases."""
        self._servers.stop()
        self._apps.close()
        self._workdir.cleanup()
