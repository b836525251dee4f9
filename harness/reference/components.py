"""The reference service's replaceable parts.

`create_app(settings, components=...)` builds the service from these. The defaults are the correct
implementation; `harness.selftest` swaps exactly one of them at a time to build a defective variant and proves
that the suites catch it. The service's own code paths carry no switches for defects: a variant is a different
component, never a flag.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from .effects import apply_effects
from .money import CustomerCharge, compute_customer_charge
from .rails.base import Effect, RailAdapter, RetryPolicy
from .rails.cdp import CdpAdapter
from .rails.stripe import StripeAdapter
from .rails.xendit import XenditAdapter
from .sessions import PaymentSession, SettlingStreamResponse

__all__ = ["AdapterFactory", "ApplyEffects", "Components", "Pricing", "default_adapter_factories"]

Pricing = Callable[..., CustomerCharge]
ApplyEffects = Callable[[AsyncSession, str, str, tuple[Effect, ...]], Awaitable[str]]
#: (rail settings, timeout seconds, retry policy) -> adapter
AdapterFactory = Callable[[Any, float, RetryPolicy], RailAdapter]


def _stripe(config: Any, timeout: float, retry: RetryPolicy) -> RailAdapter:
    return StripeAdapter(config, timeout_seconds=timeout, retry=retry)


def _xendit(config: Any, timeout: float, retry: RetryPolicy) -> RailAdapter:
    return XenditAdapter(config, timeout_seconds=timeout, retry=retry)


def _cdp(config: Any, timeout: float, retry: RetryPolicy) -> RailAdapter:
    return CdpAdapter(config, timeout_seconds=timeout, retry=retry)


def default_adapter_factories() -> dict[str, AdapterFactory]:
    """The rail adapters of the correct implementation."""
    return {"stripe": _stripe, "xendit": _xendit, "cdp": _cdp}


def default_routers() -> list[APIRouter]:
    """Every router of the payments API, in registration order."""
    from .routes import accounts, admin, billing, charges, health, payments, usage, webhooks

    return [
        m.router for m in (health, payments, webhooks, accounts, billing, charges, usage, admin)
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Components:
    """What the app is assembled from; every field defaults to the correct part."""

    pricing: Pricing = compute_customer_charge
    session_class: type[PaymentSession] = PaymentSession
    stream_response_class: type[SettlingStreamResponse] = SettlingStreamResponse
    apply_effects: Callable[..., Awaitable[str]] = apply_effects
    adapter_factories: Mapping[str, AdapterFactory] = field(
        default_factory=default_adapter_factories
    )
    routers: Sequence[APIRouter] | None = None
    #: a `ServiceState` subclass (the live/rail checks live there)
    state_class: type[Any] | None = None
