"""`payharness gate --self-test`: prove the suites catch real payment defects, and print the catch matrix.

Every behaviour suite runs against the clean reference and against each defective variant
(:mod:`harness.selftest.variants`), all in one pytest subprocess (a clean interpreter, like the gate) with the
self-test plugin: the variants are in-process apps on one shared set of fakes, split over xdist workers by
variant. Afterwards `reports/<timestamp>-selftest/` holds `catch-matrix.md`, `catch-matrix.json`, the raw
`selftest-results.jsonl` and pytest's own output.

Exit codes: 0 the clean reference passes everything and every variant is caught; 1 otherwise; 2 the
self-test could not run.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TextIO

from harness.errors import InvalidArgument
from harness.gate.command import default_workers

from .matrix import CATCHES_PER_SUITE, MIN_CATCHES, CatchMatrix, build_matrix, read_records
from .variants import VARIANTS, variant

__all__ = ["BEHAVIOUR_SUITES", "DEFAULT_EXAMPLES", "selftest_command"]

#: Suite name (as `payharness gate --suite` spells it) → module. The contract suite is left out: variants
#: swap behaviour, not the served contract, and schemathesis per variant would dominate the run time.
BEHAVIOUR_SUITES: dict[str, str] = {
    "inertness": "harness.suites.test_inertness",
    "margin-math": "harness.suites.test_margin_math",
    "idempotency": "harness.suites.test_idempotency",
    "close-time-settle": "harness.suites.test_close_time_settle",
    "upgrade-tier-flip": "harness.suites.test_upgrade_tier_flip",
    "authenticity": "harness.suites.test_authenticity",
    "events": "harness.suites.test_events",
    "limits": "harness.suites.test_limits",
    "stateful": "harness.suites.test_stateful",
}
#: Generated examples per property in the self-test: each one is a round trip per variant.
DEFAULT_EXAMPLES = 3
#: A bound on the whole run (it takes about two minutes on two cores).
TIMEOUT_SECONDS = 1800.0


def _plugin_installed() -> bool:
    return any(
        ep.name == "payharness" and ep.value.startswith("harness.suites.plugin")
        for ep in metadata.entry_points(group="pytest11")
    )


def _run_dir(report_dir: Path, now: float) -> Path:
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, suffix = report_dir / f"{stamp}-selftest", 1
    while candidate.exists():
        suffix += 1
        candidate = report_dir / f"{stamp}-selftest-{suffix}"
    candidate.mkdir(parents=True)
    return candidate


def _argv(
    suites: Sequence[str],
    names: Sequence[str],
    seed: int,
    examples: int,
    workers: int,
    results: Path,
    quick: bool,
) -> list[str]:
    argv = [sys.executable, "-m", "pytest", "--pyargs", *(BEHAVIOUR_SUITES[s] for s in suites)]
    if not _plugin_installed():
        argv += ["-p", "harness.suites.plugin"]
    argv += ["-p", "harness.selftest.plugin", "-c", os.devnull, "-p", "no:cacheprovider"]
    argv += ["-q", "-rN", "--payments-seed", str(seed), "--payments-examples", str(examples)]
    argv += ["--selftest-variants", ",".join(names), "--selftest-results", str(results)]
    # stripe-python's HTTPXClient posts bytes with data=: noise, not a finding
    argv += ["-W", "ignore::DeprecationWarning"]
    if quick:
        argv += ["--selftest-quick"]
    if workers > 1:
        argv += ["-n", str(workers), "--dist", "loadgroup"]
    return argv


def selftest_command(
    *,
    report_dir: str | Path,
    examples: int | None,
    seed: int | None,
    env: Mapping[str, str],
    variants: Sequence[str] = (),
    suites: Sequence[str] = (),
    workers: int | None = None,
    quick: bool = False,
    out: TextIO | None = None,
    now: Callable[[], float] = time.time,
) -> int:
    """Run every behaviour suite against every variant; write and print the catch matrix; the exit code.

    `quick`: each defective variant meets only the suites declared to catch it
    (:mod:`harness.selftest.catchers`) and stops at its second catch; the clean reference still meets all.
    """
    out = out if out is not None else sys.stdout
    examples = DEFAULT_EXAMPLES if examples is None else examples
    if examples < 1:
        raise InvalidArgument("--examples must be at least 1")
    chosen_suites = tuple(suites) or tuple(BEHAVIOUR_SUITES)
    unknown = [s for s in chosen_suites if s not in BEHAVIOUR_SUITES]
    if unknown:
        raise InvalidArgument(
            f"unknown suite(s) {', '.join(unknown)}; the self-test runs: {', '.join(BEHAVIOUR_SUITES)}"
        )
    try:
        chosen = [variant(name) for name in variants] or list(VARIANTS)
    except KeyError as exc:
        raise InvalidArgument(str(exc.args[0])) from exc
    if not any(v.clean for v in chosen):
        chosen.insert(
            0, variant("clean")
        )  # the catches mean nothing unless the clean service passes
    if workers is None:
        workers = default_workers(target=None)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    started = now()
    # absolute: pytest runs in a scratch folder and writes the results file by this path
    run_dir = _run_dir(Path(report_dir).resolve(), started)
    results = run_dir / "selftest-results.jsonl"
    results.touch()
    out.write(
        f"payharness self-test: {len(chosen)} builds of the reference ({len(chosen) - 1} defective) x "
        f"{len(chosen_suites)} suites, seed={seed} examples={examples} workers={workers}"
        + (" (quick: each variant against its declared catchers only)" if quick else "")
        + "\n"
    )
    out.flush()
    argv = _argv(chosen_suites, [v.name for v in chosen], seed, examples, workers, results, quick)
    with (
        tempfile.TemporaryDirectory(prefix="payharness-selftest-") as scratch,
        (run_dir / "pytest-output.txt").open("w", encoding="utf-8") as log,
    ):
        process = subprocess.Popen(
            [*argv, "--rootdir", scratch],
            cwd=scratch,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        code = _watch(process, results, out, deadline=started + TIMEOUT_SECONDS, now=now)
    matrix = build_matrix(chosen, chosen_suites, read_records(results.read_text("utf-8")))
    matrix.wall_seconds = now() - started
    matrix.notes += [
        f"seed {seed}, {examples} generated examples per property; replay one cell with "
        f"`pytest --pyargs <suite module> -p harness.selftest.plugin --selftest-variants <name> "
        f"--payments-seed {seed} --payments-examples {examples}`",
        f"once {CATCHES_PER_SUITE} tests of a suite catch a variant, that suite's remaining tests skip "
        "for it",
    ]
    if quick:
        matrix.notes.append(
            "quick: each defective variant met only the suites declared to catch it "
            f"(harness/selftest/catchers.py) and stopped at its {MIN_CATCHES}th catch; '-' is a suite "
            "not run on it; `payharness gate --self-test` without --quick runs the whole matrix"
        )
    if code is None:
        matrix.notes.append(f"stopped after {TIMEOUT_SECONDS:.0f} s; see pytest-output.txt")
    elif code not in (0, 1):
        matrix.notes.append(f"pytest exited with {code}; see pytest-output.txt")
    (run_dir / "catch-matrix.md").write_text(matrix.to_markdown(), encoding="utf-8")
    (run_dir / "catch-matrix.json").write_text(_json(matrix), encoding="utf-8")
    out.write(matrix.to_text())
    for problem in matrix.problems():
        out.write(f"payharness self-test: {problem}\n")
    verdict = "passed" if matrix.passed else "FAILED"
    out.write(
        f"payharness self-test: {verdict} in {matrix.wall_seconds:.1f} s; reports in {run_dir} "
        "(catch-matrix.md, catch-matrix.json)\n"
    )
    if code not in (0, 1):
        return 2
    return 0 if matrix.passed else 1


def _watch(
    process: subprocess.Popen[bytes],
    results: Path,
    out: TextIO,
    *,
    deadline: float,
    now: Callable[[], float],
) -> int | None:
    """Wait for pytest, printing each first catch as its record arrives; None if it ran past `deadline`."""
    seen: set[tuple[str, str]] = set()
    read = 0
    while True:
        try:
            code: int | None = process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        text = results.read_text("utf-8")
        complete = text[: text.rfind("\n") + 1]
        for record in read_records(complete[read:]):
            cell = (str(record["variant"]), str(record["suite"]))
            if record["outcome"] in ("caught", "error") and cell not in seen:
                seen.add(cell)
                what = "CLEAN FAILS" if cell[0] == "clean" else record["outcome"]
                out.write(f"  {what}: {cell[0]} by {cell[1]} ({record['test']})\n")
                out.flush()
        read = len(complete)
        if code is not None:
            return code
        if now() > deadline:
            process.kill()
            process.wait()
            return None


def _json(matrix: CatchMatrix) -> str:
    import json

    return json.dumps(matrix.to_json(), indent=2) + "\n"
