"""stripe-stateful-mock (npm), the fakes benchmark's second stateful peer: installed on first use, run on
loopback.

The package is installed once with npm into the user's cache, ``$XDG_CACHE_HOME/payharness/npm`` (else
``~/.cache/payharness/npm``), pinned to :data:`VERSION`; ``PAYHARNESS_BENCH_STRIPE_STATEFUL_MOCK`` names an
installed package directory instead (nothing is installed then). Its own ``cli.js`` listens on every
interface and logs at ``info``; the bench starts its Express app with :data:`SERVE_JS` instead: bound to
127.0.0.1 and logging warnings only (the fakes log no request either). Without node or npm, or without the
registry on first use, the peer is :class:`~harness.bench.errors.Unavailable` and the bench reports the
other figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import Unavailable
from .peers import PeerLaunch

__all__ = [
    "NAME",
    "SERVE_JS",
    "VERSION",
    "install",
    "npm_cache_dir",
    "stripe_stateful_mock_launch",
]

NAME = "stripe-stateful-mock"
#: the version installed on first use (the latest on npm when this peer was added)
VERSION = "0.0.16"
#: npm gives up on an unreachable registry within this many seconds (one retry of 20 s fetches)
INSTALL_TIMEOUT_SECONDS = 180.0

#: ``node -e SERVE_JS <package dir> <port>``: the package's Express app on 127.0.0.1, warnings only.
SERVE_JS = (
    "const [dir, port] = process.argv.slice(1);"
    "require(require.resolve('loglevel', {paths: [dir]})).setLevel('warn');"
    "require(dir).createExpressApp().listen(Number(port), '127.0.0.1');"
)

Which = Callable[[str], str | None]
Run = Callable[..., "subprocess.CompletedProcess[str]"]


def npm_cache_dir(env: Mapping[str, str]) -> Path:
    """Where npm installs the bench's Node.js peers: ``<user cache>/payharness/npm``."""
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "payharness" / "npm"


def install(cache: Path, *, which: Which = shutil.which, run: Run = subprocess.run) -> Path:
    """``npm install stripe-stateful-mock@VERSION`` into ``cache``; the package directory."""
    npm = which("npm")
    if npm is None:
        raise Unavailable(
            f"npm is not installed (needed once to install {NAME}@{VERSION} into {cache})"
        )
    cache.mkdir(parents=True, exist_ok=True)
    argv = [
        npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--no-save",
        "--fetch-retries=1", "--fetch-timeout=20000", f"{NAME}@{VERSION}",
    ]  # fmt: skip
    try:
        done = run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"npm install {NAME}@{VERSION} did not run: {exc}") from exc
    package = cache / "node_modules" / NAME
    if done.returncode != 0 or not (package / "package.json").is_file():
        why = _npm_error(done.stderr or "") or f"exit {done.returncode}"
        raise Unavailable(
            f"npm install {NAME}@{VERSION} into {cache} failed (offline, or the npm registry "
            f"unreachable?): {why}"
        )
    return package


_NPM_NOISE = ("syscall ", "errno ", "at ", "A complete log", "{", "}", "Log files were not written")


def _npm_error(stderr: str) -> str:
    """npm's error code and first message line (``ECONNREFUSED: FetchError: request to ... failed``),
    without its stack trace and log-file pointer."""
    code, message = "", ""
    for raw in stderr.splitlines():
        line = raw.strip().removeprefix("npm error").removeprefix("npm ERR!").strip()
        if line.startswith("code ") and not code:
            code = line.removeprefix("code ").strip()
        elif line and not line.startswith(_NPM_NOISE) and not message:
            message = line
    return ": ".join(part for part in (code, message) if part)


def stripe_stateful_mock_launch(
    port: int,
    env: Mapping[str, str],
    *,
    which: Which = shutil.which,
    run: Run = subprocess.run,
) -> PeerLaunch:
    """The command serving stripe-stateful-mock on 127.0.0.1:``port``, installing it first if needed;
    :class:`Unavailable` when node, npm or the registry is missing."""
    node = which("node")
    if node is None:
        raise Unavailable(f"node is not installed ({NAME} runs on Node.js)")
    forced = env.get("PAYHARNESS_BENCH_STRIPE_STATEFUL_MOCK")
    if forced:
        package = Path(forced)
        if not (package / "package.json").is_file():
            raise Unavailable(
                f"PAYHARNESS_BENCH_STRIPE_STATEFUL_MOCK={forced} is not an installed {NAME} package"
            )
        how = f"from {package}"
    else:
        cache = npm_cache_dir(env)
        package = cache / "node_modules" / NAME
        if not (package / "package.json").is_file():
            package = install(cache, which=which, run=run)
        how = f"installed with npm in {cache}"
    return PeerLaunch(
        name=NAME,
        version=_package_version(package),
        argv=(node, "-e", SERVE_JS, str(package), str(port)),
        # answers 401 without a key: up, and no customer created by the readiness poll
        ready_url=f"http://127.0.0.1:{port}/v1/customers",
        note=f"Express app on 127.0.0.1, log level warn, {how}",
    )


def _package_version(package: Path) -> str:
    try:
        manifest: dict[str, Any] = json.loads((package / "package.json").read_text("utf-8"))
    except (OSError, ValueError):
        return "?"
    return str(manifest.get("version", "?"))
