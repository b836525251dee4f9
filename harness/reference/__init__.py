"""The reference payments service: the correct implementation of the payharness contract.

It stands alone: it never imports `fakes` or the rest of `harness` (it is what a user's own service would be).
"""

from __future__ import annotations

from .app import close_app, create_app, create_schema
from .settings import (
    CdpRail,
    ReferenceSettings,
    StripeRail,
    XenditRail,
    parse_live_flag,
    settings_from_env,
)

__all__ = [
    "CdpRail",
    "ReferenceSettings",
    "StripeRail",
    "XenditRail",
    "close_app",
    "create_app",
    "create_schema",
    "parse_live_flag",
    "settings_from_env",
]
