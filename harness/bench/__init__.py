"""`payharness bench`: how fast the fakes, the webhook path, the gate and the replayer are, and how much
memory the fakes and the prober hold, each against its limit and its peers, as ratios.

    bench_command(which=["fakes"], quick=False, report_dir=None, env=os.environ)

One module per benchmark (`fakes`, `webhooks`, `gate`, `replay`, `memory`), each a `run(ctx)` returning a
:class:`BenchResult` of :class:`Figure` s; `load` (wrk or a bounded httpx loop, loopback only), `processes`
and `child` (the measured servers run in their own processes), `peers` (localstripe, Prism), `postgres`,
`report` and `chart` (``reports/<timestamp>-bench/results.json``, ``summary.md``, ``bench.png``).
"""

from __future__ import annotations

from .command import BENCHMARKS, bench_command
from .config import FULL, QUICK, BenchContext, Budget
from .errors import BenchError, ChildFailed, LoadFailed, NotLoopback, Unavailable, UnknownBenchmark
from .load import HttpxGenerator, LoadResult, LoadSpec, Request, WrkGenerator, pick_generator
from .results import BenchResult, Figure, Goal

__all__ = [
    "BENCHMARKS",
    "FULL",
    "QUICK",
    "BenchContext",
    "BenchError",
    "BenchResult",
    "Budget",
    "ChildFailed",
    "Figure",
    "Goal",
    "HttpxGenerator",
    "LoadFailed",
    "LoadResult",
    "LoadSpec",
    "NotLoopback",
    "Request",
    "Unavailable",
    "UnknownBenchmark",
    "WrkGenerator",
    "bench_command",
    "pick_generator",
]
