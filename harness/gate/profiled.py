"""`payharness gate --target URL --profile FILE`: the suites reach a foreign service through its profile.

A profile with a `[gate]` table describes a service that does not serve the payments contract itself; the
gate then starts the contract adapter (:mod:`harness.adapter`) on a loopback port in front of it and points
the suites at the adapter. A profile without `[gate]` (the reference's own, the default) changes nothing:
the suites talk to the target directly, exactly as without `--profile`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

from fakes._common import LoopbackServer
from harness.adapter import create_adapter
from harness.errors import InvalidArgument, TargetUnreachable
from harness.prober.gate_profile import GateSpec
from harness.prober.profile import load_profile

__all__ = ["gate_spec", "profile_webhook_urls", "suites_target"]


def gate_spec(profile: str | None, target: str | None) -> GateSpec | None:
    """The `[gate]` table of `profile` (None without one); a `[gate]` profile needs a `--target`."""
    if profile is None:
        return None
    spec = load_profile(profile).gate
    if spec is not None and not target:
        raise InvalidArgument(
            f"--profile {profile} describes a service of its own shape: give its URL with --target"
        )
    return spec


def profile_webhook_urls(profile: str, service_url: str | None) -> dict[str, str]:
    """Each rail's webhook URL for `payharness fakes --profile`: the profile's `[gate.webhooks]` paths
    joined to the service's base URL."""
    spec = load_profile(profile).gate
    if spec is None or not spec.webhooks:
        raise InvalidArgument(
            f'profile {profile} names no webhook paths ([gate.webhooks] RAIL = "/path"): add them, '
            "pass --webhook-url RAIL=URL, or drop --profile for a service taking the contract's paths"
        )
    if not service_url or not service_url.startswith(("http://", "https://")):
        raise InvalidArgument(
            f"--profile {profile} needs --webhook-target URL: the service's base URL its webhook "
            "paths are joined to"
        )
    return {rail: f"{service_url.rstrip('/')}{path}" for rail, path in spec.webhooks.items()}


def _wait_for(url: str, wait_seconds: float) -> None:
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    while True:
        try:
            httpx.get(url, timeout=10)
            return
        except httpx.TransportError as exc:
            if time.monotonic() >= deadline:
                raise TargetUnreachable(
                    f"{url} does not answer ({exc.__class__.__name__}): start the service first, or "
                    "give it longer with --wait-for-target SECONDS"
                ) from exc
            time.sleep(0.2)


@contextmanager
def suites_target(
    target: str, spec: GateSpec | None, env: Mapping[str, str], wait_seconds: float
) -> Iterator[str]:
    """The URL the suites should call: `target` itself, or an adapter over it while the block runs (the
    suites then need `RULED_OUT_TOKEN_ENV` set to `RULED_OUT_TOKEN` to read its not-applicable answers)."""
    if spec is None:
        yield target
        return
    _wait_for(f"{target.rstrip('/')}{spec.status_path}", wait_seconds)
    server = LoopbackServer(create_adapter(spec, target, env=env)).start()
    try:
        yield server.base_url
    finally:
        server.stop()
