"""The exactly-once checks, one by one, and reading a target's state (or finding it has none)."""

from __future__ import annotations

import httpx

from harness.replay import AccountState, LedgerLine, Outcome, SendResult, StateSnapshot, read_state
from harness.replay.exactly_once import (
    check_balances_match_ledgers,
    check_later_pass_changed_nothing,
    check_references_credited_once,
    check_sends,
)


def _send(
    pass_number: int, seq: int, event_id: str, outcome: Outcome, **extra: object
) -> SendResult:
    return SendResult(
        pass_number=pass_number,
        seq=seq,
        copy=0,
        rail="stripe",
        event_id=event_id,
        origin="r.jsonl:1",
        sent=True,
        outcome=outcome,
        **extra,  # type: ignore[arg-type]
    )


def _codes(passes: list[list[SendResult]]) -> list[list[str]]:
    return [
        [",".join(m.code for m in r.mismatches) for r in results] for results in check_sends(passes)
    ]


def test_one_applied_answer_per_event_then_duplicates_is_clean() -> None:
    passes = [
        [
            _send(1, 1, "a", Outcome.APPLIED),
            _send(1, 2, "a", Outcome.DUPLICATE),
            _send(1, 3, "b", Outcome.IGNORED),
        ],
        [
            _send(2, 1, "a", Outcome.DUPLICATE),
            _send(2, 2, "a", Outcome.DUPLICATE),
            _send(2, 3, "b", Outcome.DUPLICATE),
        ],
    ]
    assert _codes(passes) == [["", "", ""], ["", "", ""]]


def test_a_second_applied_answer_is_flagged_in_the_pass_it_happens() -> None:
    passes = [
        [_send(1, 1, "a", Outcome.APPLIED), _send(1, 2, "a", Outcome.APPLIED)],
        [_send(2, 1, "a", Outcome.APPLIED), _send(2, 2, "b", Outcome.APPLIED)],
    ]
    assert _codes(passes) == [
        ["", "applied_more_than_once"],
        ["applied_again_on_later_pass", "applied_again_on_later_pass"],
    ]


def test_rejections_and_lost_sends_are_mismatches_with_the_targets_code() -> None:
    passes = [
        [
            _send(
                1, 1, "a", Outcome.REJECTED, http_status=400, error_code="webhook_signature_invalid"
            ),
            _send(1, 2, "b", Outcome.ERROR, message="ConnectError: refused"),
        ]
    ]
    (results,) = check_sends(passes)
    assert [r.mismatches[0].code for r in results] == ["rejected", "not_delivered"]
    assert "HTTP 400 webhook_signature_invalid" in results[0].mismatches[0].message


def _state(
    balance: int, entries: list[tuple[int, int, str | None]], tier: str = "free"
) -> AccountState:
    lines = tuple(
        LedgerLine(
            id=i,
            kind="credit",
            signed_amount_micros=a,
            balance_after_micros=0,
            source="stripe",
            reference=r,
        )
        for i, a, r in entries
    )
    return AccountState(
        account_id="acct_1",
        balance_micros=balance,
        lifetime_paid_micros=balance,
        plan_tier=tier,
        entries=lines,
        complete=True,
    )


def test_a_later_pass_that_moves_money_or_the_tier_is_named_with_what_moved() -> None:
    before = StateSnapshot(accounts={"acct_1": _state(10, [(1, 10, "tx_1")])})
    after = StateSnapshot(
        accounts={"acct_1": _state(20, [(2, 10, "tx_1"), (1, 10, "tx_1")], tier="pro")}
    )

    (mismatch,) = check_later_pass_changed_nothing(before, after, pass_number=2)

    assert mismatch.code == "state_changed_on_later_pass" and mismatch.account_id == "acct_1"
    assert "balance_micros 10 → 20" in mismatch.message
    assert "plan_tier free → pro" in mismatch.message
    assert "1 new ledger entries: credit +10 (tx_1)" in mismatch.message
    assert check_later_pass_changed_nothing(before, before, pass_number=2) == []


def test_two_credits_for_one_processor_reference_are_caught_among_new_entries_only() -> None:
    old = StateSnapshot(accounts={"acct_1": _state(20, [(2, 10, "tx_0"), (1, 10, "tx_0")])})
    later = StateSnapshot(
        accounts={
            "acct_1": _state(
                40, [(4, 10, "tx_9"), (3, 10, "tx_9"), (2, 10, "tx_0"), (1, 10, "tx_0")]
            )
        }
    )

    (mismatch,) = check_references_credited_once(later, since=old)

    assert mismatch.code == "reference_credited_twice" and "tx_9" in mismatch.message


def test_a_balance_that_is_not_the_sum_of_its_ledger_is_caught() -> None:
    snapshot = StateSnapshot(accounts={"acct_1": _state(25, [(1, 10, "a"), (2, 10, "b")])})
    (mismatch,) = check_balances_match_ledgers(snapshot)
    assert mismatch.code == "balance_not_ledger_sum" and "adds up to 20" in mismatch.message


async def test_a_target_without_account_routes_is_reported_as_not_serving_state() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(404, json={"detail": "Not Found"}))
    async with httpx.AsyncClient(transport=transport) as client:
        snapshot = await read_state(client, "http://127.0.0.1", ["acct_1"])
    assert not snapshot.served and "HTTP 404" in (snapshot.note or "")


async def test_an_account_the_target_does_not_have_is_listed_as_missing() -> None:
    body = {"error": {"code": "account_not_found", "message": "no"}}
    transport = httpx.MockTransport(lambda r: httpx.Response(404, json=body))
    async with httpx.AsyncClient(transport=transport) as client:
        snapshot = await read_state(client, "http://127.0.0.1", ["acct_gone"])
    assert snapshot.served and snapshot.missing == ("acct_gone",)
