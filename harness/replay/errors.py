"""Errors of `payharness replay` and `payharness record`: the tool could not run (never a failure).

A target that answers wrongly is not an error here: it becomes a `Mismatch` in the report. These are
raised when the replay cannot start or continue at all, each with a stable snake_case ``code``.
"""

from __future__ import annotations

from harness.errors import ConfigError, HarnessError, InvalidArgument

__all__ = [
    "ListenNotLoopback",
    "MissingWebhookSecret",
    "NonLoopbackTargetRefused",
    "RecordingUnreadable",
    "ReplayError",
    "UnknownRecordingFormat",
    "UnsupportedRail",
]


class ReplayError(HarnessError):
    """Root of the replay and recorder errors."""

    code = "replay_error"


class RecordingUnreadable(ReplayError, ValueError):
    """A recording file cannot be read at all (missing, not UTF-8, not the format it claims)."""

    code = "recording_unreadable"


class UnknownRecordingFormat(ReplayError, ValueError):
    """No importer recognises a file, or the format named on the command line does not exist."""

    code = "unknown_recording_format"


class UnsupportedRail(ReplayError, ValueError):
    """A recording names a rail the replayer cannot sign for."""

    code = "unsupported_rail"


class MissingWebhookSecret(ConfigError):
    """A rail in the recordings has no test secret in the environment or the secrets file."""

    code = "missing_webhook_secret"


class NonLoopbackTargetRefused(InvalidArgument):
    """A target off this machine was not confirmed (``--yes-non-loopback`` or an interactive yes)."""

    code = "non_loopback_target_unconfirmed"


class ListenNotLoopback(InvalidArgument):
    """The recorder only listens on a loopback address (127.0.0.1, ::1, localhost)."""

    code = "non_loopback_listen"
