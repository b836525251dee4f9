"""The shipped sample recordings: they are what the fakes deliver, every format holds the same bytes,
and the canonical one replays into a fresh reference service with every re-signed delivery accepted."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType

import pytest
from replay_scenario import STAGING, STAGING_ENV, TARGET, reference, transport_of
from rich.console import Console

from harness.replay import Delivery, load_file, replay_command_async

SAMPLES = Path(__file__).parents[2] / "data" / "recordings"


def _regenerate_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regenerate_samples", SAMPLES / "regenerate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _identity(deliveries: tuple[Delivery, ...]) -> list[tuple[str, str, bytes]]:
    return [(d.rail, d.event_id, d.body) for d in deliveries]


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("fakes-deliveries.jsonl", 8),
        ("stripe-events.json", 6),
        ("stripe-events.jsonl", 6),
        ("xendit-callbacks.json", 1),
        ("cdp-webhooks.json", 1),
        ("deliveries.har", 8),
        ("razorpay-webhooks.jsonl", 2),
    ],
)
def test_every_sample_loads_without_a_problem(name: str, count: int) -> None:
    result = load_file(SAMPLES / name)
    assert len(result.deliveries) == count
    assert result.problems == ()


def test_the_malformed_sample_reports_its_two_bad_lines_and_keeps_the_rest() -> None:
    result = load_file(SAMPLES / "malformed.jsonl")
    assert len(result.deliveries) == 3
    assert [(p.line, p.code) for p in result.problems] == [
        (2, "invalid_json"),
        (4, "schema_violation"),
    ]


def test_every_format_holds_the_canonical_recordings_exact_bodies_and_event_ids() -> None:
    canonical = load_file(SAMPLES / "fakes-deliveries.jsonl").deliveries

    def of(rail: str) -> list[tuple[str, str, bytes]]:
        return [x for x in _identity(canonical) if x[0] == rail]

    assert _identity(load_file(SAMPLES / "stripe-events.json").deliveries) == of("stripe")
    assert _identity(load_file(SAMPLES / "xendit-callbacks.json").deliveries) == of("xendit")
    assert _identity(load_file(SAMPLES / "cdp-webhooks.json").deliveries) == of("cdp")
    assert _identity(load_file(SAMPLES / "deliveries.har").deliveries) == _identity(canonical)
    jsonl = load_file(SAMPLES / "stripe-events.jsonl").deliveries
    assert [(d.event_id, json.loads(d.body)) for d in jsonl] == [
        (e, json.loads(b)) for _, e, b in of("stripe")
    ]


def test_the_recorded_xendit_token_is_masked() -> None:
    (xendit,) = [
        d for d in load_file(SAMPLES / "fakes-deliveries.jsonl").deliveries if d.rail == "xendit"
    ]
    assert dict(xendit.headers)["x-callback-token"] == "[masked]"
    assert xendit.masked_headers == ("x-callback-token",)


def test_the_samples_are_what_the_fakes_deliver_today(tmp_path: Path) -> None:
    _regenerate_module().regenerate(tmp_path)
    for name in ("fakes-deliveries.jsonl", "stripe-events.json", "deliveries.har"):
        fresh = _identity(load_file(tmp_path / name).deliveries)
        shipped = _identity(load_file(SAMPLES / name).deliveries)
        assert fresh == shipped, (
            f"{name} no longer matches the fakes' deliveries: run "
            "python tests/data/recordings/regenerate.py and review the diff"
        )


async def test_the_canonical_sample_replays_into_a_fresh_reference_without_a_rejection(
    tmp_path: Path,
) -> None:
    async with reference(tmp_path / "fresh.sqlite3", STAGING) as service:
        code = await replay_command_async(
            files=[SAMPLES / "fakes-deliveries.jsonl"],
            target=TARGET,
            env=STAGING_ENV,
            interactive=False,
            report_dir=tmp_path / "reports",
            transport=transport_of(service),
            console=Console(file=io.StringIO()),
        )
    (folder,) = (tmp_path / "reports").iterdir()
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    first = {(e["rail"], e["status"]) for e in events if e["pass_number"] == 1}
    assert code == 0
    # nothing to credit in a fresh service: the payments are kept as receipts (not_credited)
    assert first == {
        ("stripe", "ignored"),
        ("stripe", "not_credited"),
        ("xendit", "not_credited"),
        ("cdp", "not_credited"),
    }
    assert {e["outcome"] for e in events if e["pass_number"] == 2} == {"duplicate"}
