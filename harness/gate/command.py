"""`payharness gate`: run the selected suites through pytest and leave a report a person can read.

The suites run in a pytest subprocess (a clean interpreter per run: schemathesis, hypothesis and the
in-process reference keep no state between two gates), with the payharness plugin, JUnit output and a live
progress line per test on the console. Afterwards `reports/<timestamp>-gate/` holds `junit.xml`,
`summary.md` and a self-contained `report.html` (plus `pytest-output.txt`, pytest's own console text).

Exit codes: 0 every test passed; 1 a test failed (the target is wrong); 2 the gate could not run (bad
arguments, unreachable target, a suite erroring in set-up, a crashed pytest, no test collected).
"""

from __future__ import annotations

import os
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, TextIO

import httpx

from harness.errors import HarnessError, InvalidArgument, TargetUnreachable
from harness.report import GateResult, RunInfo, parse_junit, render_html, render_markdown
from harness.suites import SUITES, suite_module
from harness.target import Fakes, FakeServers, fake_env, fakes_from_env, start_fakes

__all__ = ["gate_command"]

_PLUGIN = "harness.suites.plugin"
_ENTRY_POINT = "payharness"


def _plugin_installed() -> bool:
    """Whether the `pytest11` entry point loads the plugin already (then `-p` would register it twice)."""
    return any(
        ep.name == _ENTRY_POINT and ep.value.startswith(_PLUGIN)
        for ep in metadata.entry_points(group="pytest11")
    )


def _run_dir(report_dir: Path, now: float) -> Path:
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = report_dir / f"{stamp}-gate"
    suffix = 1
    while candidate.exists():  # two gates in one second keep both reports
        suffix += 1
        candidate = report_dir / f"{stamp}-gate-{suffix}"
    candidate.mkdir(parents=True)
    return candidate


def _replay_command(
    target: str | None,
    suites: Sequence[str],
    seed: int,
    examples: int,
    depth: int | None = None,
) -> str:
    parts = ["payharness", "gate"]
    for suite in suites:
        parts += ["--suite", suite]
    parts += ["--seed", str(seed), "--examples", str(examples)]
    if depth is not None:
        parts += ["--depth", str(depth)]
    if target:
        parts += ["--target", target]
    return shlex.join(parts)


def _fakes_for_url_target(env: Mapping[str, str], out: TextIO) -> tuple[Fakes, FakeServers | None]:
    """Reuse the fakes the environment names (the target was started against them); start the rest."""
    known = fakes_from_env(env)
    missing = tuple(rail for rail in ("stripe", "cdp", "xendit") if rail not in known.handles)
    if not missing:
        return known, None
    servers = start_fakes(rails=missing)
    known.handles.update(servers.fakes.handles)
    known.missing = dict(servers.fakes.missing)
    lines = [f"{k}={v}" for k, v in sorted(fake_env(servers.fakes).items())]
    out.write(
        "payharness gate: started fakes on loopback for "
        + ", ".join(sorted(servers.fakes.handles))
        + ". The target must use these settings for its processors:\n"
        + "".join(f"    {line}\n" for line in lines)
    )
    return known, servers


def _check_reachable(url: str) -> None:
    try:
        httpx.get(f"{url.rstrip('/')}/openapi.json", timeout=10)
    except httpx.HTTPError as exc:
        raise TargetUnreachable(f"{url} does not answer: {exc}") from exc


def _pump(stream: IO[str], out: TextIO) -> None:
    for line in stream:
        out.write(line)
        out.flush()


def _run_pytest(argv: list[str], env: Mapping[str, str], cwd: Path, log: Path, out: TextIO) -> int:
    with log.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        pump = threading.Thread(target=_pump, args=(process.stderr, out), daemon=True)
        pump.start()
        code = process.wait()
        pump.join(timeout=10)
    return code


