"""`replay_command`: the safety checks before anything is sent, where secrets come from, skipped lines,
exit codes, and the report folder a user reads afterwards."""

from __future__ import annotations

import io
import json
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from replay_ledger_target import SECRET, LedgerTarget
from replay_scenario import stripe_funded
from rich.console import Console

from harness.errors import ConfigError
from harness.replay import (
    Delivery,
    MissingWebhookSecret,
    NonLoopbackTargetRefused,
    RecordingWriter,
    UnsupportedRail,
    replay_command,
    replay_command_async,
)
from harness.replay.command import is_loopback_url
from harness.replay.recording import delivery_to_json
from harness.replay.webhook_secrets import WebhookSecrets, parse_env_lines

ENV = {"STRIPE_WEBHOOK_SECRET": SECRET}
CUSTOMERS = {"cus_a": "acct_a"}


def _delivery(n: int, rail: str = "stripe") -> Delivery:
    return Delivery(
        rail=rail,
        event_id=f"evt_{n}",
        received_at="2020-01-01T00:00:00.000000Z",
        method="POST",
        path="/v1/payments/webhook/stripe",
        headers=(("content-type", "application/json"), ("stripe-signature", "t=1,v1=00")),
        body=stripe_funded(f"evt_{n}", f"ccsbtxn_{n}", "cus_a", 5),
    )


def _recording(tmp_path: Path, count: int = 3, rail: str = "stripe") -> Path:
    path = tmp_path / "recording.jsonl"
    RecordingWriter(path).write_all([_delivery(n, rail) for n in range(count)])
    return path


def _quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


def _folder(tmp_path: Path) -> Path:
    (folder,) = (tmp_path / "reports").iterdir()
    return folder


def test_a_non_loopback_target_is_refused_in_a_non_interactive_run_before_anything_is_read(
    tmp_path: Path,
) -> None:
    with pytest.raises(NonLoopbackTargetRefused) as caught:
        replay_command(
            files=[tmp_path / "does-not-even-exist.jsonl"],
            target="https://staging.example.com",
            env=ENV,
            interactive=False,
            report_dir=tmp_path / "reports",
            console=_quiet(),
        )
    assert caught.value.code == "non_loopback_target_unconfirmed"
    assert not (tmp_path / "reports").exists()


def test_an_interactive_user_who_declines_stops_the_replay(tmp_path: Path) -> None:
    asked: list[str] = []

    def decline(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(NonLoopbackTargetRefused):
        replay_command(
            files=[_recording(tmp_path)],
            target="https://staging.example.com",
            env=ENV,
            interactive=True,
            confirm=decline,
            report_dir=tmp_path / "reports",
            console=_quiet(),
        )
    assert asked and "https://staging.example.com" in asked[0]


@pytest.mark.parametrize("how", ["flag", "interactive yes"])
def test_a_confirmed_non_loopback_target_is_replayed_into(tmp_path: Path, how: str) -> None:
    target = LedgerTarget(customers=CUSTOMERS)
    code = replay_command(
        files=[_recording(tmp_path)],
        target="https://staging.example.com",
        env=ENV,
        interactive=how != "flag",
        confirm_non_loopback=how == "flag",
        confirm=lambda question: True,
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=target.app),
        console=_quiet(),
    )
    assert code == 0
    assert target.balances == {"acct_a": 3 * 5 * 10_000}


def test_loopback_targets_need_no_confirmation() -> None:
    assert all(
        is_loopback_url(u)
        for u in (
            "http://127.0.0.1:8000",
            "http://127.9.9.9",
            "http://localhost:1",
            "http://[::1]:80",
        )
    )
    assert not any(
        is_loopback_url(u) for u in ("http://10.0.0.1", "https://example.com", "http://0.0.0.0")
    )


def test_a_dry_run_sends_nothing_needs_no_secret_and_says_so(tmp_path: Path) -> None:
    target = LedgerTarget(customers=CUSTOMERS)
    code = replay_command(
        files=[_recording(tmp_path)],
        target="https://staging.example.com",
        env={},
        interactive=False,
        dry_run=True,
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=target.app),
        console=_quiet(),
    )
    assert code == 0
    assert target.answered == 0
    summary = (_folder(tmp_path) / "summary.md").read_text()
    assert "**DRY RUN: nothing was sent.**" in summary


def test_a_rail_without_a_secret_stops_the_replay_and_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(MissingWebhookSecret) as caught:
        replay_command(
            files=[_recording(tmp_path)],
            target="http://127.0.0.1:8000",
            env={"XENDIT_CALLBACK_TOKEN": "t"},
            interactive=False,
            report_dir=tmp_path / "reports",
            console=_quiet(),
        )
    assert caught.value.code == "missing_webhook_secret"
    assert "STRIPE_WEBHOOK_SECRET" in str(caught.value)


def test_a_rail_the_replayer_cannot_sign_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedRail) as caught:
        replay_command(
            files=[_recording(tmp_path, rail="unknown")],
            target="http://127.0.0.1:8000",
            env=ENV,
            interactive=False,
            report_dir=tmp_path / "reports",
            console=_quiet(),
        )
    assert caught.value.code == "unsupported_rail"


def test_the_secrets_file_holds_environment_lines_and_wins_over_the_environment(
    tmp_path: Path,
) -> None:
    secrets = tmp_path / "secrets.env"
    secrets.write_text(
        f'# from payharness fakes --env-only\nexport STRIPE_WEBHOOK_SECRET="{SECRET}"\nSTRIPE_API_KEY=sk_x\n'
    )
    target = LedgerTarget(customers=CUSTOMERS)
    code = replay_command(
        files=[_recording(tmp_path)],
        target="http://127.0.0.1:8000",
        env={"STRIPE_WEBHOOK_SECRET": "whsec_wrong"},
        secrets_file=secrets,
        interactive=False,
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=target.app),
        console=_quiet(),
    )
    assert code == 0


