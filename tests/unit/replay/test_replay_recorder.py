"""The recorder captures each inbound webhook byte for byte, forwards it unchanged, answers with what
the service answered, and masks the headers it is told to (and credentials always)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from harness.replay import (
    ListenNotLoopback,
    Recorder,
    RecorderConfig,
    read_recording,
    record_command,
)
from harness.replay.command import parse_listen

SERVICE = "http://127.0.0.1:8000"


class EchoService:
    """The service behind the recorder: keeps what it received, answers gzip-compressed JSON."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.append(
            {
                "method": scope["method"],
                "path": scope["path"],
                "query": scope["query_string"],
                "headers": [(k.decode(), v.decode("latin-1")) for k, v in scope["headers"]],
                "body": body,
            }
        )
        payload = gzip.compress(b'{"status":"applied"}')
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-encoding", b"gzip"),
                    (b"x-service", b"echo"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


async def _post(
    recorder: Recorder, path: str, body: bytes, headers: list[tuple[str, str]]
) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=recorder), base_url=SERVICE
    ) as client:
        request = client.build_request("POST", path, content=body, headers=headers)
        for name in ("accept", "accept-encoding", "user-agent", "connection"):
            if name not in {k.lower() for k, _ in headers}:
                del request.headers[name]
        return await client.send(request)


def _recorder(tmp_path: Path, service: EchoService, **options: Any) -> Recorder:
    return Recorder(
        RecorderConfig(
            forward_to=SERVICE,
            out=tmp_path / "recorded.jsonl",
            transport=httpx.ASGITransport(app=service),
            **options,
        )
    )


