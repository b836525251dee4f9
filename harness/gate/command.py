"""`payharness gate`: run the selected suites through pytest and leave a report a person can read.

The suites run in a pytest subprocess (a clean interpreter per run: schemathesis, hypothesis and the
in-process reference keep no state between two gates), with the payharness plugin, JUnit output and a live
progress line per test on the console. Afterwards `reports/<timestamp>-gate/` holds `junit.xml`,
`summary.md` and a self-contained `report.html` (plus `pytest-output.txt`, pytest's own console text).

Exit codes: 0 every selected test ran and passed; 1 a test failed (the target is wrong, or is not live /
dormant as `--expect` said); 2 the gate could not run (bad arguments, unreachable target, a suite erroring in
set-up, a crashed pytest, no test collected); 3 incomplete: some selected tests did not run (each with its
reason; `--allow-skips` turns that into 0). Tests the target's profile rules out (a live-only check on a
dormant service) are *not applicable*: listed with the reason, not counted against the gate.
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
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib import metadata, util
from pathlib import Path
from typing import IO, TextIO

from harness.adapter.answers import RULED_OUT_TOKEN
from harness.errors import HarnessError, InvalidArgument
from harness.gate.profiled import gate_spec, suites_target
from harness.redaction import redact_file, redact_text, redact_url
from harness.report import (
    RULED_OUT_TOKEN_ENV,
    GateResult,
    RunInfo,
    Verdict,
    annotate_junit,
    judge,
    parse_junit,
    render_html,
    render_markdown,
    write_could_not_run_junit,
)
from harness.suites import SUITES, suite_module
from harness.target import (
    Fakes,
    FakeServers,
    fake_env,
    fakes_from_env,
    new_admin_secret,
    start_fakes,
    target_status,
)

__all__ = ["default_workers", "gate_command"]

_PLUGIN = "harness.suites.plugin"
_ENTRY_POINT = "payharness"


def _plugin_installed() -> bool:
    """Whether the `pytest11` entry point loads the plugin already (then `-p` would register it twice)."""
    return any(
        ep.name == _ENTRY_POINT and ep.value.startswith(_PLUGIN)
        for ep in metadata.entry_points(group="pytest11")
    )


class ReportDirUnwritable(HarnessError):
    """The report folder cannot be created or written."""

    code = "report_dir_unwritable"


def default_workers(target: str | None) -> int:
    """The gate's processes when `--workers` is not given: one per core, up to two, on the in-process
    reference (each worker builds its own, so tests cannot disturb one another); one against a service
    at a URL, whose shared metrics (settle counters read before and after a check) another worker's
    traffic would move."""
    if target or util.find_spec("xdist") is None:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def _run_dir(report_dir: Path, now: float) -> Path:
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = report_dir / f"{stamp}-gate"
    suffix = 1
    while candidate.exists():  # two gates in one second keep both reports
        suffix += 1
        candidate = report_dir / f"{stamp}-gate-{suffix}"
    try:
        candidate.mkdir(parents=True)
        (candidate / ".write-check").touch()
        (candidate / ".write-check").unlink()
    except OSError as exc:
        raise ReportDirUnwritable(
            f"cannot write reports under {report_dir} ({exc.strerror or exc}): "
            "pass --report-dir with a folder you can write"
        ) from None
    return candidate


def _replay_command(
    target: str | None,
    suites: Sequence[str],
    seed: int,
    examples: int,
    depth: int | None = None,
    profile: str | None = None,
) -> str:
    parts = ["payharness", "gate"]
    for suite in suites:
        parts += ["--suite", suite]
    parts += ["--seed", str(seed), "--examples", str(examples)]
    if depth is not None:
        parts += ["--depth", str(depth)]
    if target:
        parts += ["--target", target]
    if profile:
        parts += ["--profile", profile]
    return shlex.join(parts)


def _fakes_for_url_target(env: Mapping[str, str], out: TextIO) -> tuple[Fakes, FakeServers | None]:
    """Reuse the fakes the environment names (the target was started against them); start the rest."""
    known = fakes_from_env(env)
    missing = tuple(rail for rail in ("stripe", "cdp", "xendit") if rail not in known.handles)
    if not missing:
        return known, None
    servers = start_fakes(rails=missing, credentials=known.credentials)
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


def _pump(stream: IO[str], out: TextIO) -> None:
    for line in stream:
        out.write(redact_text(line))
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
    workers: int | None,
    env: Mapping[str, str],
    out: TextIO | None = None,
    now: Callable[[], float] = time.time,
    wait_seconds: float = 0.0,
    expect: str | None = None,
    allow_skips: bool = False,
    depth: int | None = None,
    profile: str | None = None,
) -> int:
    """Run the gate and write its reports; the exit code (0 passed, 1 failed, 2 could not run,
    3 incomplete).

    `depth` bounds the steps of one generated sequence of the stateful suite (None: the plugin's default).
    `profile` names a profile (harness/prober/profile.py); one with a `[gate]` table puts the contract
    adapter in front of `target` (harness/gate/profiled.py).
    """
    out = out if out is not None else sys.stdout
    selected = tuple(suites) or tuple(SUITES)
    try:
        modules = [suite_module(name) for name in selected]
    except KeyError as exc:
        raise InvalidArgument(str(exc.args[0])) from exc
    if examples < 1:
        raise InvalidArgument("--examples must be at least 1")
    workers = default_workers(target) if workers is None else workers
    if workers < 1:
        raise InvalidArgument("--workers must be at least 1")
    if wait_seconds < 0:
        raise InvalidArgument("--wait-for-target must be 0 or more seconds")
    if expect not in (None, "live", "dormant"):
        raise InvalidArgument(f"--expect is live or dormant, not {expect!r}")
    if expect == "dormant" and not target:
        raise InvalidArgument(
            "--expect dormant needs --target: the in-process reference is live (its dormant checks "
            "rebuild it dormant in every gate)"
        )
    if depth is not None and depth < 1:
        raise InvalidArgument("--depth must be at least 1")
    spec = gate_spec(profile, target)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    started = now()
    # absolute: pytest runs in a scratch folder, and junit.xml must land in the user's report folder
    run_dir = _run_dir(Path(report_dir).resolve(), started)
    junit = run_dir / "junit.xml"
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
    argv += ["--junitxml", str(junit), "-o", "junit_suite_name=payharness-gate"]
    argv += ["--payments-seed", str(seed), "--payments-examples", str(examples), "-rN"]
    if depth is not None:
        argv += ["--payments-depth", str(depth)]
    if workers > 1:
        argv += ["-n", str(workers)]
    child_env = dict(env)
    liveness = "live: the in-process reference" if not target else ""
    code: int | None = None
    could_not_run: str | None = None
    mismatch: str | None = None
    stack = ExitStack()
    try:
        if target:
            if spec is not None and not env.get("ADMIN_SECRET"):
                # one admin secret for the suites and the adapter's admin guard (the service never sees it)
                env = {**env, "ADMIN_SECRET": new_admin_secret()}
            if wait_seconds > 0:
                out.write(f"payharness gate: waiting up to {wait_seconds:g} s for {target}\n")
                out.flush()
            reached = stack.enter_context(suites_target(target, spec, env, wait_seconds))
            if spec is not None:
                child_env[RULED_OUT_TOKEN_ENV] = RULED_OUT_TOKEN
                notes.append(
                    f"The suites reached {target} through the contract adapter of profile {profile} "
                    f"(at {reached} during the run); tests needing what the profile says the service "
                    f"lacks ({', '.join(sorted(spec.lacks)) or 'nothing'}) are not applicable."
                )
            live = bool(target_status(reached, wait_seconds=wait_seconds)["live"])
            said = "live" if live else "dormant"
            liveness = f"{said}, per its /v1/payments/status"
            if expect and expect != said:
                mismatch = (
                    f"{target} is {said} (its /v1/payments/status says live: {str(live).lower()}), "
                    f"but --expect {expect} was given"
                )
            fakes, servers = _fakes_for_url_target(env, out)
            argv += ["--payments-target", reached]
            for rail, handle in sorted(fakes.handles.items()):
                argv += ["--payments-fake", f"{rail}={handle.base_url}"]
            notes += [f"no {rail} fake: {why}" for rail, why in sorted(fakes.missing.items())]
            child_env["ADMIN_SECRET"] = fakes.credentials.admin_secret
            if not env.get("ADMIN_SECRET"):
                notes.append(
                    "ADMIN_SECRET is not set in the gate's environment: the checks that fund a wallet "
                    "through /admin/balance-adjust cannot authenticate (set it to the value the service "
                    "was started with; `payharness fakes` prints one)"
                )
        out.write(
            f"payharness gate: target={redact_url(target) if target else 'in-process reference'} "
            f"[{liveness}] "
            f"suites={','.join(selected)} seed={seed} examples={examples} workers={workers}\n"
        )
        out.flush()
        if mismatch is None:
            # a scratch working folder: tools that drop caches in the cwd (hypothesis) leave reports clean
            with tempfile.TemporaryDirectory(prefix="payharness-gate-") as scratch:
                argv += ["--rootdir", scratch]
                code = _run_pytest(
                    argv, child_env, Path(scratch), run_dir / "pytest-output.txt", out
                )
            for written in (
                "junit.xml",
                "pytest-output.txt",
            ):  # pytest wrote them: no credential stays
                redact_file(run_dir / written)
    except HarnessError as exc:
        out.write(redact_text(f"payharness gate: could not run [{exc.code}] {exc}\n"))
        could_not_run = f"[{exc.code}] {exc}"
    finally:
        if servers is not None:
            servers.stop()
        stack.close()
    result = _read_result(run_dir, notes) if code is not None else GateResult(suites=())
    if mismatch is not None:
        verdict = Verdict(word="FAILED", line=f"FAILED: {mismatch}", exit_code=1)
        write_could_not_run_junit(
            junit, mismatch, case=f"the target is {expect}", verdict=verdict.line
        )
    else:
        verdict = judge(
            result, pytest_code=code, could_not_run=could_not_run, allow_skips=allow_skips
        )
        if code is None or not junit.exists():
            write_could_not_run_junit(junit, verdict.line.removeprefix("COULD NOT RUN: "))
        else:
            annotate_junit(junit, result, verdict)
    redact_file(junit)  # the could-not-run reason may quote the target URL
    if code == 5:
        notes.append("pytest collected no test")
    elif code not in (None, 0, 1):
        notes.append(f"pytest exited with {code}; see pytest-output.txt")
    run = RunInfo(
        target=target or "in-process reference (SQLite, in-process fakes)",
        seed=seed,
        examples=examples,
        workers=workers,
        suites=selected,
        command=_replay_command(target, selected, seed, examples, depth, profile),
        started_at=datetime.fromtimestamp(started, tz=UTC).isoformat(timespec="seconds"),
        wall_seconds=now() - started,
        exit_code=verdict.exit_code,
        verdict=verdict.word,
        verdict_line=verdict.line,
        liveness=liveness,
        notes=tuple(notes),
    )
    (run_dir / "summary.md").write_text(render_markdown(result, run), encoding="utf-8")
    (run_dir / "report.html").write_text(render_html(result, run), encoding="utf-8")
    _print_outcome(result, run, run_dir, out)
    return verdict.exit_code


def _print_outcome(result: GateResult, run: RunInfo, run_dir: Path, out: TextIO) -> None:
    """Per suite `passed / not run / failed`, the reasons tests did not run, the verdict, the reports."""
    width = max((len(s.name) for s in result.suites), default=0)
    for suite in result.suites:
        out.write(f"payharness gate: {suite.name:<{width}}  {suite.counts()}\n")
    for outcome, label in (("not_run", "not run"), ("not_applicable", "not applicable")):
        reasons = Counter(t.message for t in result.tests if t.outcome == outcome)
        for reason, count in reasons.most_common():
            out.write(f"payharness gate: {count} {label}: {reason}\n")
    files = [p.name for p in sorted(run_dir.iterdir()) if p.is_file()]
    out.write(
        f"payharness gate: {redact_text(run.verdict_line)}; tests: {result.counts()}; generated cases: "
        f"{result.properties.get('generated_cases', 'n/a')}; {run.wall_seconds:.1f} s\n"
        f"payharness gate: reports in {run_dir} ({', '.join(files)})\n"
    )


def _read_result(run_dir: Path, notes: list[str]) -> GateResult:
    junit = run_dir / "junit.xml"
    if not junit.exists():
        return GateResult(suites=())
    try:
        return parse_junit(junit)
    except HarnessError as exc:
        notes.append(str(exc))
        return GateResult(suites=())
