"""`payharness trigger` and `payharness resend` as a user runs them, against `payharness fakes` in
another process, with a loopback webhook receiver checking each delivery with the processor's own
verifier (stripe-python, hook0-client) or Xendit's callback token."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from hook0 import signature as hook0_signature  # type: ignore[import-untyped]

from fakes._common import LoopbackServer
from fakes.trigger import recipes
from harness.fakes_cli import RAIL_URL_VARIABLES


class Receiver:
    """The service's webhook routes (`/v1/payments/webhook/{rail}`): records each delivery."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, dict[str, str], bytes]] = []
        self.paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.paths.append(scope["path"])
        self.deliveries.append((scope["path"].rsplit("/", 1)[-1], headers, body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def of(self, rail: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for r, h, b in self.deliveries if r == rail]

    def wait_for(self, rail: str, count: int) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + 15
        while len(self.of(rail)) < count and time.monotonic() < deadline:
            time.sleep(0.05)  # the webhook travels between two processes
        return self.of(rail)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Receiver]]:
    tmp = tmp_path_factory.mktemp("trigger")
    receiver = Receiver()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "XENDIT_", "CDP_", "PAYMENTS_"))
    }
    env_file = tmp / "fakes.env"
    with LoopbackServer(receiver) as target:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness",
                "fakes",
                "--env-file",
                str(env_file),
                "--webhook-target",
                target.base_url,
                # a service whose Xendit webhook path is its own
                "--webhook-url",
                f"xendit={target.base_url}/acme/hooks/xendit",
            ],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while not env_file.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)  # polling for the subprocess to write its settings
            assert env_file.exists(), proc.stderr.read().decode() if proc.stderr else ""
            lines = env_file.read_text().splitlines()
            settings = dict(line.removeprefix("export ").split("=", 1) for line in lines)
            yield {**env, **settings}, receiver
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def payharness(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def emitted(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    assert result.returncode == 0, result.stderr
    return [tuple(line.split("\t")) for line in result.stdout.splitlines()]  # type: ignore[misc]


def test_trigger_stripe_delivers_events_stripe_python_accepts_and_resend_redelivers_one(
    running: tuple[dict[str, str], Receiver],
) -> None:
    env, receiver = running
    events = emitted(payharness(env, "trigger", "stripe", "invoice.paid"))
    assert "invoice.paid" in [kind for _, kind in events]
    deliveries = receiver.wait_for("stripe", len(events))
    secret = env["STRIPE_WEBHOOK_SECRET"]
    verified = [
        stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], secret)
        for headers, body in deliveries
    ]
    assert sorted(e.id for e in verified) == sorted(event_id for event_id, _ in events)
    invoice_event = next(event_id for event_id, kind in events if kind == "invoice.paid")
    resent = payharness(env, "resend", invoice_event)
    assert resent.returncode == 0, resent.stderr
    assert resent.stdout.split("\t")[:2] == [invoice_event, "stripe"]
    headers, body = receiver.wait_for("stripe", len(events) + 1)[-1]
    again = stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], secret)
    assert (again.id, again.type) == (invoice_event, "invoice.paid")


def test_trigger_xendit_recurring_cycle_failed_sends_the_callback_with_the_token(
    running: tuple[dict[str, str], Receiver],
) -> None:
    env, receiver = running
    before = len(receiver.of("xendit"))
    events = emitted(payharness(env, "trigger", "xendit", "recurring.cycle.failed"))
    assert [kind for _, kind in events] == [
        "recurring.plan.activated",
        "recurring.cycle.created",
        "recurring.cycle.failed",
    ]
    deliveries = receiver.wait_for("xendit", before + 3)[before:]
    assert [json.loads(body)["event"] for _, body in deliveries] == [k for _, k in events]
    assert {h["x-callback-token"] for h, _ in deliveries} == {env["XENDIT_CALLBACK_TOKEN"]}
    # `--webhook-url xendit=...` sent them to the service's own path, not the contract's
    xendit_paths = {p for p in receiver.paths if p.endswith("/xendit")}
    assert xendit_paths == {"/acme/hooks/xendit"}


