"""``payharness bench gate``: the wall time of ``payharness gate`` on the embedded defaults, stage by
stage, and the schemathesis stage in-process beside the same examples over loopback HTTP.

1. The whole gate on the embedded defaults (every suite, the in-process reference on SQLite, in-process
   fakes), through :func:`harness.gate.gate_command`, with a fixed seed, on 1 worker and then on
   ``SCALED_WORKERS`` (``--workers``). The breakdown comes from the 1-worker JUnit report: seconds per
   suite and test, and the time outside the tests (pytest's start-up, imports, collection, the report).
2. The contract suite again, same seed and examples, against ``payharness reference`` on a loopback port
   (wired to fakes on loopback ports): the schemathesis stage's seconds in both runs give the ratio.

Goals (issue 8): the whole gate under 60 s on a two-core machine; in-process at least 3 times faster. A
gate whose tests fail still times correctly (the verdict is noted); a gate that cannot run is reported.
"""

from __future__ import annotations

import io
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import BenchContext
from .errors import Unavailable
from .results import BenchResult, Figure, Goal
from .service import running_reference

__all__ = ["GATE_BUDGET_SECONDS", "GOAL_IN_PROCESS_SPEED_UP", "GOAL_WHOLE_GATE", "run", "stages"]

GATE_BUDGET_SECONDS = 60.0
GOAL_WHOLE_GATE = Goal(threshold=1.0, at_least=False)
GOAL_IN_PROCESS_SPEED_UP = Goal(threshold=3.0)
#: a fixed seed, so both runs of the contract suite generate the same examples
SEED = 8
CONTRACT_SUITE = "contract"
#: the whole gate is timed on 1 worker, then on this many (``--workers``; the gate's default on 2 cores)
SCALED_WORKERS = 2


def stages(junit: Path) -> dict[str, dict[str, float]]:
    """Seconds per suite and per test function from a gate's JUnit report.

    A schemathesis test is reported once as a whole (``test_x``) and once per operation (``test_x[GET
    /healthz]``); the whole is taken when present, else the operations are added up. The suite of a
    test is its ``suite`` property (the payharness plugin adds it), inherited by its operations.
    """
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    wholes: dict[tuple[str, str], float] = {}
    parts: dict[tuple[str, str], float] = {}
    suite_of: dict[str, str] = {}
    for suite in suites:
        for case in suite.iter("testcase"):
            name = case.get("name", "?")
            function = name.split("[", 1)[0]
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            if props.get("suite"):
                suite_of[function] = str(props["suite"])
            seconds = float(case.get("time") or 0)
            key = (suite_of.get(function, "?"), function)
            if "[" in name:
                parts[key] = parts.get(key, 0.0) + seconds
            else:
                wholes[key] = seconds
    result: dict[str, dict[str, float]] = {}
    for suite_name, function in dict.fromkeys([*wholes, *parts]):
        seconds = wholes.get((suite_name, function), parts.get((suite_name, function), 0.0))
        result.setdefault(suite_name, {})[function] = seconds
    return result


def schemathesis_seconds(breakdown: Mapping[str, Mapping[str, float]], junit: Path) -> float | None:
    """The contract suite's schemathesis stage: its test function that ran per operation."""
    root = ET.parse(junit).getroot()
    per_operation = {
        c.get("name", "").split("[", 1)[0]
        for c in root.iter("testcase")
        if "[" in c.get("name", "")
    }
    for function, seconds in breakdown.get(CONTRACT_SUITE, {}).items():
        if function in per_operation:
            return seconds
    return None


def _newest_junit(folder: Path, before: set[Path]) -> Path:
    runs = [p for p in folder.glob("*-gate*") if p not in before]
    if not runs:
        raise Unavailable(f"the gate wrote no report under {folder}")
    junit = max(runs, key=lambda p: p.stat().st_mtime) / "junit.xml"
    if not junit.exists():
        raise Unavailable(f"the gate wrote no junit.xml in {junit.parent} (see pytest-output.txt)")
    return junit


def _gate(
    ctx: BenchContext,
    *,
    target: str | None,
    suites: tuple[str, ...],
    env: Mapping[str, str],
    examples: int,
    label: str,
    workers: int = 1,
) -> tuple[float, int, Path]:
    """One gate run: its wall time, exit code and JUnit report; its console output goes to a log."""
    from harness.gate import gate_command

    folder = ctx.scratch("gate")
    before = set(folder.glob("*-gate*"))
    console = io.StringIO()
    started = time.perf_counter()
    code = gate_command(
        target=target,
        suites=suites,
        report_dir=folder,
        examples=examples,
        seed=SEED,
        workers=workers,
        env=env,
        out=console,
    )
    wall = time.perf_counter() - started
    (folder / f"{label}-console.txt").write_text(console.getvalue(), encoding="utf-8")
    if code == 2:
        raise Unavailable(f"the gate could not run ({label}); see gate/{label}-console.txt")
    return wall, code, _newest_junit(folder, before)


