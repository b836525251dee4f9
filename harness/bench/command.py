"""``payharness bench {fakes,webhooks,gate,replay,memory} [--quick]`` as a function the CLI calls.

Runs the chosen benchmarks (all of them when none is named) one after the other, prints each figure with
its ratio and goal as it is measured, and writes ``results.json``, ``summary.md`` and ``bench.png`` to
``<report_dir>/<timestamp>-bench/``.

Environment (a mapping from the CLI; nothing here reads ``os.environ``):

| variable | meaning |
|---|---|
| ``PAYHARNESS_BENCH_GENERATOR`` | ``auto`` (wrk when installed, else httpx), ``wrk`` or ``python``; default ``auto``, and ``python`` with ``--quick`` |
| ``PAYHARNESS_BENCH_PEERS`` | ``off`` skips every peer, a comma-separated list of ``localstripe``, ``prism``, ``stripe-stateful-mock`` loads those (the others are reported as skipped); default all |
| ``PAYHARNESS_TEST_POSTGRES_URL`` | the PostgreSQL server of the webhooks benchmark (else a private one, else skipped) |
| ``PAYHARNESS_BENCH_LOCALSTRIPE``, ``PAYHARNESS_BENCH_PRISM`` | where the peers' commands are, when not found |
| ``PAYHARNESS_BENCH_STRIPE_STATEFUL_MOCK`` | an installed stripe-stateful-mock package directory (else it is installed with npm into ``$XDG_CACHE_HOME/payharness/npm``, default ``~/.cache/payharness/npm``, on first use) |

Exit codes: 0 every benchmark ran (and, in a full run, met its goals); 1 a full run missed a goal;
2 a benchmark crashed (its error is in the report). ``--quick`` never fails on a goal: it is a smoke check.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from .chart import CHART_FILE, render_chart
from .config import FULL, QUICK, BenchContext, parse_peers
from .errors import Unavailable, UnknownBenchmark
from .load import pick_generator
from .report import figure_line, run_folder, write_results
from .results import BenchResult

__all__ = ["BENCHMARKS", "bench_command"]

#: every benchmark, in the order a full run measures them
BENCHMARKS = ("fakes", "webhooks", "gate", "replay", "memory")


def _runner(name: str) -> Callable[[BenchContext], BenchResult]:
    module = importlib.import_module(f"harness.bench.{name}")
    run: Callable[[BenchContext], BenchResult] = module.run
    return run


def _run_one(name: str, ctx: BenchContext) -> BenchResult:
    started = time.perf_counter()
    try:
        return _runner(name)(ctx)
    except Unavailable as exc:
        return BenchResult(
            name=name,
            quick=ctx.quick,
            unavailable=str(exc),
            wall_seconds=time.perf_counter() - started,
        )
    except Exception as exc:  # the report must still be written; the trace goes next to it
        (ctx.run_dir / f"{name}-error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        code = getattr(exc, "code", type(exc).__name__)
        return BenchResult(
            name=name,
            quick=ctx.quick,
            error=f"[{code}] {exc}",
            wall_seconds=time.perf_counter() - started,
        )


def bench_command(
    *,
    which: Sequence[str],
    quick: bool,
    report_dir: str | None,
    env: Mapping[str, str],
    out: TextIO | None = None,
    now: Callable[[], float] = time.time,
) -> int:
    """Run the benchmarks in ``which`` (all when empty); the exit code (see the module docstring)."""
    stream = out if out is not None else sys.stdout
    names = list(dict.fromkeys(which)) or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise UnknownBenchmark(
            f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    preference = env.get("PAYHARNESS_BENCH_GENERATOR") or ("python" if quick else "auto")
    generator = pick_generator(preference)
    peers = parse_peers(env.get("PAYHARNESS_BENCH_PEERS"))
    started = now()
    run_dir = run_folder(Path(report_dir or "reports"), started)
    ctx = BenchContext(
        quick=quick,
        budget=QUICK if quick else FULL,
        generator=generator,
        run_dir=run_dir,
        env=env,
        peers=peers,
        out=stream,
        now=now,
    )
    ctx.say(
        f"payharness bench: {', '.join(names)}{' (quick: a smoke check)' if quick else ''}; "
        f"load generator {generator.name}; report in {run_dir}"
    )
    results: list[BenchResult] = []
    for name in names:
        ctx.say(f"== {name}")
        result = _run_one(name, ctx)
        results.append(result)
        if result.unavailable:
            ctx.say(f"{name}: not available: {result.unavailable}")
        if result.error:
            ctx.say(f"{name}: could not run: {result.error} (trace in {name}-error.txt)")
        for figure in result.figures:
            ctx.say(f"{name}: {figure_line(figure)}")
    stamp = datetime.fromtimestamp(started, tz=UTC).isoformat(timespec="seconds")
    write_results(run_dir, results, started_at=stamp, quick=quick, generator=generator.name)
    files = "results.json, summary.md"
    try:
        render_chart(results, run_dir / CHART_FILE, title=f"payharness bench {stamp}")
        files += f", {CHART_FILE}"
    except Unavailable as exc:
        ctx.say(f"payharness bench: {exc}")
    figures = [f for r in results for f in r.figures]
    met = sum(1 for f in figures if f.met is True)
    missed = sum(1 for f in figures if f.met is False)
    absent = sum(1 for f in figures if f.unavailable) + sum(
        1 for r in results if r.unavailable or r.error
    )
    ctx.say(
        f"payharness bench: {len(figures)} figures, {met} goals met, {missed} missed, "
        f"{absent} not available; {files} in {run_dir}"
    )
    if any(r.error for r in results):
        return 2
    return 1 if missed and not quick else 0
