"""The one-shot mode's output: a plain text table of a run, one row per leg, then the counts.

Plain text on purpose: it is read in a terminal, in a cron mail and in CI logs alike, and tests compare it.
"""

from __future__ import annotations

from .results import RunReport

__all__ = ["render_table"]

_HEADERS = ("LEG", "RESULT", "STATUS", "LATENCY", "REASON")


def render_table(report: RunReport) -> str:
    """The run as aligned columns; the reason column is last and never padded."""
    rows = [
        (
            r.leg,
            r.outcome.upper() if r.result in ("fail", "misconfigured") else r.outcome,
            "-" if r.http_status is None else str(r.http_status),
            f"{r.latency_ms} ms",
            r.reason,
        )
        for r in report.legs
    ]
    widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS) - 1)]

    def line(cells: tuple[str, ...]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
        return "  ".join([*padded, cells[-1]]).rstrip()

    out = [
        f"payment probe run {report.run_id} against {report.target} (profile {report.profile})",
        line(_HEADERS),
        *(line(row) for row in rows),
        (
            f"{len(report.legs)} legs: {report.count('pass')} pass, "
            f"{report.count('degraded')} degraded, {report.count('fail')} fail, "
            f"{report.count('misconfigured')} misconfigured; service {report.service}"
        ),
        *(f"WARNING payment_probe_cohort_reap_failed {line}" for line in report.reap_failures),
    ]
    return "\n".join(out) + "\n"
