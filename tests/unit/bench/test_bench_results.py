"""Figures are judged by their ratio against a goal, and an unmeasured figure says why."""

from __future__ import annotations

import json

from harness.bench.results import BenchResult, Figure, Goal, ratio_of


def test_an_at_least_goal_is_met_at_its_threshold_and_missed_below() -> None:
    goal = Goal(threshold=0.3)
    assert goal.met_by(0.3)
    assert not goal.met_by(0.29)
    assert goal.describe() == ">= 0.3"


def test_an_at_most_goal_is_met_below_its_threshold_and_missed_above() -> None:
    goal = Goal(threshold=1.0, at_least=False)
    assert goal.met_by(0.5)
    assert not goal.met_by(1.01)
    assert goal.describe() == "<= 1"


def test_a_figure_below_its_goal_is_missed_and_listed_by_its_benchmark() -> None:
    slow = Figure(
        name="GET vs limit",
        unit="req/s",
        value=30,
        baseline=100,
        ratio=0.3 - 1e-9,
        goal=Goal(threshold=0.3),
    )
    fine = Figure(name="POST vs limit", unit="req/s", value=50, baseline=100, ratio=0.5)
    result = BenchResult(name="fakes", quick=False, figures=(slow, fine))
    assert slow.met is False
    assert fine.met is None  # no goal: nothing to judge
    assert result.missed == (slow,)


def test_a_figure_that_could_not_be_measured_keeps_its_reason_and_is_not_judged() -> None:
    figure = Figure.missing(
        "vs localstripe", "req/s", "localstripe is not installed", goal=Goal(threshold=3)
    )
    assert figure.value is None and figure.ratio is None
    assert figure.met is None
    assert figure.to_json()["unavailable"] == "localstripe is not installed"


def test_a_ratio_to_a_zero_or_missing_baseline_is_not_invented() -> None:
    assert ratio_of(10, 0) is None
    assert ratio_of(None, 10) is None
    assert ratio_of(10, 4) == 2.5


def test_a_result_serialises_to_json_with_the_verdict_of_each_figure() -> None:
    result = BenchResult(
        name="replay",
        quick=True,
        figures=(
            Figure(
                name="replayer vs bare",
                unit="events/s",
                value=90,
                baseline=100,
                ratio=0.9,
                goal=Goal(threshold=0.8),
            ),
        ),
        details={"events": 100},
        wall_seconds=1.23456,
    )
    document = json.loads(json.dumps(result.to_json()))
    assert document["figures"][0]["met"] is True
    assert document["figures"][0]["goal"] == {"threshold": 0.8, "at_least": True}
    assert document["details"] == {"events": 100}
    assert document["wall_seconds"] == 1.235
