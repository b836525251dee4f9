"""The stateful suite against real targets: it passes the clean reference (in process on SQLite and
PostgreSQL, and served at a URL as a user's own service is, through the pytest plugin), and it catches
defective variants of the reference (the self-test's one-component swaps), each by a divergence from the
model of the contract."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from suite_runs import SEED, served_reference

from harness.gate import gate_command
from harness.report import parse_junit
from harness.selftest.stack import VariantStack
from harness.selftest.variants import variant
from harness.suites._processors import Processors
from harness.suites._support import Api
from harness.suites.model.machine import run
from harness.suites.model.observe import ModelDivergence, probe_clamp
from harness.target import Target, reference_target

#: Defects of different classes the model must see: money credited twice, a record that lies about the
#: margin, an unsigned webhook accepted, an outcome overwritten, a tier never flipped, a key ignored.
CAUGHT = (
    "duplicate-payment-credited-twice",
    "margin-recorded-unclamped",
    "unsigned-webhook-accepted",
    "duplicate-outcome-overwrites",
    "webhook-200-without-tier-flip",
    "client-idempotency-key-dropped",
)


def _run(target: Target, *, examples: int, depth: int) -> None:
    with Api(target, seed=SEED) as api:
        processors = Processors(api)
        try:
            clamp = probe_clamp(api)
            run(
                api,
                processors,
                clamp,
                seed_value=SEED,
                examples=examples,
                depth=depth,
                shrink=False,
            )
        finally:
            processors.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[VariantStack]:
    built = VariantStack()
    try:
        yield built
    finally:
        built.close()


def test_random_sequences_against_the_clean_reference_agree_with_the_model(
    database_url: str,
) -> None:
    with reference_target(database_url=database_url) as target:
        _run(target, examples=12, depth=20)


@pytest.mark.parametrize("name", CAUGHT)
def test_a_defective_variant_diverges_from_the_model(stack: VariantStack, name: str) -> None:
    target = stack.target(variant(name))
    try:
        with pytest.raises(ModelDivergence):
            _run(target, examples=60, depth=25)
    finally:
        target.close()


def test_the_suite_passes_the_reference_served_at_a_url(tmp_path: Path) -> None:
    """Through the pytest plugin, as the gate runs it: seed, examples and depth on the command line."""
    with served_reference(tmp_path) as (url, fakes):
        argv = [sys.executable, "-m", "pytest", "--pyargs", "harness.suites.test_stateful"]
        argv += [
            "-c",
            os.devnull,
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-q",
            "-rs",
        ]
        argv += ["--payments-target", url, "--payments-seed", str(SEED)]
        argv += ["--payments-examples", "4", "--payments-depth", "15"]
        argv += ["--payments-env-file", str(tmp_path / "served.env")]  # the admin secret
        for rail, fake_url in sorted(fakes.items()):
            argv += ["--payments-fake", f"{rail}={fake_url}"]
        argv += ["-W", "ignore::DeprecationWarning"]
        done = subprocess.run(
            argv, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1500:]
    assert "1 passed" in done.stdout, done.stdout[-2000:]


def test_the_gate_runs_the_stateful_suite_with_its_depth_and_says_how_to_replay_it(
    tmp_path: Path,
) -> None:
    """`payharness gate --suite stateful --depth N`: the suite is a gate suite, and its replay line
    keeps the depth."""
    console = io.StringIO()
    code = gate_command(
        target=None,
        suites=["stateful"],
        report_dir=tmp_path,
        examples=1,
        seed=SEED,
        workers=1,
        env=dict(os.environ),
        out=console,
        depth=8,
    )
    (run_dir,) = tmp_path.glob("*-gate")
    summary = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert code == 0, summary + console.getvalue()
    result = parse_junit(run_dir / "junit.xml")
    assert result.passed and result.count("passed") == 1
    assert f"payharness gate --suite stateful --seed {SEED} --examples 1 --depth 8" in summary


def test_the_sequences_the_model_once_found_wrong_agree_with_it_now(database_url: str) -> None:
    # Shrunk by this suite: a Stripe funding past the contract's bound was credited, and a non-USDC CDP
    # settlement answered 500 on PostgreSQL. Each step compares every truth surface with the model.
    with reference_target(database_url=database_url) as target, Api(target, seed=SEED) as api:
        processors = Processors(api)
        try:
            from harness.suites.model.machine import machine_for

            state = machine_for(api, processors, probe_clamp(api))()
            account = state.first_sign_up()
            state.top_up_stripe(account=account, cents=100, sub_cent=0, key=None, again=None)
            state.stripe_event(account=account, kind="funded_huge", topup=None, sub=0, auth="valid")
            state.cdp_event(kind="completed_other_asset", topup=None, auth="valid")
            state.teardown()
        finally:
            processors.close()
