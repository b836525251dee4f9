"""Every way a deployment goes wrong, judged as on-call wants: one mode of our own API double per row.

Each row runs `payharness probe --once` (the `probe_command` the CLI calls) against `api_double` in one
mode and checks the outcome of every leg, the run's dormancy verdict, the exit code and the words of the
decisive reason. Rows for both API shapes: `razorpay` (profile `razorpay-subscriptions`) and
`reference` (profile `reference`); modes that do not apply to a shape (bearer auth on a shape without
it, a stale timestamp on an untimed scheme) are not rows of that shape.
"""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from api_double import (
    PLAN_ID,
    RAZORPAY,
    RAZORPAY_SECRET,
    REFERENCE,
    STRIPE_SECRET,
    TOKEN,
    Shape,
    State,
    api_double,
)

from fakes._common.server import LoopbackServer
from harness.prober import probe_command

P, D, Z, F, S, M = "pass", "degraded", "dormant", "fail", "security", "misconfigured"


@dataclass(frozen=True)
class Row:
    mode: str
    legs: tuple[str, str, str, str, str]
    exit: int
    service: str = "live"
    #: (leg index, words the reason must contain)
    says: tuple[int, str] | None = None
    warning: str | None = None


RAZORPAY_ROWS = [
    Row("correct", (P, P, P, P, P), 0, says=(3, "4 forgeries refused")),
    Row("unsigned_accepting", (P, P, P, S, P), 1, says=(3, "ACCEPTED: no signature header")),
    Row("forged_accepting", (P, P, P, S, P), 1, says=(3, "wrong secret (200)")),
    Row("no_flip", (P, P, P, P, F), 1, says=(4, "did NOT advance")),
    Row("wrong_tier", (P, P, P, P, F), 1, says=(4, "advanced to the WRONG plan")),
    Row("slow_checkout", (D, P, P, P, P), 0, says=(0, "over budget")),
    Row("checkout_500", (F, P, P, P, P), 1, says=(0, "500 internal_error")),
    Row("dormant", (Z, P, P, Z, Z), 0, "dormant", says=(3, "signature check was not reached")),
    Row(
        "half_switched_off", (P, P, P, F, F), 1, "half_switched_off", says=(4, "half switched off")
    ),
    Row("outage", (F, F, F, F, F), 1, says=(4, "target down")),
    Row("leaked_reap", (P, P, P, P, P), 1, warning="leaked: DELETE answered 204"),
    Row("no_tier_field", (P, F, P, P, P), 1, says=(1, "lacks `tier`")),
    Row("auth_not_enforced", (F, F, F, P, P), 1, says=(0, "auth not enforced")),
    Row("wrong_token", (M, M, M, P, M), 2, says=(0, "set PAYMENT_PROBE_TOKEN to a valid token")),
    Row("missing_env", (M, M, M, P, M), 2, says=(4, "PAYMENT_PROBE_TOKEN unset: set it")),
    Row("unknown_plan", (P, P, P, P, M), 2, says=(4, "set PAYMENT_PROBE_TEST_PLAN_ID_PRO")),
]

REFERENCE_ROWS = [
    Row("correct", (P, P, P, P, P), 0, says=(3, "5 forgeries refused")),
    Row("unsigned_accepting", (P, P, P, S, P), 1, says=(3, "no signature header (200)")),
    Row("forged_accepting", (P, P, P, S, P), 1, says=(3, "valid signature over another body")),
    Row("stale_accepting", (P, P, P, S, P), 1, says=(3, "ACCEPTED: stale timestamp (200)")),
    Row("no_flip", (P, P, P, P, F), 1, says=(4, "did NOT advance")),
    Row("wrong_tier", (P, P, P, P, F), 1, says=(4, "WRONG plan")),
    Row("slow_checkout", (D, P, P, P, P), 0),
    Row("checkout_500", (F, P, P, P, P), 1),
    Row("dormant", (Z, P, P, Z, Z), 0, "dormant"),
    Row(
        "half_switched_off", (P, P, P, F, F), 1, "half_switched_off", says=(3, "half switched off")
    ),
    Row("outage", (F, F, F, F, F), 1, says=(0, "target down")),
    Row("leaked_reap", (P, P, P, P, P), 1, warning="still reads back 200"),
    # the upgrade leg reads the tier from the billing route too: it relies on the same field
    Row("no_tier_field", (P, F, P, P, F), 1, says=(1, "lacks `plan_tier`")),
    Row("missing_env", (P, P, P, P, M), 2, says=(4, "STRIPE_WEBHOOK_SECRET unset: set it")),
]

