"""`probe_command`, the function behind `payharness probe`: table, exit codes, push, kill switch."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from probe_doubles import SECRET, FakeClock, FakeTarget, error

from harness.prober import probe_command

ENV = {"STRIPE_WEBHOOK_SECRET": SECRET}


def run(fake: FakeTarget, tmp_path: Path, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options: dict[str, Any] = {
        "target": "http://target.test",
        "once": True,
        "env": ENV,
        "audit_path": tmp_path / "audit.jsonl",
        "transport": fake.transport,
        "now": FakeClock(),
    }
    options.update(kwargs)
    code = probe_command(out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def test_once_prints_five_passing_legs_and_exits_zero(tmp_path: Path) -> None:
    code, out, err = run(FakeTarget(), tmp_path)
    assert code == 0, err
    rows = out.splitlines()
    assert rows[0].startswith("payment probe run ") and "against http://target.test" in rows[0]
    assert rows[1].split() == ["LEG", "RESULT", "STATUS", "LATENCY", "REASON"]
    legs = [row.split()[:2] for row in rows[2:7]]
    assert legs == [
        ["checkout_reachable", "pass"],
        ["billing_state", "pass"],
        ["invoices_reachable", "pass"],
        ["webhook_security", "pass"],
        ["upgrade_webhook_e2e", "pass"],
    ]
    assert rows[7] == "5 legs: 5 pass, 0 degraded, 0 fail, 0 misconfigured; service live"


def test_a_failed_leg_exits_one_and_is_shouted(tmp_path: Path) -> None:
    target = FakeTarget()
    target.on("GET /v1/billing", error(500, "internal_error"))
    code, out, _ = run(target, tmp_path)
    assert code == 1
    assert "billing_state        FAIL    500" in out


def test_degraded_legs_do_not_fail_the_run(tmp_path: Path) -> None:
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", error(503, "payments_not_live"))
    target.on("POST /v1/payments/webhook/stripe", error(503, "payments_not_live"))
    code, out, _ = run(target, tmp_path)  # a dormant service: degraded, never failed
    assert code == 0
    assert "3 degraded" in out and "service dormant" in out


def test_a_missing_secret_is_misconfigured_and_exits_two_naming_the_variable(
    tmp_path: Path,
) -> None:
    code, out, _ = run(FakeTarget(), tmp_path, env={})
    assert code == 2
    assert "upgrade_webhook_e2e  MISCONFIGURED" in out
    assert "STRIPE_WEBHOOK_SECRET unset: set it to the target's test webhook secret" in out


def test_explain_lists_what_a_profile_needs_without_running(tmp_path: Path) -> None:
    target = FakeTarget()
    code, out, _ = run(target, tmp_path, profile="razorpay-subscriptions", explain=True)
    assert code == 0 and target.calls == []
    for needed in (
        "PAYMENT_PROBE_TOKEN",
        "RAZORPAY_TEST_WEBHOOK_SECRET",
        "PAYMENT_PROBE_TEST_PLAN_ID_PRO",
        "POST /api/v1/test-cohort/teams",
        "DELETE /api/v1/test-cohort/teams/{account_id}",
        "2xx answer must carry tier",
        "must refuse a request without the token",
        "wrong secret",
    ):
        assert needed in out


def test_neither_once_nor_interval_means_once(tmp_path: Path) -> None:
    code, out, _ = run(FakeTarget(), tmp_path, once=False)
    assert code == 0 and "5 legs" in out


def test_the_target_defaults_to_the_environment(tmp_path: Path) -> None:
    env = {**ENV, "PAYMENT_PROBE_BASE_URL": "http://from-env.test/"}
    code, out, _ = run(FakeTarget(), tmp_path, target=None, env=env)
    assert code == 0 and "against http://from-env.test " in out


@pytest.mark.parametrize(
    ("kwargs", "code_name"),
    [
        ({"interval": 60.0}, "invalid_argument"),
        ({"once": False, "interval": 60.0, "pushgateway": "http://gw.test"}, "invalid_argument"),
        ({"profile": "no-such-profile"}, "unknown_probe_profile"),
        ({"target": "ftp://x.test"}, "invalid_probe_target"),
        ({"env": {"PAYMENT_PROBE_ENABLED": "maybe"}}, "invalid_probe_enabled_flag"),
        ({"once": False, "interval": 0.0}, "invalid_argument"),
    ],
)
def test_a_prober_that_cannot_run_exits_two_with_a_coded_error(
    tmp_path: Path, kwargs: dict[str, Any], code_name: str
) -> None:
    target = FakeTarget()
    code, _out, err = run(target, tmp_path, **kwargs)
    assert code == 2
    assert err.startswith(f"error [{code_name}] ")
    assert target.calls == []


def test_switched_off_once_sends_nothing_writes_nothing_and_exits_zero(tmp_path: Path) -> None:
    target = FakeTarget()
    pushed: list[str] = []
    code, out, _ = run(
        target,
        tmp_path,
        env={**ENV, "PAYMENT_PROBE_ENABLED": "false"},
        pushgateway="http://gw.test",
        push_handler=recording_handler(pushed),
    )
    assert code == 0
    assert "disabled" in out
    assert target.calls == []
    assert pushed == []
    assert not (tmp_path / "audit.jsonl").exists()


def recording_handler(sink: list[Any]) -> Callable[..., Callable[[], None]]:
    def handler(
        url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes
    ) -> Callable[[], None]:
        def send() -> None:
            sink.append((method, url, data.decode()))

        return send

    return handler


def test_once_with_a_pushgateway_puts_the_run_under_its_target_and_profile(tmp_path: Path) -> None:
    pushed: list[Any] = []
    code, out, _ = run(
        FakeTarget(),
        tmp_path,
        pushgateway="http://gw.test:9091",
        push_handler=recording_handler(pushed),
    )
    assert code == 0
    ((method, url, body),) = pushed
    assert method == "PUT"
    assert url.startswith("http://gw.test:9091/metrics/job/payharness_payment_probe/")
    assert "profile/reference" in url
    assert 'payment_probe_outcome_total{leg="upgrade_webhook_e2e",result="pass"} 1.0' in body
    assert "payment_probe_last_run_timestamp_seconds" in body
    assert "pushed to the Pushgateway" in out


def test_a_pushgateway_that_refuses_exits_two(tmp_path: Path) -> None:
    def refusing(*args: Any) -> Callable[[], None]:
        def send() -> None:
            raise OSError("connection refused")

        return send

    code, out, err = run(
        FakeTarget(), tmp_path, pushgateway="http://gw.test", push_handler=refusing
    )
    assert code == 2
    assert "5 legs" in out  # the run itself was printed
    assert err.startswith("error [pushgateway_push_failed]")


def test_the_audit_trail_is_written_where_asked(tmp_path: Path) -> None:
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", error(502, "processor_error"))
    run(target, tmp_path)
    kinds = [
        json.loads(line)["kind"] for line in (tmp_path / "audit.jsonl").read_text().splitlines()
    ]
    assert kinds == ["payment_probe_leg", "payment_probe_run"]


def test_probe_help_names_every_variable_the_shipped_profiles_read() -> None:
    from typer.testing import CliRunner

    from harness.cli import app
    from harness.prober import load_profile, shipped_profiles
    from harness.prober.explain import profile_variables

    result = CliRunner().invoke(app, ["probe", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--explain" in text
    for name in shipped_profiles():
        for variables, _required, _why in profile_variables(load_profile(name)):
            for variable in variables.split(" / "):
                assert variable in text, (name, variable)
