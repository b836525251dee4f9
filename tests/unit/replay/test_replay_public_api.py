"""The public surface of `harness.replay` is pinned, and replay stays black-box."""

from __future__ import annotations

import ast
from pathlib import Path

import harness.replay as replay


def test_public_names_are_pinned() -> None:
    assert sorted(replay.__all__) == sorted(
        [
            "DEFAULT_WEBHOOK_PATH",
            "IMPORTERS",
            "RAIL_SPECS",
            "AccountState",
            "Delivery",
            "ImportOptions",
            "Importer",
            "LedgerLine",
            "ListenNotLoopback",
            "LoadProblem",
            "LoadResult",
            "Mismatch",
            "MissingWebhookSecret",
            "NonLoopbackTargetRefused",
            "Order",
            "Outcome",
            "PlannedSend",
            "RailSpec",
            "Recorder",
            "RecorderConfig",
            "RecordingUnreadable",
            "RecordingWriter",
            "ReplayConfig",
            "ReplayError",
            "ReplayRun",
            "Replayer",
            "SendResult",
            "StateSnapshot",
            "UnknownRecordingFormat",
            "UnsupportedRail",
            "WebhookSecrets",
            "event_id_of",
            "load_file",
            "load_files",
            "parse_recording",
            "plan_sends",
            "read_recording",
            "read_state",
            "record_command",
            "replay_command",
            "replay_command_async",
            "run_replay",
            "signers_for",
            "write_report",
        ]
    )
    assert all(hasattr(replay, name) for name in replay.__all__)


def test_error_codes_are_stable() -> None:
    assert {
        cls.__name__: cls.code
        for cls in (
            replay.ReplayError,
            replay.RecordingUnreadable,
            replay.UnknownRecordingFormat,
            replay.UnsupportedRail,
            replay.MissingWebhookSecret,
            replay.NonLoopbackTargetRefused,
            replay.ListenNotLoopback,
        )
    } == {
        "ReplayError": "replay_error",
        "RecordingUnreadable": "recording_unreadable",
        "UnknownRecordingFormat": "unknown_recording_format",
        "UnsupportedRail": "unsupported_rail",
        "MissingWebhookSecret": "missing_webhook_secret",
        "NonLoopbackTargetRefused": "non_loopback_target_unconfirmed",
        "ListenNotLoopback": "non_loopback_listen",
    }


def test_replay_never_imports_the_reference_service() -> None:
    """Replay is black-box (DESIGN.md): it reaches a target over HTTP only."""
    package = Path(replay.__file__).parent
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.startswith("harness.reference") for n in names), path
