"""`payharness bench` runs the chosen benchmarks, prints every figure, writes its report, and exits by
whether they ran (and, in a full run, met their goals)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.bench import command
from harness.bench.config import BenchContext, parse_peers
from harness.bench.errors import Unavailable, UnknownBenchmark
from harness.bench.results import BenchResult, Figure, Goal
from harness.errors import InvalidArgument

Runner = Callable[[BenchContext], BenchResult]


def _figure(ratio: float) -> Figure:
    return Figure(
        name="replayer vs bare",
        unit="events/s",
        value=ratio * 100,
        baseline_name="bare",
        baseline=100.0,
        ratio=ratio,
        goal=Goal(threshold=0.8),
    )


def _install(monkeypatch: pytest.MonkeyPatch, runners: dict[str, Runner]) -> list[BenchContext]:
    seen: list[BenchContext] = []

    def runner(name: str) -> Runner:
        def run(ctx: BenchContext) -> BenchResult:
            seen.append(ctx)
            return runners[name](ctx)

        return run

    monkeypatch.setattr(command, "_runner", runner)
    return seen


def _bench(
    tmp_path: Path, which: list[str], *, quick: bool, env: dict[str, str] | None = None
) -> tuple[int, str, Path]:
    out = io.StringIO()
    code = command.bench_command(
        which=which,
        quick=quick,
        report_dir=str(tmp_path),
        env=env or {},
        out=out,
        now=lambda: 1_800_000_000.0,
    )
    (run_dir,) = tmp_path.iterdir()
    return code, out.getvalue(), run_dir


def test_a_missed_goal_fails_a_full_run_and_prints_its_ratio(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _install(
        monkeypatch,
        {
            "replay": lambda ctx: BenchResult(
                name="replay", quick=ctx.quick, figures=(_figure(0.5),)
            )
        },
    )
    code, printed, run_dir = _bench(
        tmp_path, ["replay"], quick=False, env={"PAYHARNESS_BENCH_GENERATOR": "python"}
    )
    assert code == 1
    assert (
        "replay: replayer vs bare: 50 events/s vs bare 100 events/s; ratio 0.50; goal >= 0.8: MISSED"
        in printed
    )
    assert {p.name for p in run_dir.iterdir()} >= {"results.json", "summary.md", "bench.png"}


def test_a_quick_run_never_fails_on_a_goal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _install(
        monkeypatch,
        {
            "replay": lambda ctx: BenchResult(
                name="replay", quick=ctx.quick, figures=(_figure(0.5),)
            )
        },
    )
    code, _printed, run_dir = _bench(tmp_path, ["replay"], quick=True)
    assert code == 0
    assert json.loads((run_dir / "results.json").read_text())["benchmarks"][0]["quick"] is True


def test_an_unavailable_benchmark_is_reported_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def gate(ctx: BenchContext) -> BenchResult:
        raise Unavailable("the gate is not built yet")

    _install(
        monkeypatch,
        {
            "gate": gate,
            "replay": lambda ctx: BenchResult(
                name="replay", quick=ctx.quick, figures=(_figure(0.9),)
            ),
        },
    )
    code, printed, run_dir = _bench(tmp_path, ["gate", "replay"], quick=False)
    assert code == 0
    assert "gate: not available: the gate is not built yet" in printed
    benchmarks = json.loads((run_dir / "results.json").read_text())["benchmarks"]
    assert [b["name"] for b in benchmarks] == ["gate", "replay"]
    assert benchmarks[0]["unavailable"] == "the gate is not built yet"


def test_a_crashing_benchmark_exits_2_and_leaves_its_trace_beside_the_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def fakes(ctx: BenchContext) -> BenchResult:
        raise RuntimeError("boom")

    _install(monkeypatch, {"fakes": fakes})
    code, printed, run_dir = _bench(tmp_path, ["fakes"], quick=True)
    assert code == 2
    assert "fakes: could not run: [RuntimeError] boom" in printed
    assert "RuntimeError: boom" in (run_dir / "fakes-error.txt").read_text()


def test_no_name_runs_every_benchmark_in_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _install(
        monkeypatch,
        {
            name: (lambda n: lambda ctx: BenchResult(name=n, quick=ctx.quick))(name)
            for name in command.BENCHMARKS
        },
    )
    _bench(tmp_path, [], quick=True)
    assert len(seen) == 5
    benchmarks = json.loads(next(tmp_path.iterdir()).joinpath("results.json").read_text())[
        "benchmarks"
    ]
    assert [b["name"] for b in benchmarks] == ["fakes", "webhooks", "gate", "replay", "memory"]


def test_quick_uses_the_python_generator_and_peers_can_be_switched_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _install(
        monkeypatch, {"replay": lambda ctx: BenchResult(name="replay", quick=ctx.quick)}
    )
    _bench(tmp_path, ["replay"], quick=True, env={"PAYHARNESS_BENCH_PEERS": "off"})
    assert seen[0].generator.name == "httpx"
    assert seen[0].peers == frozenset()
    assert seen[0].budget.prober_runs < 1_000


def test_an_unknown_benchmark_is_refused_with_the_choices(tmp_path: Path) -> None:
    with pytest.raises(UnknownBenchmark) as refused:
        command.bench_command(
            which=["fakes", "speed"], quick=True, report_dir=str(tmp_path), env={}
        )
    assert refused.value.code == "unknown_benchmark"
    assert "fakes, webhooks, gate, replay, memory" in str(refused.value)
    assert not list(tmp_path.iterdir())  # nothing written for a refused run


@pytest.mark.parametrize(
    ("value", "peers"),
    [
        (None, {"localstripe", "prism", "stripe-stateful-mock"}),
        ("all", {"localstripe", "prism", "stripe-stateful-mock"}),
        ("off", set()),
        ("0", set()),
        ("localstripe", {"localstripe"}),
        (" Prism , localstripe ", {"localstripe", "prism"}),
        ("stripe-stateful-mock", {"stripe-stateful-mock"}),
    ],
)
def test_the_peers_to_load_are_read_from_one_variable(value: str | None, peers: set[str]) -> None:
    assert parse_peers(value) == peers


def test_an_unknown_peer_is_refused_with_the_known_ones() -> None:
    with pytest.raises(
        InvalidArgument,
        match="unknown peers stripe-mock; known: localstripe, prism, stripe-stateful-mock",
    ):
        parse_peers("stripe-mock")