def _loopback_contract(ctx: BenchContext, examples: int) -> tuple[float, int, Path]:
    """The contract suite against the reference served on a loopback port, with fakes on loopback."""
    from harness.target import fake_env, start_fakes

    from .processes import free_port

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    servers = start_fakes(webhook_base_url=base_url)
    try:
        rails = fake_env(servers.fakes)
        database = f"sqlite+aiosqlite:///{ctx.scratch('gate') / 'loopback-reference.sqlite3'}"
        with running_reference(
            ctx, name="reference", folder="gate", rails=rails, database_url=database, port=port
        ):
            env = {**ctx.env, **rails}
            return _gate(
                ctx,
                target=base_url,
                suites=(CONTRACT_SUITE,),
                env=env,
                examples=examples,
                label="loopback",
            )
    finally:
        servers.stop()


def _verdict(code: int) -> str:
    return {0: "passed", 1: "a test failed"}.get(code, f"exit {code}")


def _whole_gate_figure(wall: float, workers: int, verdict: str, examples: int) -> Figure:
    on = "1 worker" if workers == 1 else f"{workers} workers"
    return Figure(
        name=f"whole gate wall time (embedded defaults, {on})",
        unit="s",
        value=wall,
        baseline_name="budget",
        baseline=GATE_BUDGET_SECONDS,
        ratio=wall / GATE_BUDGET_SECONDS,
        goal=GOAL_WHOLE_GATE,
        detail=f"{os.cpu_count()} cores; gate verdict: {verdict}; {examples} examples per operation",
    )


def run(ctx: BenchContext) -> BenchResult:
    """Time the whole gate, then the contract suite over loopback, and judge both figures."""
    try:
        from harness.gate import gate_command  # noqa: F401 - only to know it is there
        from harness.suites.plugin import DEFAULT_EXAMPLES
    except ImportError as exc:
        raise Unavailable(f"the gate is not built yet: {exc}") from exc
    started = time.perf_counter()
    examples = ctx.budget.gate_examples or DEFAULT_EXAMPLES
    ctx.say(f"gate: the whole gate on the embedded defaults (seed {SEED}, {examples} examples)")
    wall, code, junit = _gate(
        ctx, target=None, suites=(), env=ctx.env, examples=examples, label="in-process"
    )
    breakdown = stages(junit)
    in_tests = sum(sum(tests.values()) for tests in breakdown.values())
    for suite, tests in breakdown.items():
        ctx.say(
            f"  {suite:<12} {sum(tests.values()):7.1f} s  ({', '.join(f'{t} {s:.1f} s' for t, s in tests.items())})"
        )
    ctx.say(
        f"  {'(outside)':<12} {wall - in_tests:7.1f} s  (pytest start-up, imports, collection, report)"
    )
    verdict = _verdict(code)
    figures = [_whole_gate_figure(wall, 1, verdict, examples)]
    scaled_name = f"whole gate wall time (embedded defaults, {SCALED_WORKERS} workers)"
    if ctx.quick:
        # a smoke check runs each code path once; the scaled run is the same path with --workers
        figures.append(
            Figure.missing(scaled_name, "s", "a full run measures it", goal=GOAL_WHOLE_GATE)
        )
    else:
        ctx.say(f"gate: the whole gate again with {SCALED_WORKERS} worker processes (--workers)")
        scaled_wall, scaled_code, _ = _gate(
            ctx,
            target=None,
            suites=(),
            env=ctx.env,
            examples=examples,
            label=f"in-process-{SCALED_WORKERS}-workers",
            workers=SCALED_WORKERS,
        )
        figures.append(
            _whole_gate_figure(scaled_wall, SCALED_WORKERS, _verdict(scaled_code), examples)
        )
    in_process = schemathesis_seconds(breakdown, junit)
    details: dict[str, Any] = {
        "seed": SEED,
        "examples": examples,
        "cpus": os.cpu_count(),
        "in_process": {
            "wall_seconds": wall,
            "exit_code": code,
            "stages": breakdown,
            "outside_tests_seconds": wall - in_tests,
            "junit": str(junit),
        },
    }
    name = "schemathesis stage: in-process speed-up over loopback HTTP"
    try:
        ctx.say("gate: the contract suite again, against the reference on a loopback port")
        http_wall, http_code, http_junit = _loopback_contract(ctx, examples)
        http_breakdown = stages(http_junit)
        over_http = schemathesis_seconds(http_breakdown, http_junit)
        details["loopback"] = {
            "wall_seconds": http_wall,
            "exit_code": http_code,
            "stages": http_breakdown,
            "junit": str(http_junit),
        }
    except Unavailable as exc:
        figures.append(Figure.missing(name, "s", str(exc), goal=GOAL_IN_PROCESS_SPEED_UP))
    else:
        if in_process is None or over_http is None or in_process <= 0:
            figures.append(
                Figure.missing(
                    name,
                    "s",
                    "the contract suite reported no schemathesis stage",
                    goal=GOAL_IN_PROCESS_SPEED_UP,
                )
            )
        else:
            figures.append(
                Figure(
                    name=name,
                    unit="s",
                    value=in_process,
                    baseline_name="loopback HTTP",
                    baseline=over_http,
                    ratio=over_http / in_process,
                    goal=GOAL_IN_PROCESS_SPEED_UP,
                    detail=f"same seed {SEED} and {examples} examples per operation",
                )
            )
    return BenchResult(
        name="gate",
        quick=ctx.quick,
        figures=tuple(figures),
        details=details,
        wall_seconds=time.perf_counter() - started,
    )
