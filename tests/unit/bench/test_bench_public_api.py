"""The bench package's public names are pinned: removing or renaming one is a visible decision."""

from __future__ import annotations

import inspect

import harness.bench
from harness.bench import bench_command


def test_the_public_api_is_pinned() -> None:
    assert sorted(harness.bench.__all__) == sorted(
        [
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
    )


def test_the_cli_entry_point_takes_the_agreed_keywords() -> None:
    parameters = inspect.signature(bench_command).parameters
    assert list(parameters)[:4] == ["which", "quick", "report_dir", "env"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    assert harness.bench.BENCHMARKS == ("fakes", "webhooks", "gate", "replay", "memory")