BODY = b'{\n  "id": "evt_rec1",\n  "object": "event",\n  "note": "caf\xc3\xa9 \xe2\x80\xa8"\n}'
HEADERS = [
    ("Content-Type", "application/json; charset=utf-8"),
    ("Stripe-Signature", "t=1700000000,v1=abc"),
    ("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
    ("X-Custom", "one"),
    ("X-Custom", "two"),
]


async def test_a_delivery_is_forwarded_unchanged_and_recorded_byte_for_byte(tmp_path: Path) -> None:
    service = EchoService()
    recorder = _recorder(tmp_path, service)

    response = await _post(recorder, "/v1/payments/webhook/stripe?attempt=1", BODY, HEADERS)

    (forwarded,) = service.received
    assert forwarded["body"] == BODY
    assert forwarded["method"] == "POST"
    assert (forwarded["path"], forwarded["query"]) == ("/v1/payments/webhook/stripe", b"attempt=1")
    sent = [(k.lower(), v) for k, v in HEADERS]
    assert [h for h in forwarded["headers"] if h[0] not in ("host", "content-length")] == sent
    (recorded,) = read_recording(tmp_path / "recorded.jsonl").deliveries
    assert recorded.body == BODY
    assert (recorded.rail, recorded.event_id) == ("stripe", "evt_rec1")
    assert recorded.path == "/v1/payments/webhook/stripe?attempt=1"
    assert [h for h in recorded.headers if h[0] not in ("host", "content-length")] == sent
    assert recorded.meta == {"forwarded_status": 200}
    assert recorder.recorded == 1
    # the caller gets the service's answer as it was sent: still compressed, same headers
    assert (
        response.headers["content-encoding"] == "gzip" and response.headers["x-service"] == "echo"
    )
    assert response.json() == {"status": "applied"}


async def test_a_binary_body_is_forwarded_and_recorded_exactly(tmp_path: Path) -> None:
    service = EchoService()
    recorder = _recorder(tmp_path, service)
    body = bytes(range(256))

    await _post(recorder, "/webhook/xendit", body, [("x-callback-token", "tok")])

    assert service.received[0]["body"] == body
    assert read_recording(tmp_path / "recorded.jsonl").deliveries[0].body == body


async def test_named_headers_are_masked_in_the_recording_but_forwarded_as_they_came(
    tmp_path: Path,
) -> None:
    service = EchoService()
    recorder = _recorder(tmp_path, service, mask_headers=("X-Custom",))

    await _post(
        recorder,
        "/v1/payments/webhook/xendit",
        b'{"id":"inv_1","status":"PAID","external_id":"t"}',
        [
            ("x-callback-token", "live-token"),
            ("X-Custom", "private"),
            ("Authorization", "Bearer x"),
        ],
    )

    forwarded = dict(service.received[0]["headers"])
    assert forwarded["x-callback-token"] == "live-token" and forwarded["x-custom"] == "private"
    (recorded,) = read_recording(tmp_path / "recorded.jsonl").deliveries
    assert dict(recorded.headers)["x-callback-token"] == "[masked]"
    assert dict(recorded.headers)["x-custom"] == "[masked]"
    assert dict(recorded.headers)["authorization"] == "[masked]"
    assert recorded.masked_headers == ("authorization", "x-callback-token", "x-custom")
    assert "live-token" not in (tmp_path / "recorded.jsonl").read_text()
    assert recorded.event_id == "invoice:inv_1:PAID"


async def test_the_rail_comes_from_the_signature_header_when_the_path_does_not_name_it(
    tmp_path: Path,
) -> None:
    recorder = _recorder(tmp_path, EchoService())

    await _post(
        recorder,
        "/hooks/in",
        b'{"eventId":"e7","eventType":"t"}',
        [("X-Hook0-Signature", "t=1,h=,v1=00")],
    )
    await _post(recorder, "/hooks/in", b"{}", [])

    cdp, unknown = read_recording(tmp_path / "recorded.jsonl").deliveries
    assert (cdp.rail, cdp.event_id) == ("cdp", "e7")
    assert unknown.rail == "unknown"


async def test_a_service_error_is_passed_back_and_still_recorded(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path, EchoService(status=503))

    response = await _post(recorder, "/v1/payments/webhook/stripe", BODY, HEADERS)

    assert response.status_code == 503
    assert read_recording(tmp_path / "recorded.jsonl").deliveries[0].meta == {
        "forwarded_status": 503
    }


async def test_an_unreachable_service_answers_502_and_the_delivery_is_kept(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    recorder = Recorder(
        RecorderConfig(
            forward_to=SERVICE, out=tmp_path / "r.jsonl", transport=httpx.MockTransport(refuse)
        )
    )

    response = await _post(recorder, "/v1/payments/webhook/stripe", BODY, HEADERS)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "forward_failed"
    (recorded,) = read_recording(tmp_path / "r.jsonl").deliveries
    assert recorded.body == BODY and "connection refused" in recorded.meta["forward_error"]


def test_record_command_serves_the_recorder_on_the_loopback_address_it_was_given(
    tmp_path: Path,
) -> None:
    served: list[tuple[Recorder, str, int]] = []
    out = io.StringIO()

    code = record_command(
        listen="127.0.0.1:8765",
        forward_to=SERVICE,
        out=tmp_path / "r.jsonl",
        mask_headers=["X-Api-Key"],
        console=Console(file=out, width=300),
        serve=lambda recorder, host, port: served.append((recorder, host, port)),
    )

    assert code == 0
    ((recorder, host, port),) = served
    assert (host, port) == ("127.0.0.1", 8765)
    assert recorder.config.masked() >= {"x-api-key", "x-callback-token"}
    assert f"writing {tmp_path / 'r.jsonl'}" in out.getvalue()


@pytest.mark.parametrize(
    "listen", ["0.0.0.0:8765", "10.1.2.3:80", "example.com:80", "8765", "127.0.0.1:port"]
)
def test_the_recorder_refuses_to_listen_off_loopback_or_on_a_bad_address(listen: str) -> None:
    with pytest.raises(ListenNotLoopback) as caught:
        parse_listen(listen)
    assert caught.value.code == "non_loopback_listen"


def test_loopback_listen_addresses_are_accepted() -> None:
    assert parse_listen("localhost:1") == ("localhost", 1)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    assert parse_listen(":9000") == ("127.0.0.1", 9000)


async def test_the_recording_file_is_valid_json_lines_after_many_deliveries(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path, EchoService())
    for n in range(5):
        await _post(
            recorder, "/v1/payments/webhook/stripe", json.dumps({"id": f"evt_{n}"}).encode(), []
        )
    result = read_recording(tmp_path / "recorded.jsonl")
    assert [d.event_id for d in result.deliveries] == [f"evt_{n}" for n in range(5)]
    assert result.problems == ()


async def test_requests_that_are_not_posts_are_forwarded_but_not_recorded(tmp_path: Path) -> None:
    service = EchoService()
    recorder = _recorder(tmp_path, service)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=recorder), base_url=SERVICE
    ) as client:
        response = await client.get("/healthz")

    assert response.status_code == 200 and service.received[0]["method"] == "GET"
    assert recorder.recorded == 0
    assert not (tmp_path / "recorded.jsonl").exists()
