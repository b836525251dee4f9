"""stripe-stateful-mock as a bench peer: where it is installed, how it is run, and what a missing one says.

No network and no Node.js here: npm and node are stood in for (``which`` and ``run`` are parameters); the
peer itself is run by ``tests/integration/bench/test_bench_stateful_mock_peer.py`` when it is installed.
"""

from __future__ import annotations

import io
import json
import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Any, cast

import pytest

from harness.bench import QUICK
from harness.bench.config import PEERS, BenchContext
from harness.bench.errors import Unavailable
from harness.bench.fakes import STATEFUL_MOCK, _Bench, _figures, _notes
from harness.bench.load import LoadGenerator
from harness.bench.stateful_mock import (
    SERVE_JS,
    VERSION,
    install,
    npm_cache_dir,
    stripe_stateful_mock_launch,
)

TOOLS = {"node": "/usr/bin/node", "npm": "/usr/bin/npm"}


def _installed(cache: Path, version: str = VERSION) -> Path:
    package = cache / "node_modules" / "stripe-stateful-mock"
    package.mkdir(parents=True)
    (package / "package.json").write_text(
        json.dumps({"name": "stripe-stateful-mock", "version": version})
    )
    return package


def _no_run(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    raise AssertionError(f"npm must not run: {args}")


def test_the_npm_cache_is_under_the_users_cache_directory() -> None:
    assert npm_cache_dir({"HOME": "/home/ada"}) == Path("/home/ada/.cache/payharness/npm")
    assert npm_cache_dir({"HOME": "/home/ada", "XDG_CACHE_HOME": "/var/cache/ada"}) == Path(
        "/var/cache/ada/payharness/npm"
    )


def test_an_installed_peer_runs_its_express_app_on_loopback_with_node(tmp_path: Path) -> None:
    package = _installed(tmp_path / "payharness" / "npm", version="0.0.16")
    launch = stripe_stateful_mock_launch(
        8123, {"XDG_CACHE_HOME": str(tmp_path)}, which=TOOLS.get, run=_no_run
    )

    assert launch.argv == ("/usr/bin/node", "-e", SERVE_JS, str(package), "8123")
    assert "'127.0.0.1'" in SERVE_JS and "setLevel('warn')" in SERVE_JS
    # readiness: any answer below 500 (it answers 401 without a key, creating nothing)
    assert launch.ready_url == "http://127.0.0.1:8123/v1/customers"
    assert (launch.name, launch.version) == ("stripe-stateful-mock", "0.0.16")
    assert "127.0.0.1" in launch.note and str(tmp_path) in launch.note


def test_on_first_use_it_is_installed_with_npm_pinned_into_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "payharness" / "npm"
    calls: list[list[str]] = []

    def npm(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        _installed(cache)
        return subprocess.CompletedProcess(argv, 0, "", "")

    launch = stripe_stateful_mock_launch(
        8123, {"XDG_CACHE_HOME": str(tmp_path)}, which=TOOLS.get, run=npm
    )

    (argv,) = calls
    assert argv[:4] == ["/usr/bin/npm", "install", "--prefix", str(cache)]
    assert argv[-1] == f"stripe-stateful-mock@{VERSION}"
    assert launch.argv[3] == str(cache / "node_modules" / "stripe-stateful-mock")


def test_without_npm_the_peer_is_unavailable_and_says_what_it_needed(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match=r"npm is not installed \(needed once to install"):
        stripe_stateful_mock_launch(
            8123, {"XDG_CACHE_HOME": str(tmp_path)}, which={"node": "/usr/bin/node"}.get,
            run=_no_run,
        )  # fmt: skip


def test_without_node_the_peer_is_unavailable() -> None:
    with pytest.raises(Unavailable, match="node is not installed"):
        stripe_stateful_mock_launch(8123, {}, which=lambda name: None, run=_no_run)


def test_an_unreachable_registry_makes_the_peer_unavailable_with_npms_last_word(
    tmp_path: Path,
) -> None:
    def offline(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        stderr = (
            "npm error code ECONNREFUSED\nnpm error syscall connect\nnpm error errno ECONNREFUSED\n"
            "npm error FetchError: request to http://127.0.0.1:9/stripe-stateful-mock failed, reason: "
            "connect ECONNREFUSED 127.0.0.1:9\n"
            "npm error     at ClientRequest.<anonymous> (/usr/lib/node_modules/npm/index.js:130:14)\n"
            "npm error A complete log of this run can be found in: /root/.npm/_logs/debug-0.log\n"
        )
        return subprocess.CompletedProcess(argv, 1, "", stderr)

    with pytest.raises(Unavailable) as caught:
        install(tmp_path, which=TOOLS.get, run=offline)
    assert "offline, or the npm registry unreachable?" in str(caught.value)
    assert str(caught.value).endswith(
        ": ECONNREFUSED: FetchError: request to http://127.0.0.1:9/stripe-stateful-mock failed, "
        "reason: connect ECONNREFUSED 127.0.0.1:9"
    )


def test_npm_that_cannot_run_makes_the_peer_unavailable(tmp_path: Path) -> None:
    def hangs(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    with pytest.raises(Unavailable, match="did not run"):
        install(tmp_path, which=TOOLS.get, run=hangs)


def test_a_forced_package_directory_is_used_as_is_and_must_be_one(tmp_path: Path) -> None:
    package = _installed(tmp_path)
    env = {"PAYHARNESS_BENCH_STRIPE_STATEFUL_MOCK": str(package)}
    assert stripe_stateful_mock_launch(1, env, which=TOOLS.get, run=_no_run).argv[3] == str(package)
    with pytest.raises(Unavailable, match="is not an installed stripe-stateful-mock package"):
        stripe_stateful_mock_launch(
            1, {"PAYHARNESS_BENCH_STRIPE_STATEFUL_MOCK": str(tmp_path / "nope")}, which=TOOLS.get
        )


def test_an_unavailable_peer_is_reported_and_the_other_figures_stay(tmp_path: Path) -> None:
    ctx = BenchContext(
        quick=True,
        budget=QUICK,
        generator=cast(LoadGenerator, object()),
        run_dir=tmp_path,
        env={},
        out=io.StringIO(),
    )
    with ExitStack() as stack:
        bench = _Bench(ctx, stack)

        def missing(port: int) -> Any:
            raise Unavailable("npm is not installed (needed once to install ...)")

        bench.start_peer(STATEFUL_MOCK, missing, customer=None)
    figures = {f.name: f for f in _figures(bench)}
    reason = "bench peer stripe-stateful-mock unavailable: npm is not installed"

    assert "stripe-stateful-mock" in PEERS
    assert STATEFUL_MOCK not in bench.running
    assert any(note.startswith(reason) for note in _notes(bench))
    figure = figures["fake Stripe GET /v1/customers/{id} vs stripe-stateful-mock"]
    assert figure.goal is None and (figure.unavailable or "").startswith(reason)
    assert "fake Stripe GET /v1/customers/{id} vs localstripe" in figures
