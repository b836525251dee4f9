"""Errors of the prober: the tool could not run (a bad profile, target or flag), never a leg's verdict.

A failing leg is a *result* (`fail`), not an exception: a run never raises. These errors are raised only
while the prober is being configured, before any leg runs, or when a finished run cannot be pushed.
"""

from __future__ import annotations

from harness.errors import ConfigError, HarnessError, InvalidArgument

__all__ = [
    "InvalidEnabledFlag",
    "InvalidTarget",
    "ProbeError",
    "ProfileError",
    "PushFailed",
    "UnknownProfile",
]


class ProbeError(HarnessError):
    """Root of the prober's own errors."""

    code = "probe_error"


class ProfileError(ProbeError, ConfigError):
    """A probe profile (TOML) is malformed: a missing key, a wrong type, an unknown placeholder."""

    code = "probe_profile_invalid"


class UnknownProfile(ProfileError):
    """Neither a shipped profile of that name nor a TOML file at that path exists."""

    code = "unknown_probe_profile"


class InvalidTarget(ProbeError, InvalidArgument):
    """The target base URL is not an absolute http(s) URL with a host."""

    code = "invalid_probe_target"


class InvalidEnabledFlag(ProbeError, ConfigError):
    """`PAYMENT_PROBE_ENABLED` holds something that is neither a yes nor a no."""

    code = "invalid_probe_enabled_flag"


class PushFailed(ProbeError, ConnectionError):
    """The Pushgateway did not accept the run's metrics."""

    code = "pushgateway_push_failed"
