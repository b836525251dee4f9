"""Each figure is printed with its ratio and goal; the report folder holds results.json and summary.md."""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench.report import figure_line, run_folder, summary_markdown, write_results
from harness.bench.results import BenchResult, Figure, Goal

GET_VS_LIMIT = Figure(
    name="fake Stripe GET vs no-op",
    unit="req/s",
    value=3000.0,
    baseline_name="no-op ASGI (limit)",
    baseline=12000.0,
    ratio=0.25,
    goal=Goal(threshold=0.3),
    detail="p50/p99 1.00 ms/9.00 ms",
)


def test_a_missed_goal_is_printed_with_the_ratio_and_the_goal() -> None:
    line = figure_line(GET_VS_LIMIT)
    assert line == (
        "fake Stripe GET vs no-op: 3,000 req/s vs no-op ASGI (limit) 12,000 req/s; ratio 0.25; "
        "goal >= 0.3: MISSED [p50/p99 1.00 ms/9.00 ms]"
    )


def test_a_met_goal_and_a_figure_without_goal_say_so() -> None:
    met = Figure(
        name="gate",
        unit="s",
        value=30.0,
        baseline_name="budget",
        baseline=60.0,
        ratio=0.5,
        goal=Goal(threshold=1.0, at_least=False),
    )
    informative = Figure(
        name="POST vs Prism",
        unit="req/s",
        value=10.0,
        baseline_name="Prism",
        baseline=5.0,
        ratio=2.0,
    )
    assert figure_line(met).endswith("ratio 0.50; goal <= 1: met")
    assert figure_line(informative).endswith("ratio 2.00; no goal")


def test_an_unmeasured_figure_prints_not_available_with_its_reason() -> None:
    figure = Figure.missing(
        "POST vs localstripe", "req/s", "localstripe lacks this endpoint (answered 404)"
    )
    assert (
        figure_line(figure)
        == "POST vs localstripe: not available: localstripe lacks this endpoint (answered 404)"
    )


def test_the_summary_tables_every_figure_and_unavailable_benchmark() -> None:
    results = [
        BenchResult(
            name="fakes", quick=False, figures=(GET_VS_LIMIT,), notes=("Prism 5.14.2: static mock",)
        ),
        BenchResult(name="gate", quick=False, unavailable="the gate is not built yet"),
    ]
    text = summary_markdown(results, started_at="2026-01-01T00:00:00+00:00", quick=False)
    assert (
        "| fakes | fake Stripe GET vs no-op | 3,000 req/s | no-op ASGI (limit): 12,000 req/s | 0.25 | >= 0.3 | MISSED |"
        in text
    )
    assert "| gate | (all) | not available: the gate is not built yet |" in text
    assert "- Prism 5.14.2: static mock" in text


def test_two_runs_in_one_second_get_two_folders(tmp_path: Path) -> None:
    first = run_folder(tmp_path, 1_800_000_000.0)
    second = run_folder(tmp_path, 1_800_000_000.0)
    assert first.name == "20270115T080000Z-bench"
    assert second.name == "20270115T080000Z-bench-2"


def test_results_and_summary_are_written_to_the_run_folder(tmp_path: Path) -> None:
    results = [BenchResult(name="fakes", quick=True, figures=(GET_VS_LIMIT,))]
    path = write_results(tmp_path, results, started_at="t", quick=True, generator="httpx")
    document = json.loads(path.read_text())
    assert document["generator"] == "httpx" and document["quick"] is True
    assert document["benchmarks"][0]["figures"][0]["ratio"] == 0.25
    assert "quick (smoke check" in (tmp_path / "summary.md").read_text()
