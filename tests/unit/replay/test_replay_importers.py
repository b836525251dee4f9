"""Importers keep body bytes exact (as the source holds them), find each event's identity, are picked
by sniffing, and report foreign or broken entries with their line numbers."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from harness.replay import IMPORTERS, UnknownRecordingFormat, load_file
from harness.replay.importers import ImportOptions

EVENT_1 = b'{\n    "id": "evt_1",\n    "object": "event",\n    "type": "invoice.paid",\n    "created": 1700000000,\n    "data": {"object": {"amount_paid": 1.50e3}}\n  }'
EVENT_2 = b'{"id":"evt_2","object":"event","type":"customer.created","created":1700000001,"data":{"object":{"name":"J\\u00f6rg \xc3\xa9"}}}'


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_stripe_events_in_a_json_array_keep_each_events_exact_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, "events.json", b"[\n  " + EVENT_1 + b",\n  " + EVENT_2 + b"\n]\n")

    result = load_file(path)

    assert [d.body for d in result.deliveries] == [EVENT_1, EVENT_2]
    assert [d.event_id for d in result.deliveries] == ["evt_1", "evt_2"]
    assert [d.origin for d in result.deliveries] == [f"{path}:2", f"{path}:9"]
    assert result.deliveries[0].received_at == "2023-11-14T22:13:20.000000Z"
    assert {d.rail for d in result.deliveries} == {"stripe"}
    assert result.deliveries[0].source == "import:stripe-events"


def test_stripe_events_as_json_lines_keep_each_lines_bytes(tmp_path: Path) -> None:
    line_1 = EVENT_1.replace(b"\n", b"")
    path = _write(tmp_path, "events.jsonl", line_1 + b"\n" + EVENT_2 + b"\n")

    result = load_file(path)

    assert [d.body for d in result.deliveries] == [line_1, EVENT_2]


def test_a_stripe_list_object_yields_the_events_in_its_data(tmp_path: Path) -> None:
    data = (
        b'{"object": "list", "has_more": false, "data": ['
        + EVENT_2
        + b", "
        + EVENT_1
        + b'], "url": "/v1/events"}'
    )
    path = _write(tmp_path, "list.json", data)

    result = load_file(path)

    assert [d.body for d in result.deliveries] == [EVENT_2, EVENT_1]


def test_objects_that_are_not_stripe_events_are_reported_not_imported(tmp_path: Path) -> None:
    thin = b'{"id": "evt_thin", "object": "v2.core.event", "type": "x"}'
    path = _write(
        tmp_path,
        "mixed.jsonl",
        EVENT_2 + b"\n" + thin + b"\n{broken\n" + EVENT_2.replace(b"evt_2", b"evt_3") + b"\n",
    )

    result = load_file(path)

    assert [d.event_id for d in result.deliveries] == ["evt_2", "evt_3"]
    assert [(p.line, p.code) for p in result.problems] == [
        (2, "not_a_stripe_event"),
        (3, "invalid_json"),
    ]


def test_a_broken_array_keeps_the_events_before_the_break(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "cut.json", b"[" + EVENT_2 + b",\n" + b'{"id": "evt_x", "object": "event",'
    )

    result = load_file(path)

    assert [d.event_id for d in result.deliveries] == ["evt_2"]
    assert [p.code for p in result.problems] == ["invalid_json"]


def test_a_xendit_invoice_callback_is_one_delivery_named_by_invoice_and_status(
    tmp_path: Path,
) -> None:
    body = b'{"id":"579c8d61f23fa4ca35e52da4","external_id":"invoice_123124123","user_id":"5781d19b2e2385880609791c","status":"PAID","amount":50000,"paid_amount":50000,"currency":"IDR","paid_at":"2016-10-12T08:15:03.404Z","updated":"2016-10-12T08:15:03.404Z"}'
    path = _write(tmp_path, "callback.json", body)

    (delivery,) = load_file(path).deliveries

    assert delivery.rail == "xendit"
    assert delivery.body == body
    assert delivery.event_id == "invoice:579c8d61f23fa4ca35e52da4:PAID"
    assert delivery.received_at == "2016-10-12T08:15:03.404000Z"
    assert dict(delivery.headers) == {"content-type": "application/json"}


def test_an_enveloped_xendit_callback_is_named_by_its_event_and_data_id(tmp_path: Path) -> None:
    body = b'{"event": "recurring.cycle.succeeded", "created": "2025-01-01T00:00:00Z", "business_id": "b1", "data": {"id": "cyc_1", "plan_id": "plan_1", "amount": 20, "currency": "USD"}}'

    (delivery,) = load_file(_write(tmp_path, "cycle.json", body)).deliveries

    assert delivery.event_id == "recurring.cycle.succeeded:cyc_1"
    assert delivery.body == body


def test_a_razorpay_webhook_keeps_its_event_id_header_and_the_envelopes_exact_bytes(
    tmp_path: Path,
) -> None:
    envelope = b'{"entity":"event","account_id":"acc_FzO2PyLE5ZYkW8","event":"subscription.charged","contains":["subscription","payment"],"payload":{"payment":{"entity":{"id":"pay_IilTQTf37sXXNX","amount":6000,"currency":"INR","captured":"1"}}},"created_at":1641976178}'
    wrapper = (
        b'{"headers": {"x-razorpay-event-id": "IilTXnlG6MDGhb", "X-Razorpay-Signature": "old"}, "body": '
        + envelope
        + b"}"
    )

    (delivery,) = load_file(_write(tmp_path, "rzp.json", wrapper)).deliveries

    assert delivery.rail == "razorpay"
    assert delivery.body == envelope
    assert delivery.event_id == "IilTXnlG6MDGhb"
    assert ("x-razorpay-event-id", "IilTXnlG6MDGhb") in delivery.headers
    assert delivery.received_at == "2022-01-12T08:29:38.000000Z"


def test_a_razorpay_body_given_as_a_string_is_taken_verbatim(tmp_path: Path) -> None:
    raw = '{"entity": "event",  "event": "payment.captured", "created_at": 1}'
    wrapper = json.dumps({"headers": [["x-razorpay-event-id", "Ev1"]], "body": raw}).encode()

    (delivery,) = load_file(_write(tmp_path, "rzp.jsonl", wrapper + b"\n")).deliveries

    assert delivery.body == raw.encode()


def test_a_bare_razorpay_envelope_gets_a_stable_marked_event_id(tmp_path: Path) -> None:
    envelope = b'{"entity":"event","event":"subscription.charged","created_at":1641976178}'
    path = _write(tmp_path, "bare.jsonl", envelope + b"\n" + envelope + b"\n")

    first, second = load_file(path).deliveries

    assert first.event_id == second.event_id and first.event_id.startswith("ph_sha256_")
    assert first.meta == {"synthesized_event_id": True}


def test_a_cdp_webhook_gets_the_headers_hook0_signs(tmp_path: Path) -> None:
    body = b'{"eventId":"9d1f","eventType":"x402.settlement.completed","createdAt":"2025-01-01T00:00:00.000Z","data":{"transaction":"0xab","value":"10000"}}'

    (delivery,) = load_file(_write(tmp_path, "cdp.json", b"[" + body + b"]")).deliveries

    assert delivery.rail == "cdp"
    assert delivery.body == body
    assert delivery.event_id == "9d1f"
    assert dict(delivery.headers) == {
        "content-type": "application/json",
        "x-event-id": "9d1f",
        "x-event-type": "x402.settlement.completed",
    }


def _har(entries: list[dict[str, object]]) -> bytes:
    return json.dumps(
        {"log": {"version": "1.2", "creator": {"name": "t"}, "entries": entries}}, indent=1
    ).encode()


def _entry(
    method: str, url: str, text: str | None, headers: list[tuple[str, str]], **post: str
) -> dict[str, object]:
    request: dict[str, object] = {
        "method": method,
        "url": url,
        "headers": [{"name": n, "value": v} for n, v in headers],
    }
    if text is not None:
        request["postData"] = {"mimeType": "application/json", "text": text, **post}
    return {
        "startedDateTime": "2025-11-21T10:00:00.123Z",
        "request": request,
        "response": {"status": 200},
    }


def test_har_posts_to_a_webhook_path_become_deliveries_with_their_captured_headers(
    tmp_path: Path,
) -> None:
    stripe_body = '{"id":"evt_h1","object":"event","type":"x"}'
    entries = [
        _entry("GET", "https://api.example.com/v1/accounts/a", None, []),
        _entry("POST", "https://api.example.com/v1/charges", "{}", []),
        _entry(
            "POST",
            "https://api.example.com/v1/payments/webhook/stripe?x=1",
            stripe_body,
            [
                (":authority", "api.example.com"),
                ("Stripe-Signature", "t=1,v1=aa"),
                ("Content-Type", "application/json"),
            ],
        ),
        _entry(
            "POST",
            "https://hooks.example.com/webhooks/in",
            '{"eventId":"e9","eventType":"t"}',
            [("X-Hook0-Signature", "t=1,h=,v1=aa")],
        ),
    ]
    path = _write(tmp_path, "capture.har", _har(entries))

    result = load_file(path)

    stripe, cdp = result.deliveries
    assert (stripe.rail, stripe.event_id, stripe.body) == ("stripe", "evt_h1", stripe_body.encode())
    assert stripe.path == "/v1/payments/webhook/stripe?x=1"
    assert stripe.headers == (
        ("Stripe-Signature", "t=1,v1=aa"),
        ("Content-Type", "application/json"),
    )
    assert stripe.received_at == "2025-11-21T10:00:00.123000Z"
    assert (cdp.rail, cdp.event_id) == ("cdp", "e9")
    assert result.problems == ()


def test_har_bodies_marked_base64_are_decoded_and_unknown_rails_reported(tmp_path: Path) -> None:
    raw = b'{"id":"evt_b","object":"event"}'
    entries = [
        _entry(
            "POST", "http://h/webhook/stripe", base64.b64encode(raw).decode(), [], encoding="base64"
        ),
        _entry("POST", "http://h/webhook/paypal", "{}", []),
    ]
    path = _write(tmp_path, "capture.har", _har(entries))

    result = load_file(path)

    assert [d.body for d in result.deliveries] == [raw]
    ((line, code),) = [(p.line, p.code) for p in result.problems]
    assert code == "unknown_rail" and line is not None and line > 1


def test_the_har_path_pattern_picks_which_posts_are_webhooks(tmp_path: Path) -> None:
    entries = [_entry("POST", "http://h/hooks/stripe", '{"id":"evt_p","object":"event"}', [])]
    path = _write(tmp_path, "capture.har", _har(entries))

    assert load_file(path).deliveries == ()
    options = ImportOptions(har_path_pattern=r"^/hooks/")
    assert [d.event_id for d in load_file(path, options=options).deliveries] == ["evt_p"]


def test_an_unrecognised_file_names_the_formats_that_exist(tmp_path: Path) -> None:
    with pytest.raises(UnknownRecordingFormat) as caught:
        load_file(_write(tmp_path, "x.json", b'{"hello": "world"}'))
    assert caught.value.code == "unknown_recording_format"
    assert "stripe-events" in str(caught.value)


def test_a_named_format_overrides_sniffing(tmp_path: Path) -> None:
    path = _write(tmp_path, "odd.json", b'{"id": "1", "status": "PAID", "external_id": "t"}')
    assert load_file(path).deliveries[0].rail == "xendit"
    result = load_file(path, format="stripe-events")
    assert result.deliveries == () and result.problems[0].code == "not_a_stripe_event"
    with pytest.raises(UnknownRecordingFormat):
        load_file(path, format="paypal")


def test_every_importer_has_a_distinct_format_name() -> None:
    assert list(IMPORTERS) == [
        "recording",
        "har",
        "stripe-events",
        "razorpay-webhooks",
        "cdp-webhooks",
        "xendit-callbacks",
    ]
