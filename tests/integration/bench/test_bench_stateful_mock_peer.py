"""stripe-stateful-mock, the fakes benchmark's npm peer, run for real on loopback.

The peer must be installed already (in the user's npm cache, where the bench's first use puts it, or at
``PAYHARNESS_BENCH_STRIPE_STATEFUL_MOCK``) with node on the PATH: the tests never run npm themselves.
``.ci/run`` installs it from the npm registry (reachable from CI like PyPI and Debian's archive), so in CI
(``CI`` set) a missing peer fails these tests; elsewhere they skip and say how to install it. The wiring
(command line, readiness URL, the not-installed and offline paths) is covered without network by
``tests/unit/bench/test_bench_stateful_mock.py``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.bench import bench_command
from harness.bench.errors import Unavailable
from harness.bench.processes import Child, child_env, free_port
from harness.bench.stateful_mock import NAME, npm_cache_dir, stripe_stateful_mock_launch

KEY = {"Authorization": "Bearer sk_test_payharness"}


def _not_installed(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
    raise Unavailable("not installed, and the tests never run npm")


def _skip_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not on the PATH"
    forced = os.environ.get("PAYHARNESS_BENCH_STRIPE_STATEFUL_MOCK")
    package = Path(forced) if forced else npm_cache_dir(os.environ) / "node_modules" / NAME
    if not (package / "package.json").is_file():
        return (
            f"{NAME} is not installed at {package}; `payharness bench fakes` installs it there with "
            "npm on first use (CI does not, see this module's docstring)"
        )
    return None


pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _installed_peer() -> None:
    """The peer is there, or the test skips (fails in CI, where `.ci/run` installs it)."""
    reason = _skip_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{NAME} is required in CI (.ci/run installs it with npm): {reason}")
    pytest.skip(reason)


def test_the_installed_peer_serves_customers_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    # an installed peer only: a `run` that fails proves no npm install is attempted here
    launch = stripe_stateful_mock_launch(port, os.environ, run=_not_installed)
    with Child(
        launch.argv, name="ssm", log_path=tmp_path / "ssm.log", env=child_env(os.environ)
    ) as child:
        child.start_with_ready_url(launch.ready_url, timeout_seconds=60)
        base = f"http://127.0.0.1:{port}"
        created = httpx.post(f"{base}/v1/customers", headers=KEY, data={"email": "a@example.com"})
        fetched = httpx.get(f"{base}/v1/customers/{created.json()['id']}", headers=KEY)
    assert created.status_code == 200, created.text
    assert fetched.json()["email"] == "a@example.com"


def test_bench_fakes_reports_the_fake_against_stripe_stateful_mock(tmp_path: Path) -> None:
    out = io.StringIO()
    env = {**os.environ, "PAYHARNESS_BENCH_GENERATOR": "python",
           "PAYHARNESS_BENCH_PEERS": "stripe-stateful-mock"}  # fmt: skip
    code = bench_command(which=["fakes"], quick=True, report_dir=str(tmp_path), env=env, out=out)
    (run_dir,) = tmp_path.iterdir()
    (result,) = json.loads((run_dir / "results.json").read_text())["benchmarks"]
    figures: dict[str, Any] = {f["name"]: f for f in result["figures"]}
    figure = figures["fake Stripe GET /v1/customers/{id} vs stripe-stateful-mock"]

    assert code == 0, out.getvalue()
    assert figure["unavailable"] is None and figure["ratio"] > 0, out.getvalue()
    assert figure["goal"] is None  # the >= 3x goal is localstripe's only