ENV = {
    "razorpay": {
        "PAYMENT_PROBE_TOKEN": TOKEN,
        "RAZORPAY_TEST_WEBHOOK_SECRET": RAZORPAY_SECRET,
        "PAYMENT_PROBE_TEST_PLAN_ID_PRO": PLAN_ID,
    },
    "reference": {"STRIPE_WEBHOOK_SECRET": STRIPE_SECRET},
}
PROFILE = {"razorpay": "razorpay-subscriptions", "reference": "reference"}


def env_for(shape: Shape, mode: str) -> dict[str, str]:
    env = dict(ENV[shape.name])
    if mode == "missing_env":
        return {}
    if mode == "wrong_token":
        env["PAYMENT_PROBE_TOKEN"] = "not-the-token"
    if mode == "unknown_plan":
        env["PAYMENT_PROBE_TEST_PLAN_ID_PRO"] = "plan_nobody_knows"
    return env


def profile_with_fast_budget(shape: Shape, tmp_path: Path) -> str:
    """The shipped profile with a checkout budget the slow mode exceeds (0.3 s instead of 5 s)."""
    name = PROFILE[shape.name]
    text = resources.files("harness.prober").joinpath("profiles", f"{name}.toml").read_text()
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace("checkout_reachable = 5.0", "checkout_reachable = 0.3"))
    return str(path)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@dataclass(frozen=True)
class Double:
    server: LoopbackServer
    state: State


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Double]]:
    """One double per shape for the whole module; each row switches its mode."""
    apps = {shape.name: api_double(shape) for shape in (RAZORPAY, REFERENCE)}
    with LoopbackServer(apps["razorpay"]) as rzp, LoopbackServer(apps["reference"]) as ref:
        yield {
            "razorpay": Double(rzp, apps["razorpay"].state.double),
            "reference": Double(ref, apps["reference"].state.double),
        }


def run(shape: Shape, row: Row, tmp_path: Path, double: Double) -> tuple[int, str, State]:
    profile = profile_with_fast_budget(shape, tmp_path)
    out, err = io.StringIO(), io.StringIO()
    state = double.state
    state.switch(row.mode)
    kwargs = {
        "profile": profile,
        "once": True,
        "env": env_for(shape, row.mode),
        "audit_path": tmp_path / "audit.jsonl",
        "out": out,
        "err": err,
    }
    target = closed_port_url() if row.mode == "outage" else double.server.base_url
    code = probe_command(target=target, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue() + err.getvalue(), state


def table_rows(text: str) -> list[tuple[str, str, str]]:
    """(leg, result column, reason) of each row of the one-shot table."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"^(\w+_\w+)\s+(\S+)\s+(\S+)\s+\d+ ms\s+(.*)$", line)
        if m and m.group(1) != "LEG":
            rows.append((m.group(1), m.group(2).lower(), m.group(4)))
    return rows


def check(shape: Shape, row: Row, tmp_path: Path, double: Double) -> None:
    code, text, state = run(shape, row, tmp_path, double)
    rows = table_rows(text)
    assert tuple(r[1] for r in rows) == row.legs, text
    assert code == row.exit, text
    assert f"service {row.service}" in text, text
    if row.says is not None:
        leg, words = row.says
        assert words in rows[leg][2], text
    if row.warning is not None:
        assert "WARNING payment_probe_cohort_reap_failed" in text and row.warning in text, text
    else:
        assert "WARNING" not in text, text
    if row.mode not in ("leaked_reap", "outage"):
        assert state.accounts == {}, "every minted test account is reaped"


@pytest.mark.parametrize("row", RAZORPAY_ROWS, ids=lambda r: r.mode)
def test_each_razorpay_shaped_mode_is_judged_as_on_call_would(
    row: Row, tmp_path: Path, servers: dict[str, Double]
) -> None:
    check(RAZORPAY, row, tmp_path, servers["razorpay"])


@pytest.mark.parametrize("row", REFERENCE_ROWS, ids=lambda r: r.mode)
def test_each_reference_shaped_mode_is_judged_as_on_call_would(
    row: Row, tmp_path: Path, servers: dict[str, Double]
) -> None:
    check(REFERENCE, row, tmp_path, servers["reference"])
