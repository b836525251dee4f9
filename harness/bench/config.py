"""How big a benchmark run is (:class:`Budget`, full or ``--quick``) and what every benchmark receives
(:class:`BenchContext`: the budget, the load generator, the report folder, the environment, the output).

``--quick`` is a smoke check that the benchmarks still work (CI runs it): tiny loads, few runs, the Python
load generator unless the environment asks for wrk. Its numbers are printed but mean little.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from harness.errors import InvalidArgument

from .load import LoadGenerator

__all__ = ["FULL", "PEERS", "QUICK", "BenchContext", "Budget", "parse_peers"]


#: every peer the fakes benchmark knows
PEERS = frozenset({"localstripe", "prism", "stripe-stateful-mock"})
_OFF = frozenset({"0", "off", "no", "false", "none"})
_ALL = frozenset({"", "1", "on", "yes", "true", "all"})


def parse_peers(value: str | None) -> frozenset[str]:
    """``PAYHARNESS_BENCH_PEERS``: unset/``all`` every peer, ``off`` none, else a comma-separated list."""
    text = (value or "").strip().lower()
    if text in _ALL:
        return PEERS
    if text in _OFF:
        return frozenset()
    chosen = frozenset(name.strip() for name in text.split(",") if name.strip())
    unknown = chosen - PEERS
    if unknown:
        raise InvalidArgument(
            f"PAYHARNESS_BENCH_PEERS names unknown peers {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(PEERS))}"
        )
    return chosen


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    """Sizes of one run; every load is bounded by these in both count and time."""

    load_seconds: float
    warmup_seconds: float
    connections: int
    max_requests: int
    webhook_pool: int
    webhook_accounts: int
    #: the webhook figure is measured at each of these numbers of connections
    webhook_concurrency: tuple[int, ...]
    #: when above 1, PostgreSQL is measured again with the reference on this many worker processes
    webhook_workers: int
    memory_requests: int
    memory_chunk_seconds: float
    memory_time_limit_seconds: float
    prober_runs: int
    gate_examples: int | None
    replay_events: int
    replay_concurrency: int
    repeats: int


#: A real measurement: a few seconds per load, 100,000 requests for the memory figure, 1,000 prober runs.
FULL = Budget(
    load_seconds=5.0,
    warmup_seconds=1.0,
    connections=16,
    max_requests=500_000,
    webhook_pool=10_000,
    webhook_accounts=64,
    webhook_concurrency=(1, 16, 64),
    webhook_workers=2,
    memory_requests=100_000,
    memory_chunk_seconds=5.0,
    memory_time_limit_seconds=240.0,
    prober_runs=1_000,
    gate_examples=None,  # the gate's own default, as `payharness gate` runs
    replay_events=5_000,
    replay_concurrency=16,
    repeats=2,
)

#: A smoke check: every code path, tiny numbers.
QUICK = Budget(
    load_seconds=0.4,
    warmup_seconds=0.1,
    connections=4,
    max_requests=2_000,
    webhook_pool=200,
    webhook_accounts=2,
    webhook_concurrency=(1, 4),
    webhook_workers=2,
    memory_requests=1_000,
    memory_chunk_seconds=1.0,
    memory_time_limit_seconds=30.0,
    prober_runs=10,
    gate_examples=1,
    replay_events=100,
    replay_concurrency=4,
    repeats=1,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchContext:
    """What a benchmark gets: sizes, the load generator, where to write, the environment, the console."""

    quick: bool
    budget: Budget
    generator: LoadGenerator
    run_dir: Path
    env: Mapping[str, str]
    #: the peers to load when found (``localstripe``, ``prism``, ``stripe-stateful-mock``); the others are
    #: reported as skipped
    peers: frozenset[str] = PEERS
    out: TextIO = field(default=sys.stdout)
    now: Callable[[], float] = time.time

    def say(self, line: str) -> None:
        """A progress line on the console."""
        self.out.write(line + "\n")
        self.out.flush()

    def scratch(self, name: str) -> Path:
        """A folder for a benchmark's own files (logs of its children, databases) inside the report."""
        path = self.run_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path
