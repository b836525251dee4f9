"""`payharness fakes --profile FILE --webhook-target URL`: each rail's webhooks go to the path the service's
profile names for it (`[gate.webhooks]`) on the service's base URL; `--webhook-url RAIL=URL` still wins for
its rail. Run as a user runs it, with a loopback receiver standing in for the service."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_trigger_resend_cli import Receiver, emitted, payharness

from fakes._common import LoopbackServer

pytestmark = pytest.mark.e2e

ACME_PROFILE = str(Path(__file__).parents[2] / "examples" / "acme_billing" / "profile.toml")


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "XENDIT_", "CDP_", "PAYMENTS_"))
    }


def test_webhooks_go_to_the_profiles_paths_and_an_explicit_url_wins(tmp_path: Path) -> None:
    receiver = Receiver()
    env_file = tmp_path / "fakes.env"
    with LoopbackServer(receiver) as service:
        base = service.base_url
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "harness", "fakes", "--env-file", str(env_file)),
                *("--profile", ACME_PROFILE, "--webhook-target", service.base_url),
                *("--webhook-url", f"xendit={service.base_url}/own/xendit"),
            ],
            env=_clean_env(),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not env_file.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)  # polling for the subprocess to write its settings
            assert env_file.exists(), proc.stderr.read() if proc.stderr else ""
            lines = env_file.read_text().splitlines()
            env = {**_clean_env(), **dict(x.removeprefix("export ").split("=", 1) for x in lines)}
            stripe_events = emitted(payharness(env, "trigger", "stripe", "invoice.paid"))
            xendit_events = emitted(payharness(env, "trigger", "xendit", "recurring.cycle.failed"))
            receiver.wait_for("stripe", len(stripe_events))
            receiver.wait_for("xendit", len(xendit_events))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        said = proc.stderr.read() if proc.stderr else ""
    # stripe: the profile's path on the service; xendit: the explicit URL; cdp: the profile names none
    assert set(receiver.paths) == {"/webhooks/stripe", "/own/xendit"}
    assert receiver.paths.count("/webhooks/stripe") == len(stripe_events)
    assert receiver.paths.count("/own/xendit") == len(xendit_events)
    assert f"webhooks to stripe={base}/webhooks/stripe, xendit={base}/own/xendit;" in " ".join(
        said.split()
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        # the reference's profile has no [gate]: it takes the contract's own webhook paths
        (
            ("--profile", "reference", "--webhook-target", "http://127.0.0.1:8000"),
            'profile reference names no webhook paths ([gate.webhooks] RAIL = "/path")',
        ),
        (("--profile", ACME_PROFILE), "needs --webhook-target URL"),
        (
            ("--profile", "missing.toml", "--webhook-target", "http://127.0.0.1:8000"),
            "[unknown_probe_profile] cannot read profile file missing.toml",
        ),
    ],
)
def test_a_profile_that_cannot_place_the_webhooks_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "harness", "fakes", *args],
        env={**_clean_env(), "COLUMNS": "400"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    said = (run.stdout + run.stderr).strip()
    assert len(said.splitlines()) == 1, said
    assert said.startswith("error [")
    assert says in said
