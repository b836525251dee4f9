"""`payharness replay` and `payharness record`: re-signed replay of recorded processor webhooks, with an
exactly-once check against the target's ledger.

Layers, each a module named by its noun:

* `recording` (+ `schema`): the canonical JSONL format, ``contracts/webhook-recording.schema.json``;
* `importers`: one module per source (Stripe event exports, Xendit callbacks, Razorpay webhooks, CDP
  webhooks, HAR), behind the `Importer` protocol;
* `rails`, `webhook_secrets`: which `fakes.signing` scheme and which test secret sign each rail;
* `plan`, `replayer`: order, copies, concurrency and rate; re-signing with a fresh timestamp per send;
* `results`, `exactly_once`, `runner`: outcomes, the state reads and checks, a whole two-pass run;
* `findings`: anomalies in the input (one event id with different bodies or types, one payment under
  several event ids) and the target's reasons for every non-applied answer, grouped;
* `report`: ``summary.md``, ``junit.xml``, ``events.jsonl`` in ``reports/<timestamp>-replay/``;
* `recorder`: the capturing, forwarding ASGI app; `command`: the two CLI entry points.

The replayer is black-box: it reaches the target over HTTP only and never imports
``harness.reference``.
"""

from __future__ import annotations

from harness.replay.command import record_command, replay_command, replay_command_async
from harness.replay.errors import (
    ListenNotLoopback,
    MissingWebhookSecret,
    NonLoopbackTargetRefused,
    RecordingUnreadable,
    ReplayError,
    UnknownRecordingFormat,
    UnsupportedRail,
)
from harness.replay.exactly_once import AccountState, LedgerLine, StateSnapshot, read_state
from harness.replay.importers import IMPORTERS, Importer, ImportOptions, load_file, load_files
from harness.replay.plan import Order, PlannedSend, plan_sends
from harness.replay.rails import DEFAULT_WEBHOOK_PATH, RAIL_SPECS, RailSpec, event_id_of
from harness.replay.recorder import Recorder, RecorderConfig
from harness.replay.recording import (
    Delivery,
    LoadProblem,
    LoadResult,
    RecordingWriter,
    parse_recording,
    read_recording,
)
from harness.replay.replayer import ReplayConfig, Replayer
from harness.replay.report import write_report
from harness.replay.results import Mismatch, Outcome, SendResult
from harness.replay.runner import ReplayRun, run_replay
from harness.replay.webhook_secrets import WebhookSecrets, signers_for

__all__ = [
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
