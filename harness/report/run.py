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
    notes: tuple[str, ...] = ()
    target_env: dict[str, str] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """PASSED, FAILED or COULD NOT RUN, from the gate's exit code."""
        return {0: "PASSED", 1: "FAILED"}.get(self.exit_code, "COULD NOT RUN")
