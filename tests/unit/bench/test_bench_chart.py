"""The chart shows every measured ratio against its goal and lists what could not be measured."""

from __future__ import annotations

from pathlib import Path

from harness.bench.chart import render_chart
from harness.bench.results import BenchResult, Figure, Goal

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_chart_is_a_png_of_the_ratios(tmp_path: Path) -> None:
    results = [
        BenchResult(
            name="fakes",
            quick=False,
            figures=(
                Figure(
                    name="GET vs limit",
                    unit="req/s",
                    value=3,
                    baseline=10,
                    ratio=0.3,
                    goal=Goal(threshold=0.3),
                ),
                Figure(
                    name="GET vs localstripe",
                    unit="req/s",
                    value=3,
                    baseline=2,
                    ratio=1.5,
                    goal=Goal(threshold=3),
                ),
                Figure.missing("POST vs localstripe", "req/s", "localstripe lacks this endpoint"),
            ),
        ),
        BenchResult(name="gate", quick=False, unavailable="the gate is not built yet"),
    ]
    path = render_chart(results, tmp_path / "bench.png", title="payharness bench")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_a_run_without_any_ratio_still_draws_a_chart(tmp_path: Path) -> None:
    results = [BenchResult(name="webhooks", quick=True, unavailable="no PostgreSQL")]
    path = render_chart(results, tmp_path / "bench.png", title="t")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
