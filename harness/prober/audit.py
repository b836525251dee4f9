"""The audit trail: one JSON line per failed or degraded leg, and one summary line per run.

PRIOR_ART.md §3 writes an `audit_log` row per failure with `{leg, reason, http_status, latency_ms, run_id,
base_url}`; a black-box prober has no database, so the rows become lines of a JSONL file (append-only,
one object per line, UTF-8). Degraded legs are written too, so a slow money path leaves a trace before it
breaks. Every text goes through the run's redactor first, and the target is shown without credentials:
secrets never reach the file. A write that fails is logged and never fails the run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .results import LegResult, RunReport

__all__ = ["AuditTrail", "leg_line", "summary_line"]

log = logging.getLogger("payharness.prober")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def leg_line(
    result: LegResult, *, run_id: str, target: str, profile: str, at: float
) -> dict[str, Any]:
    """The audit record of one failed or degraded leg."""
    return {
        "kind": "payment_probe_leg",
        "ts": _iso(at),
        "run_id": run_id,
        "leg": result.leg,
        "result": result.result,
        "reason": result.reason,
        "http_status": result.http_status,
        "latency_ms": result.latency_ms,
        "target": target,
        "profile": profile,
    }


def summary_line(report: RunReport, *, at: float) -> dict[str, Any]:
    """The audit record closing a run: every leg's result, the counts and the duration."""
    return {
        "kind": "payment_probe_run",
        "ts": _iso(at),
        "run_id": report.run_id,
        "target": report.target,
        "profile": report.profile,
        "results": {r.leg: r.result for r in report.legs},
        "outcomes": {r.leg: r.outcome for r in report.legs},
        "service": report.service,
        "passed": report.count("pass"),
        "degraded": report.count("degraded"),
        "failed": report.count("fail"),
        "misconfigured": report.count("misconfigured"),
        "reap_failures": list(report.reap_failures),
        "duration_ms": round(report.duration_seconds * 1000),
    }


class AuditTrail:
    """Appends audit lines to `path` (parent folders created); `path=None` keeps no trail."""

    def __init__(self, path: Path | None, *, redact: Callable[[str], str] = lambda s: s) -> None:
        self.path = path
        self._redact = redact

    def _write(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = self._redact(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            log.warning("payment_probe_audit_write_failed path=%s error=%s", self.path, exc)

    def leg(self, result: LegResult, *, run_id: str, target: str, profile: str, at: float) -> None:
        """Record a failed or degraded leg (a passing leg leaves no line)."""
        if result.result == "pass":
            return
        self._write(leg_line(result, run_id=run_id, target=target, profile=profile, at=at))

    def summary(self, report: RunReport, *, at: float) -> None:
        """Record the end of a run."""
        self._write(summary_line(report, at=at))
