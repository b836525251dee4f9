"""What a report says about the run itself: target, seed, options, timing and the command that made it."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RunInfo"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """The context of one gate run, shown at the top of every report."""

    target: str
    seed: int
    examples: int
    workers: int
    suites: tuple[str, ...]
    command: str
    started_at: str
    wall_seconds: float
    exit_code: int
    #: PASSED, INCOMPLETE, FAILED or COULD NOT RUN (see `harness.report.verdict`; default: from exit_code)
    verdict: str = ""
    #: the verdict with its reason: ``INCOMPLETE: 3 not run (--allow-skips accepts that)``
    verdict_line: str = ""
    #: what the target says of itself: ``live`` or ``dormant`` (per /v1/payments/status), and what was expected
    liveness: str = ""
    notes: tuple[str, ...] = ()
    target_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.verdict:
            word = {0: "PASSED", 1: "FAILED", 3: "INCOMPLETE"}.get(self.exit_code, "COULD NOT RUN")
            object.__setattr__(self, "verdict", word)
