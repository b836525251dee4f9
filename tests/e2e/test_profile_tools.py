"""`payharness profile check` and `payharness init --openapi` as a user runs them, against Acme billing and
the reference served on loopback ports.

* `profile check` passes with Acme's shipped profile, and a broken profile gets one readable line per
  problem: a wrong path names the operation and the status it got, a field path that does not parse is
  refused before anything is sent (naming the key), a variable the profile reads that is not set is said.
* `init --openapi URL` writes a starter whose guessed routes are the right ones (for Acme: the hand-written
  profile's; for the reference: its contract's), with every other value a `GAP:`; `profile check` reads the
  starter and lists its gaps. Nothing at the URL, or a document that is not OpenAPI: one line, a stable
  error code, exit 2.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.acme_billing import create_app as create_acme
from examples.acme_billing import settings_from_env as acme_settings
from fakes._common import LoopbackServer
from harness.reference import create_app as create_reference
from harness.reference import settings_from_env as reference_settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ACME_PROFILE = Path(__file__).parents[2] / "examples" / "acme_billing" / "profile.toml"
TOKEN = "profile-tools-token"


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {
        "ACME_DATABASE": str(tmp_path_factory.mktemp("acme") / "acme.sqlite3"),
        "ACME_BILLING_ENABLED": "1",
        "ACME_TEST_TOKEN": TOKEN,
        # webhooks are checked (an unsigned delivery must be refused); no processor is reached
        "STRIPE_WEBHOOK_SECRET": "whsec_profile_tools",
        "XENDIT_CALLBACK_TOKEN": "xnd_profile_tools",
    }
    with LoopbackServer(create_acme(acme_settings(env))) as server:
        yield server.base_url


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("reference") / "ref.sqlite3"
    settings = reference_settings({"PAYHARNESS_DATABASE_URL": f"sqlite+aiosqlite:///{database}"})
    with LoopbackServer(create_reference(settings)) as server:
        yield server.base_url


def payharness(cwd: Path, *args: str, token: str | None = TOKEN) -> tuple[int, list[str]]:
    """(exit code, output lines) of the CLI, with the test-state token in its environment or not."""
    env = {k: v for k, v in os.environ.items() if k != "ACME_TEST_TOKEN"}
    env["COLUMNS"] = "400"  # one line per line, as a log reads it
    if token is not None:
        env["ACME_TEST_TOKEN"] = token
    run = subprocess.run(
        [sys.executable, "-m", "harness", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return run.returncode, (run.stdout + run.stderr).strip().splitlines()


def _broken(tmp_path: Path, old: str, new: str) -> str:
    text = ACME_PROFILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return str(path)


def test_the_shipped_acme_profile_matches_the_running_acme(acme: str, tmp_path: Path) -> None:
    code, lines = payharness(tmp_path, "profile", "check", str(ACME_PROFILE), "--target", acme)
    assert code == 0, "\n".join(lines)
    assert lines[-1] == "the profile matches the service"
    checked = [line.split(" ", 1)[1].split(":")[0].strip() for line in lines[:-1]]
    for operation in ("create_account", "set_balance", "read_account", "ledger", "charge"):
        assert any(c.startswith(operation) for c in checked), operation
    assert all(line.startswith("ok ") for line in lines[:-1]), "\n".join(lines)


def test_a_wrong_path_names_the_operation_and_the_status_it_got(acme: str, tmp_path: Path) -> None:
    profile = _broken(
        tmp_path,
        'path = "/api/v1/usage/charge"',
        'path = "/api/v1/usage/charges"',
    )
    code, lines = payharness(tmp_path, "profile", "check", profile, "--target", acme)
    assert code == 1
    failed = [line for line in lines if line.startswith("FAIL")]
    assert failed == [
        "FAIL charge (POST /api/v1/usage/charges): refused HTTP 404, code 'http_404' "
        "(not in [gate.errors]) (the route does not exist: check its `path`)"
    ]
    assert lines[-1] == "1 problem(s)"


def test_a_field_that_is_not_in_the_answer_is_named_with_its_key(acme: str, tmp_path: Path) -> None:
    profile = _broken(tmp_path, 'plan_tier = "user.plan"', 'plan_tier = "user.tier"')
    code, lines = payharness(tmp_path, "profile", "check", profile, "--target", acme)
    assert code == 1
    assert [line for line in lines if line.startswith("FAIL")] == [
        "FAIL read_account (GET /api/v1/users/{account_id}): HTTP 200 but the answer has no "
        "`user.tier` (fields.plan_tier)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            'balance = "user.credits_cents"',
            'balance = "user..credits_cents"',
            "[gate.operations.read_account] `fields.balance` = 'user..credits_cents' is not a "
            "dotted field name",
        ),
        (
            'live_field = "enabled"',
            'live_field = "billing enabled"',
            "[gate] `live_field` = 'billing enabled' is not a dotted field name",
        ),
    ],
)
def test_a_field_path_that_does_not_parse_is_refused_before_anything_is_sent(
    acme: str, tmp_path: Path, old: str, new: str, says: str
) -> None:
    code, lines = payharness(
        tmp_path, "profile", "check", _broken(tmp_path, old, new), "--target", acme
    )
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith("error [probe_profile_invalid] profile ")
    assert says in lines[0]


def test_a_variable_the_profile_reads_but_nobody_set_is_said(acme: str, tmp_path: Path) -> None:
    code, lines = payharness(
        tmp_path, "profile", "check", str(ACME_PROFILE), "--target", acme, token=None
    )
    assert code == 1
    failed = [line for line in lines if line.startswith("FAIL")]
    assert failed[0] == (
        "FAIL env ACME_TEST_TOKEN: not set; the profile's templates send {env:ACME_TEST_TOKEN} "
        "([gate] env): export it as the service expects it"
    )
    # and what that does: the state hook refuses, so no balance can be set
    assert (
        "FAIL set_balance (POST /_test/state): refused HTTP 401, code 'unauthorized'" in failed[1]
    )


def _guessed(starter: dict[str, object]) -> dict[str, object]:
    """The routes a profile maps: status, webhooks and each operation's path (but set_balance's, which no
    OpenAPI path can say: the starter leaves it a gap)."""
    gate = starter["gate"]
    assert isinstance(gate, dict)
    paths = {f"{op}.path": t["path"] for op, t in gate["operations"].items() if op != "set_balance"}
    return {"status_path": gate["status_path"], "webhooks": gate["webhooks"], **paths}


def _init(cwd: Path, openapi: str) -> tuple[int, str]:
    """`payharness init --openapi URL`: (the gaps it says it left, the starter's text)."""
    code, lines = payharness(cwd, "init", "--openapi", openapi, "--out", "starter.toml")
    assert code == 0, lines
    said = re.fullmatch(r"wrote starter\.toml: (\d+) gap\(s\) to fill in.*", lines[-1])
    assert said is not None, lines
    return int(said[1]), (cwd / "starter.toml").read_text(encoding="utf-8")


def test_init_guesses_acmes_routes_as_its_hand_written_profile_maps_them(
    acme: str, tmp_path: Path
) -> None:
    gaps, text = _init(tmp_path, f"{acme}/openapi.json")
    starter = tomllib.loads(text)
    shipped = tomllib.loads(ACME_PROFILE.read_text(encoding="utf-8"))
    # every route the starter guessed is the one the hand-written profile maps
    assert _guessed(starter) == _guessed(shipped)
    assert starter["gate"]["operations"]["set_balance"]["path"].startswith("GAP: ")
    # what the paths cannot say is a gap: answer fields, money unit, error field, liveness field
    assert starter["gate"]["money"]["unit"].startswith("GAP: ")
    assert starter["gate"]["operations"]["read_account"]["fields"]["balance"].startswith("GAP: ")
    assert text.count("GAP: ") == gaps
    # profile check reads the starter and lists what is left to fill in
    code, lines = payharness(tmp_path, "profile", "check", "starter.toml", "--target", acme)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(
        f"error [probe_profile_invalid] profile starter.toml: {gaps} gap(s) the starter left to "
        "fill in: cohort.id_field, "
    )


def test_init_guesses_the_references_routes_from_its_served_contract(
    reference: str, tmp_path: Path
) -> None:
    _, text = _init(tmp_path, f"{reference}/openapi.json")
    assert _guessed(tomllib.loads(text)) == {
        "status_path": "/v1/payments/status",
        "webhooks": {rail: f"/v1/payments/webhook/{rail}" for rail in ("stripe", "xendit", "cdp")},
        "create_account.path": "/v1/accounts",
        "read_account.path": "/v1/accounts/{account_id}",
        "delete_account.path": "/v1/accounts/{account_id}",
        "ledger.path": "/v1/accounts/{account_id}/ledger",
        "charge.path": "/v1/charges",
        "topup.path": "/v1/payments/topup/{rail}",
        "checkout.path": "/v1/billing/checkout",
        "billing.path": "/v1/billing?account_id={account_id}",
    }


def _closed_port() -> int:
    with socket.socket() as sock:  # a loopback port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("where", "code_says"),
    [
        ("nothing", "error [target_unreachable] http://127.0.0.1:"),
        ("status", "error [contract_unreadable] "),  # JSON, but not an OpenAPI document
        ("missing", "error [contract_unreadable] GET "),  # a 404
        ("file", "error [contract_unreadable] "),  # a file that is not JSON
    ],
)
def test_init_refuses_what_is_not_an_openapi_document_in_one_line_exit_2(
    acme: str, tmp_path: Path, where: str, code_says: str
) -> None:
    (tmp_path / "notes.txt").write_text("not json", encoding="utf-8")
    source = {
        "nothing": f"http://127.0.0.1:{_closed_port()}/openapi.json",
        "status": f"{acme}/api/v1/billing/status",
        "missing": f"{acme}/no/such/openapi.json",
        "file": str(tmp_path / "notes.txt"),
    }[where]
    code, lines = payharness(tmp_path, "init", "--openapi", source, "--out", "x.toml")
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(code_says), lines[0]
    assert not (tmp_path / "x.toml").exists()


def test_profile_check_of_a_service_that_does_not_answer_is_one_line_exit_2(
    tmp_path: Path,
) -> None:
    target = f"http://127.0.0.1:{_closed_port()}"
    code, lines = payharness(tmp_path, "profile", "check", str(ACME_PROFILE), "--target", target)
    assert code == 2
    assert lines == [f"error [target_unreachable] {target} does not answer: ConnectError"]
