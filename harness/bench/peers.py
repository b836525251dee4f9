"""The peers the fake Stripe is compared with, found at run time; a missing peer is reported, not faked.

* **localstripe** (PyPI ``localstripe``, a stateful Stripe fake on aiohttp): started through
  ``harness.bench.child localstripe`` when it imports in this interpreter (bound to 127.0.0.1, no access
  log), else through its own ``localstripe`` command (which binds ``[::]`` and logs every request: the
  report says so). ``PAYHARNESS_BENCH_LOCALSTRIPE=/path/to/localstripe`` forces a command.
* **Prism** (npm ``@stoplight/prism-cli``) mocking an OpenAPI description equivalent to the fake's:
  ``contracts/processors/stripe.openapi.json`` with, for each benchmarked operation, the fake's own answer
  as the 200 example, so Prism serves the same bytes. ``prism`` on the PATH, or
  ``PAYHARNESS_BENCH_PRISM=/path/to/prism``.
"""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts import contract_path

from .errors import Unavailable

__all__ = ["PeerLaunch", "localstripe_launch", "prism_document", "prism_launch", "stripe_contract"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerLaunch:
    """How to start a peer on a given port: its command, how to tell it is up, what to note about it."""

    name: str
    version: str
    argv: tuple[str, ...]
    ready_url: str
    note: str = ""


def localstripe_launch(port: int, env: Mapping[str, str]) -> PeerLaunch:
    """The localstripe command for ``port``; :class:`Unavailable` when localstripe is not installed."""
    forced = env.get("PAYHARNESS_BENCH_LOCALSTRIPE")
    ready = f"http://127.0.0.1:{port}/v1/customers"
    if not forced and importlib.util.find_spec("localstripe") is not None:
        return PeerLaunch(
            name="localstripe",
            version=_dist_version("localstripe"),
            argv=(sys.executable, "-m", "harness.bench.child", "localstripe", "--port", str(port)),
            ready_url=ready,
            note="aiohttp app on 127.0.0.1, access log off",
        )
    command = forced or shutil.which("localstripe")
    if not command:
        raise Unavailable("localstripe is not installed (pip install localstripe)")
    return PeerLaunch(
        name="localstripe",
        version="?",
        argv=(command, "--port", str(port), "--from-scratch"),
        ready_url=ready,
        note="its own command: listens on [::] and logs every request",
    )


def prism_launch(port: int, document: Path, env: Mapping[str, str]) -> PeerLaunch:
    """The Prism mock command for ``document`` on ``port``; :class:`Unavailable` when Prism is missing."""
    command = env.get("PAYHARNESS_BENCH_PRISM") or shutil.which("prism")
    if not command:
        raise Unavailable(
            "Stoplight Prism is not installed (npm install -g @stoplight/prism-cli@5)"
        )
    version = "?"
    try:
        probe = subprocess.run([command, "--version"], capture_output=True, text=True, timeout=30)
        version = probe.stdout.strip() or version
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"Prism at {command} does not run: {exc}") from exc
    return PeerLaunch(
        name="Prism",
        version=version,
        # -v error: Prism logs several lines per request at its default level; the fakes log none.
        argv=(command, "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "error", str(document)),
        ready_url=f"http://127.0.0.1:{port}/",
        note="static mock of stripe.openapi.json with the fake's answers as examples",
    )


def stripe_contract() -> dict[str, Any]:
    """The OpenAPI description of the Stripe subset the fake implements (shipped in ``contracts``)."""
    path = contract_path("processors/stripe.openapi.json")
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unavailable(
            f"cannot read the Stripe fake's OpenAPI description {path}: {exc}"
        ) from exc
    return document


def prism_document(
    base: Mapping[str, Any], examples: Mapping[tuple[str, str], Any]
) -> dict[str, Any]:
    """``base`` with ``examples[(method, path template)]`` as each operation's 200 JSON example.

    The shipped description documents 200 without a body; without an example Prism would answer an empty
    200, far less work than the fake's JSON, and the comparison would flatter Prism.
    """
    document = copy.deepcopy(dict(base))
    for (method, template), example in examples.items():
        operation = document.get("paths", {}).get(template, {}).get(method.lower())
        if operation is None:
            raise Unavailable(f"the Stripe description has no {method} {template}")
        response = operation.setdefault("responses", {}).setdefault("200", {"description": "OK"})
        response["content"] = {"application/json": {"example": example}}
    return document


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"