def test_a_secrets_file_line_that_is_not_an_assignment_names_its_line() -> None:
    with pytest.raises(ConfigError, match=r"s\.env:2"):
        parse_env_lines("A=1\nnot an assignment\n", source="s.env")


def test_secrets_never_appear_in_a_repr() -> None:
    secrets = WebhookSecrets.from_sources({"STRIPE_WEBHOOK_SECRET": "whsec_very_secret"})
    assert "whsec_very_secret" not in repr(secrets)
    assert secrets.rails() == {"stripe"}


async def test_malformed_lines_are_reported_with_line_numbers_and_the_rest_is_replayed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "recording.jsonl"
    good = [json.dumps(delivery_to_json(_delivery(n))) for n in range(3)]
    path.write_text("\n".join([good[0], "{oops", good[1], '{"version": 1}', good[2]]) + "\n")
    target = LedgerTarget(customers=CUSTOMERS)

    code = await replay_command_async(
        files=[path],
        target="http://127.0.0.1:8000",
        env=ENV,
        interactive=False,
        accounts=["acct_a"],
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=target.app),
        console=_quiet(),
    )

    assert code == 1  # skipped input makes the run incomplete
    assert target.balances == {"acct_a": 3 * 5 * 10_000}
    folder = _folder(tmp_path)
    summary = (folder / "summary.md").read_text()
    assert f"- `{path}:2` **invalid_json**" in summary
    assert f"- `{path}:4` **schema_violation**" in summary
    assert "FAIL: 2 input line(s) skipped." in summary
    junit = ET.parse(folder / "junit.xml").getroot()
    inputs = junit.find("testsuite[@name='recording input']")
    assert inputs is not None and inputs.get("errors") == "2"


async def test_the_report_folder_holds_the_summary_junit_and_one_line_per_send(
    tmp_path: Path,
) -> None:
    target = LedgerTarget(customers=CUSTOMERS)
    out = io.StringIO()
    at = time.time()  # a fixed clock, near enough to now for the target's 300 s tolerance

    code = await replay_command_async(
        files=[_recording(tmp_path, count=4)],
        target="http://127.0.0.1:8000",
        env=ENV,
        interactive=False,
        order="shuffled",
        duplicate=1,
        accounts=["acct_a"],
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=target.app),
        console=Console(file=out, width=200),
        now=lambda: at,
    )

    assert code == 0
    folder = _folder(tmp_path)
    assert folder.name == datetime.fromtimestamp(at, tz=UTC).strftime("%Y%m%dT%H%M%SZ-replay")
    assert sorted(p.name for p in folder.iterdir()) == ["events.jsonl", "junit.xml", "summary.md"]
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert len(events) == 16  # 4 events, 2 copies, 2 passes
    assert {e["outcome"] for e in events if e["pass_number"] == 2} == {"duplicate"}
    assert set(events[0]) >= {
        "event_id",
        "sent",
        "http_status",
        "status",
        "outcome",
        "mismatches",
        "origin",
    }
    junit = ET.parse(folder / "junit.xml").getroot()
    assert (junit.get("tests"), junit.get("failures"), junit.get("errors")) == ("17", "0", "0")
    summary = (folder / "summary.md").read_text()
    seed = summary.split("(seed ")[1].split(")")[0]
    assert f"shuffled with seed {seed}" in out.getvalue()
    assert (
        "| `acct_a` | 0 µUSD, 0 entries, free | 200000 µUSD, 4 entries, free | 200000 µUSD, 4 entries, free |"
        in summary
    )


async def test_a_second_replay_writes_a_second_report_folder(tmp_path: Path) -> None:
    target = LedgerTarget(customers=CUSTOMERS)
    at = time.time()
    for _ in range(2):
        await replay_command_async(
            files=[_recording(tmp_path, count=1)],
            target="http://127.0.0.1:8000",
            env=ENV,
            interactive=False,
            report_dir=tmp_path / "reports",
            transport=httpx.ASGITransport(app=target.app),
            console=_quiet(),
            now=lambda: at,
        )
    stamp = datetime.fromtimestamp(at, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    names = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert names == [f"{stamp}-replay", f"{stamp}-replay-2"]


@pytest.mark.parametrize("terminal", [True, False])
def test_a_progress_bar_is_shown_on_a_terminal_only(tmp_path: Path, terminal: bool) -> None:
    out = io.StringIO()
    replay_command(
        files=[_recording(tmp_path)],
        target="http://127.0.0.1:8000",
        env=ENV,
        interactive=False,
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=LedgerTarget(customers=CUSTOMERS).app),
        console=Console(file=out, width=120, force_terminal=terminal),
    )
    assert ("6/6" in out.getvalue()) is terminal  # 3 events, 2 passes


def test_skipped_lines_whose_text_looks_like_markup_are_printed_literally(tmp_path: Path) -> None:
    path = tmp_path / "odd [x] name.jsonl"
    path.write_text('{"version": 1, "rail": "[/bold]", "body_encoding": "utf-8"}\n')
    out = io.StringIO()
    code = replay_command(
        files=[path],
        target="http://127.0.0.1:8000",
        env=ENV,
        interactive=False,
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=LedgerTarget(customers=CUSTOMERS).app),
        console=Console(file=out, width=300),
    )
    assert code == 1
    assert f"skipped {path}:1 [schema_violation]" in out.getvalue()
