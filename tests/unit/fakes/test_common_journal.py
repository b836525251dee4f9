"""The journal keeps what a fake received, bounded, filterable, JSON-ready."""

from __future__ import annotations

import threading

import pytest

from fakes._common import Journal


def record(journal: Journal, path: str, *, method: str = "GET", status: int = 200) -> None:
    journal.record(
        method=method,
        path=path,
        query="",
        headers={"authorization": "Bearer sk_test_x"},
        body=b"amount=5",
        idempotency_key=None,
        status=status,
        route="things.get" if path.startswith("/v1/things") else None,
    )


def test_journal_keeps_only_the_newest_entries_past_its_bound() -> None:
    journal = Journal(maxlen=3)
    for n in range(5):
        record(journal, f"/v1/things/{n}")

    assert len(journal) == 3
    assert [e.path for e in journal.entries()] == ["/v1/things/2", "/v1/things/3", "/v1/things/4"]
    assert [e.seq for e in journal.entries()] == [3, 4, 5]


def test_journal_filters_by_method_path_prefix_and_route() -> None:
    journal = Journal()
    record(journal, "/v1/things/1")
    record(journal, "/v1/things/1", method="POST")
    record(journal, "/v1/other")

    assert len(journal.calls(method="post")) == 1
    assert len(journal.calls(path_prefix="/v1/things")) == 2
    assert [e.path for e in journal.calls(route="things.get", method="GET")] == ["/v1/things/1"]


def test_journal_stamps_entries_with_the_injected_clock() -> None:
    journal = Journal(now=lambda: 1_700_000_000.0)
    record(journal, "/v1/things/1")
    assert journal.entries()[0].at == 1_700_000_000.0


def test_journal_renders_binary_bodies_as_base64() -> None:
    journal = Journal()
    journal.record(
        method="POST",
        path="/x",
        query="a=1",
        headers={},
        body=b"\xff\x00",
        idempotency_key="k",
        status=200,
        route=None,
    )
    data = journal.entries()[0].to_json()
    assert data["body"] == "/wA=" and data["body_encoding"] == "base64"
    assert data["idempotency_key"] == "k"


def test_clearing_the_journal_keeps_sequence_numbers_increasing() -> None:
    journal = Journal()
    record(journal, "/a")
    journal.clear()
    record(journal, "/b")
    assert len(journal) == 1 and journal.entries()[0].seq == 2


def test_journal_survives_concurrent_writers() -> None:
    journal = Journal(maxlen=10_000)

    def write() -> None:
        for n in range(500):
            record(journal, f"/v1/things/{n}")

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(journal) == 2_000
    assert sorted(e.seq for e in journal.entries()) == list(range(1, 2_001))


def test_a_journal_must_hold_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="maxlen"):
        Journal(maxlen=0)