@pytest.mark.parametrize(
    "event_type",
    ["invoice.payment_failed", "charge.refunded", "payment_intent.payment_failed",
     "test_helpers.test_clock.ready"],
)  # fmt: skip
def test_trigger_stripe_builds_what_each_event_needs_and_stripe_python_accepts_the_deliveries(
    running: tuple[dict[str, str], Receiver], event_type: str
) -> None:
    env, receiver = running
    before = len(receiver.of("stripe"))
    events = emitted(payharness(env, "trigger", "stripe", event_type))
    assert event_type in [kind for _, kind in events]
    deliveries = receiver.wait_for("stripe", before + len(events))[before:]
    secret = env["STRIPE_WEBHOOK_SECRET"]
    verified = [
        stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], secret)
        for headers, body in deliveries
    ]
    assert [(e.id, e.type) for e in verified] == events


@pytest.mark.parametrize("rail", ["stripe", "xendit", "cdp"])
def test_every_event_type_each_running_fake_lists_can_be_triggered(
    running: tuple[dict[str, str], Receiver], rail: str
) -> None:
    """Every trigger the running fake offers, through its control API (the one the CLI calls)."""
    env, receiver = running
    base = env[RAIL_URL_VARIABLES[rail]].rstrip("/")
    offered = httpx.get(f"{base}/_fake/triggers", timeout=10).json()["events"]
    assert set(offered) == set(recipes(rail))
    before, sent = len(receiver.of(rail)), 0
    for event_type in offered:
        answer = httpx.post(f"{base}/_fake/trigger", json={"event": event_type}, timeout=30)
        assert answer.status_code == 200, (event_type, answer.text)
        assert event_type in [e["type"] for e in answer.json()["events"]]
        sent += len(answer.json()["events"])
    # every event reached the service (and none is still in flight for the tests after this one)
    assert len(receiver.wait_for(rail, before + sent)) == before + sent


def test_trigger_cdp_settlement_is_verified_by_hook0_client_and_resend_resigns(
    running: tuple[dict[str, str], Receiver],
) -> None:
    env, receiver = running
    before = len(receiver.of("cdp"))
    [(event_id, kind)] = emitted(payharness(env, "trigger", "cdp", "x402.settlement.completed"))
    assert kind == "x402.settlement.completed"
    resent = payharness(env, "resend", event_id, "--rail", "cdp")
    assert resent.returncode == 0, resent.stderr
    deliveries = receiver.wait_for("cdp", before + 2)[before:]
    for headers, body in deliveries:
        assert hook0_signature.verify_webhook_signature_with_current_time(
            headers["x-hook0-signature"],
            body,
            headers,
            env["CDP_WEBHOOK_SECRET"],
            300,
            datetime.datetime.now(datetime.UTC),
        )
    assert [h["x-event-id"] for h, _ in deliveries] == [event_id, event_id]


def test_unknown_events_and_ids_are_one_line_errors_with_exit_2(
    running: tuple[dict[str, str], Receiver],
) -> None:
    env, _ = running
    unknown = payharness(env, "trigger", "stripe", "invoice.teleported")
    assert unknown.returncode == 2
    assert "unknown_trigger" in unknown.stderr and "Traceback" not in unknown.stderr
    missing = payharness(env, "resend", "evt_does_not_exist")
    assert missing.returncode == 2
    assert "[invalid_argument]" in missing.stderr


def test_trigger_list_names_every_rail(tmp_path: Path) -> None:
    listed = payharness(dict(os.environ), "trigger", "--list")
    rails = {line.split("\t")[0] for line in listed.stdout.splitlines()}
    assert (listed.returncode, rails) == (0, {"stripe", "xendit", "cdp"})
