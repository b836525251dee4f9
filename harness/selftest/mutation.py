"""Mutation testing of the reference's money paths: how many mutants of the code do the gate's suites kill?

A developer command, not part of CI (a full run takes hours on two cores)::

    pip install -e ".[mutation]"                              # cosmic-ray
    python -m harness.selftest.mutation                       # every money-path module, its suites
    python -m harness.selftest.mutation --module harness/reference/money.py --max-mutants 40
    python -m harness.selftest.mutation --pytest-args "-k 'not unverifiable_payment'"

For each module, `cosmic-ray <https://cosmic-ray.readthedocs.io>`_ mutates one place at a time (an
operator swapped, a constant changed, a condition negated, a ``break`` turned into ``continue``...) and runs
the gate's suites in-process against the mutated reference (``pytest --pyargs`` with the payharness plugin,
stopping at the first failure). A mutant the suites fail on is killed; one they pass is a survivor: a
change to money code no suite notices. The run happens in a copy of the project in a temporary folder, so
the working tree is never mutated, and prints per module and in total the kill rate and every survivor
(file, line, operator and diff). Mutants of type annotations and of the ``*``/``/`` parameter markers
are not run (counted and said): they change no money path. A survivor of its module's suites is then run
against every suite of the gate (``--own-suites-only`` skips this): the kill rate is the gate's. ``--max-mutants`` samples each module's mutants (seeded) for a quicker
estimate. Exit codes: 0 the run completed, 2 it could not run (cosmic-ray missing, the suites fail on
the unmutated reference: a baseline that fails would count every mutant as killed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["MODULE_SUITES", "ModuleResult", "main", "mutate_module"]

#: The reference's money paths and the suites that exercise each (the gate's suites, in-process).
MODULE_SUITES: dict[str, tuple[str, ...]] = {
    "harness/reference/money.py": ("margin-math", "limits"),
    "harness/reference/ledger.py": ("idempotency", "limits", "margin-math"),
    "harness/reference/effects.py": ("idempotency", "events", "upgrade-tier-flip"),
    "harness/reference/sessions.py": ("close-time-settle", "inertness"),
    "harness/reference/rails/stripe.py": (
        "authenticity",
        "events",
        "idempotency",
        "upgrade-tier-flip",
    ),
    "harness/reference/rails/xendit.py": (
        "authenticity",
        "events",
        "idempotency",
        "upgrade-tier-flip",
    ),
    "harness/reference/rails/cdp.py": ("authenticity", "events", "limits", "close-time-settle"),
    "harness/reference/routes/charges.py": ("margin-math", "limits", "idempotency"),
    "harness/reference/routes/usage.py": ("close-time-settle", "inertness", "limits"),
    "harness/reference/routes/payments.py": ("idempotency", "limits", "inertness"),
    "harness/reference/routes/webhooks.py": ("authenticity", "events", "idempotency", "inertness"),
}
#: What is copied into the scratch project.
_PROJECT = ("harness", "fakes", "contracts", "pyproject.toml")


@dataclass(slots=True)
class ModuleResult:
    """The mutants of one module and what became of them."""

    module: str
    total: int = 0
    killed: int = 0
    incompetent: int = 0
    #: mutants of annotations and parameter markers, not run (see `_exclude_signatures`)
    signature_only: int = 0
    survivors: list[str] = field(default_factory=list)
    #: (operator, occurrence) of each survivor, in the order of `survivors`
    survivor_specs: list[tuple[str, int]] = field(default_factory=list)
    #: survivors of the module's own suites that the whole gate then killed
    killed_by_gate: list[str] = field(default_factory=list)

    @property
    def tested(self) -> int:
        """Mutants that ran to a verdict (an incompetent mutant cannot even import)."""
        return self.killed + len(self.survivors)

    @property
    def kill_rate(self) -> float:
        """Killed / tested."""
        return self.killed / self.tested if self.tested else 1.0


def _test_command(suites: Sequence[str], seed: int, pytest_args: str) -> str:
    from harness.suites import SUITES

    argv = [sys.executable, "-m", "pytest", "--pyargs", *(SUITES[s] for s in suites)]
    argv += [
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        os.devnull,
        "-W",
        "ignore::DeprecationWarning",
    ]
    argv += ["--payments-seed", str(seed), "--payments-examples", "3"]
    return shlex.join(argv) + (f" {pytest_args}" if pytest_args else "")


def _config(module: str, command: str, timeout: float) -> str:
    return (
        "[cosmic-ray]\n"
        f'module-path = "{module}"\n'
        f"timeout = {timeout:.0f}\n"
        "excluded-modules = []\n"
        f"test-command = {_toml_string(command)}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text)


def _signature_spans(
    source: str,
) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int, int]]]:
    """Where in `source` a mutant cannot be money logic: the signatures of functions (annotations, the
    `*` and `/` markers) and annotated assignments' annotations; and, inside signatures, the default
    values, which are behaviour and stay. Spans are (row, col, end row, end col), rows from 1."""
    import ast

    def span(node: ast.expr) -> tuple[int, int, int, int]:
        return (
            node.lineno,
            node.col_offset,
            node.end_lineno or node.lineno,
            node.end_col_offset or 0,
        )

    excluded: list[tuple[int, int, int, int]] = []
    kept: list[tuple[int, int, int, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0]
            excluded.append((node.lineno, node.col_offset, first.lineno, first.col_offset))
            kept += [
                span(d) for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None
            ]
        elif isinstance(node, ast.AnnAssign):
            excluded.append(span(node.annotation))
    return excluded, kept


def _exclude_signatures(session: Path, source: str) -> int:
    """Drop the mutants of type annotations and parameter markers (`*` made `/`, `int | None` made
    `int - None`): they change no money path, and sampling them would waste the sample. Returns how
    many were dropped; the report says so."""
    import sqlite3

    excluded, kept = _signature_spans(source)

    def inside(pos: tuple[int, int], spans: list[tuple[int, int, int, int]]) -> bool:
        return any((r0, c0) <= pos < (r1, c1) for r0, c0, r1, c1 in spans)

    with sqlite3.connect(session) as db:
        rows = db.execute(
            "SELECT job_id, start_pos_row, start_pos_col FROM mutation_specs"
        ).fetchall()
        dropped = [
            (job,)
            for job, row, col in rows
            if inside((row, col), excluded) and not inside((row, col), kept)
        ]
        for table in ("mutation_specs", "work_items"):
            db.executemany(f"DELETE FROM {table} WHERE job_id = ?", dropped)
    return len(dropped)


def _sample(session: Path, max_mutants: int, seed: int) -> None:
    """Keep a seeded sample of `max_mutants` work items in the session."""
    import sqlite3

    with sqlite3.connect(session) as db:
        # ordered by what each mutant is (job ids are random), so a seed picks the same sample each run
        order = "SELECT job_id FROM mutation_specs ORDER BY start_pos_row, start_pos_col, operator_name, occurrence"
        ids = [row[0] for row in db.execute(order)]
        if len(ids) <= max_mutants:
            return
        dropped = sorted(set(ids) - set(random.Random(seed).sample(ids, max_mutants)))
        for table in ("mutation_specs", "work_items"):
            db.executemany(f"DELETE FROM {table} WHERE job_id = ?", [(i,) for i in dropped])


def _read(session: Path, module: str) -> ModuleResult:
    from cosmic_ray.work_db import WorkDB, use_db  # type: ignore[import-untyped,import-not-found,unused-ignore]
    from cosmic_ray.work_item import TestOutcome  # type: ignore[import-untyped,import-not-found,unused-ignore]

    result = ModuleResult(module=module)
    with use_db(str(session), WorkDB.Mode.open) as db:
        result.total = db.num_work_items
        for item, outcome in db.completed_work_items:
            if outcome.test_outcome == TestOutcome.KILLED:
                result.killed += 1
            elif outcome.test_outcome == TestOutcome.INCOMPETENT:
                result.incompetent += 1
            else:
                spec = item.mutations[0]
                diff = (outcome.diff or "").strip().splitlines()
                changed = " / ".join(
                    line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")
                )
                result.survivors.append(
                    f"{module}:{spec.start_pos[0]} {spec.operator_name} #{spec.occurrence}: {changed}"
                )
                result.survivor_specs.append((spec.operator_name, spec.occurrence))
    return result


def mutate_module(
    project: Path,
    module: str,
    suites: Sequence[str],
    *,
    seed: int,
    max_mutants: int | None,
    pytest_args: str,
    whole_gate: bool = True,
) -> ModuleResult:
    """Run cosmic-ray on one module of the scratch `project`; its result."""
    command = _test_command(suites, seed, pytest_args)
    env = {**os.environ, "PYTHONPATH": str(project)}
    started = time.monotonic()
    baseline = subprocess.run(
        shlex.split(command), cwd=project, env=env, capture_output=True, text=True
    )
    if baseline.returncode != 0:
        tail = (baseline.stdout + baseline.stderr)[-1500:]
        raise SystemExit(
            f"payharness mutation: the suites {', '.join(suites)} fail on the unmutated reference, so every "
            f"mutant would count as killed; fix that or exclude those tests with --pytest-args\n{tail}"
        )
    timeout = max(60.0, 4 * (time.monotonic() - started))
    config = project / f"cosmic-ray-{Path(module).stem}.toml"
    session = project / f"cosmic-ray-{Path(module).stem}.sqlite"
    config.write_text(_config(module, command, timeout), encoding="utf-8")
    subprocess.run(
        ["cosmic-ray", "init", str(config), str(session)], cwd=project, env=env, check=True
    )
    signature_only = _exclude_signatures(session, (project / module).read_text("utf-8"))
    if max_mutants is not None:
        _sample(session, max_mutants, seed)
    subprocess.run(
        ["cosmic-ray", "exec", str(config), str(session)],
        cwd=project,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result = _read(session, module)
    result.signature_only = signature_only
    if whole_gate:
        from harness.suites import SUITES

        _second_pass(project, env, result, _test_command(tuple(SUITES), seed, pytest_args))
    return result


def _second_pass(project: Path, env: dict[str, str], result: ModuleResult, command: str) -> None:
    """Run each survivor of the module's own suites against every suite of the gate: a mutant the gate
    kills elsewhere is killed (and listed as such); only what the whole gate misses survives."""
    survivors, specs = result.survivors, result.survivor_specs
    result.survivors, result.survivor_specs = [], []
    for text, (operator, occurrence) in zip(survivors, specs, strict=True):
        run = subprocess.run(
            ["cosmic-ray", "mutate-and-test", result.module, operator, str(occurrence), command],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        outcome = (
            json.loads(run.stdout or "{}").get("test_outcome") if run.returncode == 0 else None
        )
        if outcome == "killed":
            result.killed += 1
            result.killed_by_gate.append(text)
        else:
            result.survivors.append(text)
            result.survivor_specs.append((operator, occurrence))


def _copy_project(source: Path, scratch: Path) -> Path:
    project = scratch / "project"
    project.mkdir()
    for name in _PROJECT:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, project / name)
    return project


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.selftest.mutation", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--module", action="append", default=[], help="a module path (repeatable)")
    parser.add_argument("--suite", action="append", default=[], help="run these suites instead")
    parser.add_argument("--max-mutants", type=int, default=None, help="sample this many per module")
    parser.add_argument("--seed", type=int, default=20261201, help="suite and sampling seed")
    parser.add_argument("--pytest-args", default="", help="extra pytest arguments (e.g. -k ...)")
    parser.add_argument(
        "--own-suites-only",
        action="store_true",
        help="do not run the survivors of a module's suites against the whole gate",
    )
    args = parser.parse_args(argv)
    if shutil.which("cosmic-ray") is None:
        print(
            "payharness mutation: cosmic-ray is not installed; run `pip install cosmic-ray`",
            file=sys.stderr,
        )
        return 2
    modules = args.module or list(MODULE_SUITES)
    unknown = [m for m in modules if m not in MODULE_SUITES and not args.suite]
    if unknown:
        print(
            f"payharness mutation: no suites known for {', '.join(unknown)}; pass --suite",
            file=sys.stderr,
        )
        return 2
    root = Path(__file__).resolve().parents[2]
    results = []
    with tempfile.TemporaryDirectory(prefix="payharness-mutation-") as scratch:
        project = _copy_project(root, Path(scratch))
        for module in modules:
            suites = tuple(args.suite) or MODULE_SUITES[module]
            started = time.monotonic()
            try:
                result = mutate_module(
                    project,
                    module,
                    suites,
                    seed=args.seed,
                    max_mutants=args.max_mutants,
                    pytest_args=args.pytest_args,
                    whole_gate=not args.own_suites_only,
                )
            except SystemExit as exc:
                print(exc, file=sys.stderr)
                return 2
            except subprocess.CalledProcessError as exc:
                print(
                    f"payharness mutation: {shlex.join(exc.cmd)} failed ({exc.returncode})",
                    file=sys.stderr,
                )
                return 2
            results.append(result)
            print(
                f"{module}: {result.killed}/{result.tested} killed ({result.kill_rate:.0%}), "
                f"{result.incompetent} incompetent, {result.signature_only} in annotations or "
                f"parameter markers not run, {time.monotonic() - started:.0f} s "
                f"[suites: {', '.join(suites)}]"
            )
            for survivor in result.killed_by_gate:
                print(f"  killed by another suite of the gate: {survivor}")
            for survivor in result.survivors:
                print(f"  survived: {survivor}")
    killed = sum(r.killed for r in results)
    tested = sum(r.tested for r in results)
    print(
        f"payharness mutation: {killed}/{tested} mutants killed ({killed / tested if tested else 1:.1%})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
