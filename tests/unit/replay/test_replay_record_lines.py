"""`payharness record` says what each delivery did, one line each, and never passes a redirect back."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from harness.replay import Recorder, read_recording, record_command

SERVICE = "http://127.0.0.1:8000"
STRIPE = b'{"id":"evt_line1","object":"event","type":"customer.created","data":{"object":{}}}'
XENDIT = b'{"id":"inv_9","external_id":"top_1","status":"PAID","amount":5,"currency":"USD"}'


class Service:
    """The service behind the recorder: answers each path with a fixed status (and Location)."""

    def __init__(self, answers: dict[str, tuple[int, dict[str, str]]]) -> None:
        self.answers = answers
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url}")
        status, headers = self.answers.get(request.url.path, (200, {}))
        body = b"" if 300 <= status < 400 else b'{"status":"ignored"}'
        if status >= 400:
            body = b'{"error":{"code":"webhook_signature_invalid","message":"no"}}'
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))


def _run(
    tmp_path: Path, service: Service, requests: list[tuple[str, str, bytes]]
) -> tuple[str, list[httpx.Response]]:
    """Run `record_command` with a serve() that sends ``requests`` through the recorder."""
    out = io.StringIO()
    answers: list[httpx.Response] = []

    async def deliver(recorder: Recorder) -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=recorder), base_url="http://recorder.test"
        ) as sender:
            for method, path, body in requests:
                answers.append(await sender.request(method, path, content=body))
        await recorder.aclose()

    code = record_command(
        listen="127.0.0.1:8765",
        forward_to=SERVICE,
        out=tmp_path / "r.jsonl",
        console=Console(file=out, width=400),
        serve=lambda recorder, host, port: asyncio.run(deliver(recorder)),
        transport=httpx.MockTransport(service),
    )
    assert code == 0
    return out.getvalue(), answers


def test_each_delivery_is_printed_on_one_line_with_its_rail_event_type_and_status(
    tmp_path: Path,
) -> None:
    service = Service({"/v1/payments/webhook/xendit": (409, {})})

    console, _ = _run(
        tmp_path,
        service,
        [
            ("POST", "/v1/payments/webhook/stripe", STRIPE),
            ("GET", "/health", b""),
            ("POST", "/v1/payments/webhook/xendit", XENDIT),
        ],
    )

    lines = [line for line in console.splitlines() if "→" in line and "recording" not in line]
    assert len(lines) == 2, console
    assert "stripe evt_line1 customer.created → 200 ignored" in lines[0]
    assert "xendit invoice:inv_9:PAID invoice.paid → 409 webhook_signature_invalid" in lines[1]
    assert lines[0][:4].isdigit() and "T" in lines[0].split()[0]  # starts with the time
    assert "recorded 2 deliveries" in console


def test_a_redirect_is_answered_as_an_error_reported_and_not_followed(tmp_path: Path) -> None:
    elsewhere = "http://ops:hunter2secret@127.0.0.1:9/v1/payments/webhook/stripe"
    service = Service({"/v1/payments/webhook/stripe": (307, {"location": elsewhere})})

    console, (answer,) = _run(tmp_path, service, [("POST", "/v1/payments/webhook/stripe", STRIPE)])

    assert answer.status_code == 502
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == "forward_redirected" and "307" in error["message"]
    assert service.seen == [f"POST {SERVICE}/v1/payments/webhook/stripe"]  # not followed
    (recorded,) = read_recording(tmp_path / "r.jsonl").deliveries
    assert recorded.body == STRIPE and "307" in recorded.meta["forward_error"]
    (line,) = [line for line in console.splitlines() if "evt_line1" in line]
    assert "→ 502" in line and "307" in line and "--forward-to" in line
    everything = console + answer.text + (tmp_path / "r.jsonl").read_text()
    assert "hunter2secret" not in everything
    assert json.loads(answer.text)["error"]["message"].count("***") == 1
