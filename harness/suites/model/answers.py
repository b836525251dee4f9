"""What the model expects an answer to be, and the contract's charge formula.

An :class:`Answer` is one acceptable HTTP answer: a status, the error code of a non-2xx (the contract's
`{"error": {"code"}}`), and the 2xx body fields that must equal exact values. Where the contract allows more
than one answer (a validly signed but out-of-range event: `400 invalid_payload` or a 200 no-op), the model
returns every acceptable one; the driver reports which one the target gave, so the model follows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_MICROS", "Answer", "Clamp", "charge_for", "error", "ok"]

#: The contract's bound on amounts and costs (one billion USD in micros).
MAX_MICROS = 10**15


@dataclass(frozen=True, slots=True)
class Answer:
    """One acceptable answer: status, error code (non-2xx) and exact 2xx body fields."""

    status: int
    code: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """`HTTP 402 insufficient_credit` or `HTTP 200 {status: applied}`."""
        if self.code:
            return f"HTTP {self.status} {self.code}"
        shown = ", ".join(f"{k}: {v!r}" for k, v in self.fields.items())
        return f"HTTP {self.status}" + (f" {{{shown}}}" if shown else "")


def ok(http: int = 200, /, **fields: Any) -> Answer:
    """A 2xx answer (HTTP status `http`) whose body has `fields` exactly."""
    return Answer(http, None, fields)


def error(status: int, code: str) -> Answer:
    """An error answer in the contract's shape."""
    return Answer(status, code)


@dataclass(frozen=True, slots=True, kw_only=True)
class Clamp:
    """The target's margin clamp and default margin, in basis points (configuration, not contract)."""

    min_bps: int
    max_bps: int
    default_bps: int

    def effective(self, requested: int | None) -> int:
        """The margin applied to a request (`None`: the default), clamped to `[min, max]`."""
        margin = self.default_bps if requested is None else requested
        return max(self.min_bps, min(self.max_bps, margin))


def charge_for(cost_micros: int, margin_bps: int, step_micros: int = 1) -> int:
    """DESIGN.md: `charged = cost + ceil(cost * margin_bps / 10_000)`, in integers, computed in the target's
    unit of `step_micros` (1: the contract's micro-USD; a service keeping cents rounds up to a cent)."""
    units = cost_micros // step_micros
    return step_micros * (units + -((-units * margin_bps) // 10_000))
