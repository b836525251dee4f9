"""What a benchmark reports: figures, each with the ratio that judges it and the goal for that ratio.

Absolute times on a shared two-core machine are noisy, so every headline number is read as a ratio to
something measured in the same run (a no-op limit, a peer, a bare loop, a budget). A :class:`Figure` holds
the number, its baseline, the ratio and the :class:`Goal`; a figure that could not be measured keeps the
reason instead of a value, so the report says "not available: <reason>" rather than inventing one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BenchResult", "Figure", "Goal", "ratio_of"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Goal:
    """A bound on a ratio: ``ratio >= threshold`` (``at_least``) or ``ratio <= threshold``."""

    threshold: float
    at_least: bool = True

    def met_by(self, ratio: float) -> bool:
        """Whether ``ratio`` meets the goal."""
        return ratio >= self.threshold if self.at_least else ratio <= self.threshold

    def describe(self) -> str:
        """``>= 0.3`` or ``<= 1``: how the report prints the goal."""
        return f"{'>=' if self.at_least else '<='} {self.threshold:g}"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"threshold": self.threshold, "at_least": self.at_least}


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    """One measured number, read against a baseline from the same run.

    ``ratio`` is ``value / baseline`` unless the benchmark computes it otherwise (e.g. "times faster" is
    ``baseline / value`` for durations); ``unavailable`` replaces all numbers with the reason.
    """

    name: str
    unit: str
    value: float | None = None
    baseline_name: str | None = None
    baseline: float | None = None
    ratio: float | None = None
    goal: Goal | None = None
    detail: str = ""
    unavailable: str | None = None

    @classmethod
    def missing(cls, name: str, unit: str, reason: str, *, goal: Goal | None = None) -> Figure:
        """A figure that could not be measured, and why."""
        return cls(name=name, unit=unit, goal=goal, unavailable=reason)

    @property
    def met(self) -> bool | None:
        """True or False against the goal; None without a goal or without a measured ratio."""
        if self.goal is None or self.ratio is None or math.isnan(self.ratio):
            return None
        return self.goal.met_by(self.ratio)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (``met`` included, so a reader needs no goal logic)."""
        return {
            "name": self.name,
            "unit": self.unit,
            "value": self.value,
            "baseline_name": self.baseline_name,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "goal": self.goal.to_json() if self.goal else None,
            "met": self.met,
            "detail": self.detail,
            "unavailable": self.unavailable,
        }


def ratio_of(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline``, or None when either is missing or the baseline is zero."""
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchResult:
    """Everything one benchmark measured: its figures, raw details for the JSON, and notes."""

    name: str
    quick: bool
    figures: tuple[Figure, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: the whole benchmark could not run (a missing package, PostgreSQL...), and why
    unavailable: str | None = None
    #: the benchmark crashed: the tool's fault, not a measurement
    error: str | None = None
    wall_seconds: float = 0.0

    @property
    def missed(self) -> tuple[Figure, ...]:
        """Figures measured below their goal."""
        return tuple(f for f in self.figures if f.met is False)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "quick": self.quick,
            "figures": [f.to_json() for f in self.figures],
            "details": dict(self.details),
            "notes": list(self.notes),
            "unavailable": self.unavailable,
            "error": self.error,
            "wall_seconds": round(self.wall_seconds, 3),
        }