def gate_command(
    *,
    target: str | None,
    suites: Sequence[str],
    report_dir: str | Path,
    examples: int,
    seed: int | None,
    workers: int,
    env: Mapping[str, str],
    out: TextIO | None = None,
    now: Callable[[], float] = time.time,
    depth: int | None = None,
) -> int:
    """Run the gate and write its reports; the exit code (0 passed, 1 failed, 2 could not run).

    `depth` bounds the steps of one generated sequence of the stateful suite (None: the plugin's default).
    """
    out = out if out is not None else sys.stdout
    selected = tuple(suites) or tuple(SUITES)
    try:
        modules = [suite_module(name) for name in selected]
    except KeyError as exc:
        raise InvalidArgument(str(exc.args[0])) from exc
    if examples < 1:
        raise InvalidArgument("--examples must be at least 1")
    if workers < 1:
        raise InvalidArgument("--workers must be at least 1")
    if depth is not None and depth < 1:
        raise InvalidArgument("--depth must be at least 1")
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    started = now()
    # absolute: pytest runs in a scratch folder, and junit.xml must land in the user's report folder
    run_dir = _run_dir(Path(report_dir).resolve(), started)
    notes: list[str] = []
    if not target:
        notes.append(
            "The target is the in-process reference: replay a curl line against `payharness reference` "
            "(http://127.0.0.1:8000) by replacing http://reference.payharness."
        )
    servers: FakeServers | None = None
    argv = [sys.executable, "-m", "pytest", "--pyargs", *modules]
    argv += ["-p", "harness.gate.progress"]
    if not _plugin_installed():
        argv += ["-p", _PLUGIN]
    # an empty ini: the user's own pytest configuration (addopts, plugins) must not change the gate
    argv += ["-c", os.devnull, "-p", "no:cacheprovider", "-p", "no:benchmark"]
    argv += ["--junitxml", str(run_dir / "junit.xml"), "-o", "junit_suite_name=payharness-gate"]
    argv += ["--payments-seed", str(seed), "--payments-examples", str(examples), "-rN"]
    if depth is not None:
        argv += ["--payments-depth", str(depth)]
    if workers > 1:
        argv += ["-n", str(workers)]
    try:
        if target:
            _check_reachable(target)
            fakes, servers = _fakes_for_url_target(env, out)
            argv += ["--payments-target", target]
            for rail, handle in sorted(fakes.handles.items()):
                argv += ["--payments-fake", f"{rail}={handle.base_url}"]
            notes += [f"no {rail} fake: {why}" for rail, why in sorted(fakes.missing.items())]
        out.write(
            f"payharness gate: target={target or 'in-process reference'} suites={','.join(selected)} "
            f"seed={seed} examples={examples} workers={workers}\n"
        )
        out.flush()
        # a scratch working folder: tools that drop caches in the cwd (hypothesis) leave the reports clean
        with tempfile.TemporaryDirectory(prefix="payharness-gate-") as scratch:
            argv += ["--rootdir", scratch]
            code = _run_pytest(argv, env, Path(scratch), run_dir / "pytest-output.txt", out)
    except HarnessError as exc:
        out.write(f"payharness gate: could not run [{exc.code}] {exc}\n")
        code = 2
        notes.append(f"could not run [{exc.code}]: {exc}")
    finally:
        if servers is not None:
            servers.stop()
    result = _read_result(run_dir, notes)
    # a failed test means the target is wrong (1); an error alone means a suite could not run (2)
    if code == 0 and result.passed:
        exit_code = 0
    elif code == 1 and result.count("failed"):
        exit_code = 1
    else:
        exit_code = 2
    if code == 5:
        notes.append("pytest collected no test")
    elif code not in (0, 1):
        notes.append(f"pytest exited with {code}; see pytest-output.txt")
    run = RunInfo(
        target=target or "in-process reference (SQLite, in-process fakes)",
        seed=seed,
        examples=examples,
        workers=workers,
        suites=selected,
        command=_replay_command(target, selected, seed, examples, depth),
        started_at=datetime.fromtimestamp(started, tz=UTC).isoformat(timespec="seconds"),
        wall_seconds=now() - started,
        exit_code=exit_code,
        notes=tuple(notes),
    )
    (run_dir / "summary.md").write_text(render_markdown(result, run), encoding="utf-8")
    (run_dir / "report.html").write_text(render_html(result, run), encoding="utf-8")
    out.write(
        f"payharness gate: {run.verdict}: {result.count('passed')} passed, "
        f"{result.count('failed')} failed, {result.count('error')} errors; "
        f"generated cases: {result.properties.get('generated_cases', 'n/a')}; "
        f"{run.wall_seconds:.1f} s\n"
        f"payharness gate: reports in {run_dir} (junit.xml, summary.md, report.html)\n"
    )
    return exit_code


def _read_result(run_dir: Path, notes: list[str]) -> GateResult:
    junit = run_dir / "junit.xml"
    if not junit.exists():
        return GateResult(suites=())
    try:
        return parse_junit(junit)
    except HarnessError as exc:
        notes.append(str(exc))
        return GateResult(suites=())
