"""The send plan of one pass: which delivery goes out when, in which order, and how many copies.

* ``recorded``: file order; ``reversed``: the opposite; ``shuffled``: a permutation drawn from
  ``random.Random(seed)``, so a shuffled run is reproduced by giving its seed again.
* ``duplicate=N`` sends every delivery N extra times (``0``: once). In recorded and reversed order the
  copies follow their original at once (a processor's immediate retry); when shuffled they are spread
  through the run with everything else. With concurrency above one, adjacent copies race each other,
  which is how a double delivery arrives in production.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass

from harness.errors import InvalidArgument
from harness.replay.recording import Delivery

__all__ = ["Order", "PlannedSend", "plan_sends"]


class Order(enum.StrEnum):
    """The order deliveries are replayed in."""

    RECORDED = "recorded"
    SHUFFLED = "shuffled"
    REVERSED = "reversed"

    @classmethod
    def parse(cls, value: str | Order) -> Order:
        """An `Order` from its name; `InvalidArgument` lists the choices otherwise."""
        try:
            return cls(value)
        except ValueError as exc:
            raise InvalidArgument(
                f"--order must be one of {', '.join(o.value for o in cls)}, got {value!r}"
            ) from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSend:
    """One send: the ``seq``-th of its pass, copy ``copy`` (0 = the original) of delivery ``index``."""

    seq: int
    index: int
    copy: int
    delivery: Delivery


def plan_sends(
    deliveries: Sequence[Delivery], *, order: Order, seed: int | None, duplicate: int
) -> tuple[PlannedSend, ...]:
    """The sends of one pass (see the module docstring); ``seq`` counts from 1 in send order."""
    if duplicate < 0:
        raise InvalidArgument(f"--duplicate must be >= 0, got {duplicate}")
    indexes = list(range(len(deliveries)))
    if order is Order.REVERSED:
        indexes.reverse()
    pairs = [(index, copy) for index in indexes for copy in range(duplicate + 1)]
    if order is Order.SHUFFLED:
        random.Random(seed).shuffle(pairs)
    return tuple(
        PlannedSend(seq=seq, index=index, copy=copy, delivery=deliveries[index])
        for seq, (index, copy) in enumerate(pairs, start=1)
    )
