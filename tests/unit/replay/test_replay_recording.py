"""The canonical recording: bodies survive byte for byte, the schema is enforced, bad lines are skipped
with their line numbers and never stop the rest of the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.replay import Delivery, RecordingUnreadable, RecordingWriter, read_recording
from harness.replay.recording import delivery_to_json, parse_recording
from harness.replay.schema import recording_schema

BODY = b'{\n  "id": "evt_1",\n  "object": "event",\n  "amount": 1.50\n}'


def _delivery(body: bytes = BODY, **overrides: object) -> Delivery:
    fields: dict[str, object] = {
        "rail": "stripe",
        "event_id": "evt_1",
        "received_at": "2025-11-21T10:00:00.000000Z",
        "method": "POST",
        "path": "/v1/payments/webhook/stripe",
        "headers": (("Content-Type", "application/json"), ("Stripe-Signature", "t=1,v1=ab")),
        "body": body,
    }
    fields.update(overrides)
    return Delivery(**fields)  # type: ignore[arg-type]


def _line(delivery: Delivery) -> str:
    return json.dumps(delivery_to_json(delivery), ensure_ascii=False)


def test_a_written_recording_reads_back_with_the_exact_body_and_header_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.jsonl"
    original = _delivery(headers=(("B", "2"), ("a", "1"), ("B", "3")))
    RecordingWriter(path).write(original)

    (read,) = read_recording(path).deliveries

    assert read.body == BODY
    assert read.headers == (("B", "2"), ("a", "1"), ("B", "3"))
    assert read.origin == f"{path}:1"


def test_a_body_that_is_not_utf8_is_stored_as_base64_and_comes_back_unchanged(
    tmp_path: Path,
) -> None:
    binary = b"\xff\xfe\x00 not text \x80"
    path = tmp_path / "r.jsonl"
    RecordingWriter(path).write(_delivery(body=binary))

    assert json.loads(path.read_text())["body_encoding"] == "base64"
    assert read_recording(path).deliveries[0].body == binary


def test_a_body_holding_unicode_line_separators_stays_on_one_line(tmp_path: Path) -> None:
    body = '{"memo":"one\u2028two\u0085three"}'.encode()
    path = tmp_path / "r.jsonl"
    RecordingWriter(path).write_all([_delivery(body=body), _delivery(event_id="evt_2")])

    result = read_recording(path)

    assert [d.body for d in result.deliveries] == [body, BODY]
    assert result.problems == ()


@given(st.binary(max_size=300))
def test_any_body_bytes_survive_a_round_trip(body: bytes) -> None:
    text = _line(_delivery(body=body)).encode()
    (read,) = parse_recording(text, source="mem").deliveries
    assert read.body == body


def test_malformed_lines_are_reported_with_their_line_numbers_and_skipped(tmp_path: Path) -> None:
    good = _line(_delivery())
    missing_rail = json.dumps(
        {k: v for k, v in delivery_to_json(_delivery()).items() if k != "rail"}
    )
    bad_base64 = json.dumps(
        delivery_to_json(_delivery()) | {"body_encoding": "base64", "body": "%%"}
    )
    lines = [good, "{not json", "", missing_rail, good, bad_base64, '["a list"]', good]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(lines) + "\n")

    result = read_recording(path)

    assert len(result.deliveries) == 3
    assert [d.origin for d in result.deliveries] == [f"{path}:1", f"{path}:5", f"{path}:8"]
    assert [(p.line, p.code) for p in result.problems] == [
        (2, "invalid_json"),
        (4, "schema_violation"),
        (6, "invalid_body"),
        (7, "schema_violation"),
    ]
    assert "'rail' is a required property" in result.problems[1].message
    assert result.problems[1].where == f"{path}:4"


def test_schema_violations_name_the_field(tmp_path: Path) -> None:
    line = delivery_to_json(_delivery()) | {"received_at": "yesterday", "method": "post"}
    result = parse_recording(json.dumps(line).encode(), source="mem")

    (problem,) = result.problems
    assert "at method:" in problem.message and "at received_at:" in problem.message


def test_a_missing_recording_file_is_an_error_with_a_code(tmp_path: Path) -> None:
    with pytest.raises(RecordingUnreadable) as caught:
        read_recording(tmp_path / "absent.jsonl")
    assert caught.value.code == "recording_unreadable"


def test_the_schema_describes_every_field_the_writer_emits() -> None:
    schema = recording_schema()
    line = delivery_to_json(
        _delivery(masked_headers=("authorization",), source="recorder", meta={"account_ids": ["a"]})
    )
    assert set(line) <= set(schema["properties"])
    assert set(schema["required"]) <= set(line)


def test_recorded_account_ids_are_read_from_meta() -> None:
    assert _delivery(meta={"account_ids": ["acct_1", 7, ""]}).account_ids() == ("acct_1",)
    assert _delivery().account_ids() == ()
