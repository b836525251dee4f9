"""Why a benchmark could not run, or could not measure one figure: each reason with a stable ``code``.

A benchmark that *measures* a figure below its goal is not an error (the report says so); these are for
the tool failing to measure at all. :class:`Unavailable` is the common case and is never fatal: a missing
peer (wrk, localstripe, Prism), a missing PostgreSQL, or a harness package that is not built yet becomes
"not available: <reason>" in the report instead of a made-up figure.
"""

from __future__ import annotations

from harness.errors import HarnessError, InvalidArgument

__all__ = [
    "BenchError",
    "ChildFailed",
    "LoadFailed",
    "NotLoopback",
    "Unavailable",
    "UnknownBenchmark",
]


class BenchError(HarnessError):
    """Root of the benchmark errors."""

    code = "bench_error"


class Unavailable(BenchError):
    """A figure (or a whole benchmark) cannot be measured here; the message says why, for the report."""

    code = "bench_unavailable"


class ChildFailed(BenchError):
    """A server or worker process the benchmark started did not come up, or died during the run."""

    code = "bench_child_failed"


class LoadFailed(BenchError):
    """The load generator could not run (wrk exited with an error, or printed no summary)."""

    code = "load_generator_failed"


class NotLoopback(BenchError, InvalidArgument):
    """Benchmark load goes to loopback addresses only (127.0.0.0/8, ::1, localhost)."""

    code = "bench_not_loopback"


class UnknownBenchmark(BenchError, InvalidArgument):
    """A benchmark name that does not exist."""

    code = "unknown_benchmark"
