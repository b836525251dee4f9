"""Run behaviour suites the way the gate does (a pytest subprocess) and read what happened from JUnit XML.

Also serves the reference on a loopback port, wired to fakes on loopback ports, configured from exactly the
environment `payharness fakes` prints: a service at a URL, as a user's own would be.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fakes._common.server import LoopbackServer
from harness.reference import create_app, settings_from_env
from harness.selftest.command import BEHAVIOUR_SUITES
from harness.suites import SUITES
from harness.target import fake_env, start_fakes

__all__ = ["SEED", "Outcome", "SuiteRun", "run_suites", "served_reference"]

#: A fixed seed: these tests replay the same generated cases every time.
SEED = 20261121


@dataclass(frozen=True, slots=True)
class Outcome:
    """One test case of a suite run."""

    suite: str
    test: str
    status: str  # passed | failed | error | skipped
    message: str


@dataclass(slots=True)
class SuiteRun:
    """Every test case of one pytest run, and its exit code and console output."""

    code: int
    output: str
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, suite: str) -> list[Outcome]:
        """The outcomes of one suite."""
        return [o for o in self.outcomes if o.suite == suite]


def _suite(case: ET.Element) -> str:
    """The suite the payharness plugin attached to a test case (its `suite` property)."""
    for prop in case.iter("property"):
        if prop.get("name") == "suite":
            return str(prop.get("value", "")).replace("_", "-")
    return ""


def _read(junit: Path) -> list[Outcome]:
    outcomes = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        status, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                status = "failed" if tag == "failure" else tag
                message = (node.get("message") or "") + "\n" + (node.text or "")
                break
        outcomes.append(Outcome(_suite(case), case.get("name", ""), status, message))
    return outcomes


def run_suites(
    workdir: Path, *, suites: Sequence[str] = tuple(BEHAVIOUR_SUITES), extra: Sequence[str] = ()
) -> SuiteRun:
    """Run `suites` in a pytest subprocess (the payharness plugin, no user configuration)."""
    junit = workdir / "junit.xml"
    argv = [sys.executable, "-m", "pytest", "--pyargs", *(SUITES[s] for s in suites)]
    if (workdir / "served.env").exists():
        argv += ["--payments-env-file", str(workdir / "served.env")]
    argv += ["-c", os.devnull, "-p", "no:cacheprovider", "--rootdir", str(workdir), "-q"]
    argv += ["--junitxml", str(junit), "-o", "junit_family=xunit1"]
    argv += [
        "--payments-seed",
        str(SEED),
        "--payments-examples",
        "5",
        "-W",
        "ignore::DeprecationWarning",
    ]
    done = subprocess.run(
        [*argv, *extra], cwd=workdir, capture_output=True, text=True, check=False, timeout=300
    )
    outcomes = _read(junit) if junit.exists() else []
    return SuiteRun(done.returncode, done.stdout + done.stderr, outcomes)


@contextmanager
def served_reference(
    workdir: Path, *, live_flag: str = "1", database_url: str | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """The reference on a loopback port and the fakes it uses: (its URL, each fake's URL by rail). Its
    database is a SQLite file in `workdir` unless `database_url` names another."""
    servers = start_fakes()
    try:
        env = {
            **fake_env(servers.fakes),
            "PAYMENTS_LIVE": live_flag,
            "PAYHARNESS_DATABASE_URL": database_url
            or f"sqlite+aiosqlite:///{workdir / 'served.sqlite3'}",
        }
        # what `payharness fakes --env-file` would write: the suites read the admin secret from it
        (workdir / "served.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        settings = dataclasses.replace(
            settings_from_env(env), outbound_timeout_seconds=5.0, outbound_backoff_seconds=0.01
        )
        with LoopbackServer(create_app(settings)) as reference:
            secrets = {
                "stripe": servers.fakes.credentials.stripe_webhook_secret,
                "xendit": servers.fakes.credentials.xendit_callback_token,
                "cdp": servers.fakes.credentials.cdp_webhook_secret,
            }
            for rail, handle in servers.fakes.handles.items():
                handle.add_webhook_endpoint(
                    f"{reference.base_url}/v1/payments/webhook/{rail}", secret=secrets[rail]
                )
            yield reference.base_url, {r: h.base_url for r, h in servers.fakes.handles.items()}
    finally:
        servers.stop()
