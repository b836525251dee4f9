"""The harness's error tree: every error carries a stable snake_case `code` a user can grep."""

from __future__ import annotations

__all__ = ["ConfigError", "HarnessError", "InvalidArgument", "TargetUnreachable"]


class HarnessError(Exception):
    """Root of every error the harness raises on purpose (the tool could not run: not a failure)."""

    code = "harness_error"


class InvalidArgument(HarnessError, ValueError):
    """A command-line or API argument is wrong."""

    code = "invalid_argument"


class ConfigError(HarnessError, ValueError):
    """The environment or a configuration file is wrong or incomplete."""

    code = "config_error"


class TargetUnreachable(HarnessError, ConnectionError):
    """The payments service under test does not answer."""

    code = "target_unreachable"
