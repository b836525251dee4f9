"""The exactly-once check: read the target's accounts and ledgers, and judge the answers and the state.

Which accounts are read (the contract's webhook answer does not name one) is the union of:

1. the accounts given by the caller (``--account``, `ReplayConfig.accounts`);
2. ``meta.account_ids`` of the recorded deliveries (the recorder's caller or a generator can add it);
3. an ``account_id`` field in the target's webhook answers, for targets that return one.

State is read with ``GET /v1/accounts/{id}`` and ``GET /v1/accounts/{id}/ledger?limit=1000``. A target
that does not serve those routes gets the answer-based checks only, and the report says so.

Checks are plain functions returning `Mismatch` lists (codes are stable):

| code | meaning |
|---|---|
| ``rejected`` | the target refused a re-signed delivery (non-2xx) |
| ``not_delivered`` | no answer at all (connection error, timeout) |
| ``applied_more_than_once`` | an event answered ``applied`` again after it was applied once |
| ``applied_again_on_later_pass`` | a second (or later) pass answered ``applied``: it must change nothing |
| ``state_changed_on_later_pass`` | an account's balance, lifetime paid, tier or ledger moved during a later pass |
| ``reference_credited_twice`` | two ledger credits of one account name the same processor reference |
| ``balance_not_ledger_sum`` | a fully read ledger does not add up to the balance |
| ``account_not_found`` | an account to check does not exist on the target |
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from harness.replay.results import Mismatch, Outcome, SendResult

__all__ = [
    "LEDGER_LIMIT",
    "AccountState",
    "LedgerLine",
    "StateSnapshot",
    "check_balances_match_ledgers",
    "check_later_pass_changed_nothing",
    "check_references_credited_once",
    "check_sends",
    "missing_accounts",
    "read_state",
]

#: The contract's largest ledger page (``GET /v1/accounts/{id}/ledger?limit=``).
LEDGER_LIMIT = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerLine:
    """One ledger entry as the contract serves it (the fields exactly-once depends on)."""

    id: int
    kind: str
    signed_amount_micros: int
    balance_after_micros: int
    source: str
    reference: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountState:
    """One account's balance, lifetime paid, tier and ledger (newest first); ``complete`` when the
    ledger had fewer entries than the page limit, so it was read whole."""

    account_id: str
    balance_micros: int
    lifetime_paid_micros: int
    plan_tier: str
    entries: tuple[LedgerLine, ...]
    complete: bool

    def describe_change(self, later: AccountState) -> str | None:
        """What moved between this state and ``later``, in words; None when nothing did."""
        changes = []
        if later.balance_micros != self.balance_micros:
            changes.append(f"balance_micros {self.balance_micros} → {later.balance_micros}")
        if later.lifetime_paid_micros != self.lifetime_paid_micros:
            changes.append(
                f"lifetime_paid_micros {self.lifetime_paid_micros} → {later.lifetime_paid_micros}"
            )
        if later.plan_tier != self.plan_tier:
            changes.append(f"plan_tier {self.plan_tier} → {later.plan_tier}")
        known = {e.id for e in self.entries}
        new = [e for e in later.entries if e.id not in known]
        if new:
            refs = ", ".join(
                f"{e.kind} {e.signed_amount_micros:+d} ({e.reference})" for e in new[:5]
            )
            changes.append(f"{len(new)} new ledger entries: {refs}")
        elif [e.id for e in later.entries] != [e.id for e in self.entries]:
            changes.append("ledger entries changed")
        return "; ".join(changes) or None


@dataclass(frozen=True, slots=True, kw_only=True)
class StateSnapshot:
    """The target's state of some accounts at one moment; ``served`` is False when the target has no
    account routes (then ``note`` says what it answered)."""

    accounts: Mapping[str, AccountState] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    served: bool = True
    note: str | None = None


def _line(entry: Mapping[str, Any]) -> LedgerLine:
    return LedgerLine(
        id=int(entry["id"]),
        kind=str(entry["kind"]),
        signed_amount_micros=int(entry["signed_amount_micros"]),
        balance_after_micros=int(entry["balance_after_micros"]),
        source=str(entry.get("source", "")),
        reference=str(entry["reference"]) if entry.get("reference") is not None else None,
    )


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) else None


async def read_state(
    client: httpx.AsyncClient, target: str, account_ids: Iterable[str]
) -> StateSnapshot:
    """Read every account and its ledger; a route the target does not serve ends the reading."""
    base = target.rstrip("/")
    accounts: dict[str, AccountState] = {}
    missing: list[str] = []
    for account_id in sorted(set(account_ids)):
        try:
            account = await client.get(f"{base}/v1/accounts/{account_id}")
            if account.status_code == 404 and _error_code(account) == "account_not_found":
                missing.append(account_id)
                continue
            ledger = await client.get(
                f"{base}/v1/accounts/{account_id}/ledger", params={"limit": LEDGER_LIMIT}
            )
        except httpx.HTTPError as exc:
            return StateSnapshot(served=False, note=f"account reads failed: {type(exc).__name__}")
        if account.status_code != 200 or ledger.status_code != 200:
            status = account.status_code if account.status_code != 200 else ledger.status_code
            return StateSnapshot(
                served=False, note=f"the target does not serve account reads (HTTP {status})"
            )
        try:
            info, book = account.json(), ledger.json()
            entries = tuple(_line(e) for e in book["entries"])
            accounts[account_id] = AccountState(
                account_id=account_id,
                balance_micros=int(info["balance_micros"]),
                lifetime_paid_micros=int(info.get("lifetime_paid_micros", 0)),
                plan_tier=str(info.get("plan_tier", "")),
                entries=entries,
                complete=len(entries) < LEDGER_LIMIT,
            )
        except (ValueError, KeyError, TypeError) as exc:
            return StateSnapshot(
                served=False, note=f"account reads are not in the contract's shape: {exc}"
            )
    return StateSnapshot(accounts=accounts, missing=tuple(missing))


def _at(result: SendResult, code: str, message: str) -> Mismatch:
    return Mismatch(
        code=code,
        message=message,
        event_id=result.event_id,
        pass_number=result.pass_number,
        seq=result.seq,
    )


def _send_mismatches(
    result: SendResult, applied_at: dict[tuple[str, str], SendResult]
) -> list[Mismatch]:
    if result.outcome is Outcome.REJECTED:
        return [
            _at(
                result,
                "rejected",
                f"the target refused the re-signed delivery: HTTP {result.http_status} "
                f"{result.error_code}",
            )
        ]
    if result.outcome is Outcome.ERROR:
        return [_at(result, "not_delivered", result.message or "no answer")]
    if result.outcome is not Outcome.APPLIED:
        return []
    key = (result.rail, result.event_id)
    first = applied_at.setdefault(key, result)
    if result.pass_number > 1:
        message = f"pass {result.pass_number} answered applied; a later pass must change nothing"
        return [_at(result, "applied_again_on_later_pass", message)]
    if first is not result:
        message = f"already applied by send {first.seq} of pass {first.pass_number}"
        return [_at(result, "applied_more_than_once", message)]
    return []


def check_sends(passes: Sequence[Sequence[SendResult]]) -> list[list[SendResult]]:
    """Attach per-send mismatches to every result (see the module table), pass by pass.

    "First" is plan order: with concurrency the target may have seen copies in another order, but the
    count of ``applied`` answers per event is what exactly-once is about.
    """
    applied_at: dict[tuple[str, str], SendResult] = {}
    checked: list[list[SendResult]] = []
    for results in passes:
        out = []
        for result in sorted(results, key=lambda r: r.seq):
            found = _send_mismatches(result, applied_at)
            out.append(replace(result, mismatches=tuple(found)) if found else result)
        checked.append(out)
    return checked


def check_later_pass_changed_nothing(
    before: StateSnapshot, after: StateSnapshot, *, pass_number: int
) -> list[Mismatch]:
    """Every account read before a later pass must read the same after it."""
    found = []
    for account_id, earlier in before.accounts.items():
        later = after.accounts.get(account_id)
        if later is None:
            continue
        change = earlier.describe_change(later)
        if change:
            found.append(
                Mismatch(
                    code="state_changed_on_later_pass",
                    message=f"pass {pass_number} changed account {account_id}: {change}",
                    pass_number=pass_number,
                    account_id=account_id,
                )
            )
    return found


def check_references_credited_once(
    snapshot: StateSnapshot, *, since: StateSnapshot | None = None
) -> list[Mismatch]:
    """No processor reference is credited twice to one account (new entries only, when ``since``)."""
    found = []
    for account_id, state in snapshot.accounts.items():
        old = since.accounts.get(account_id) if since is not None else None
        known = {e.id for e in old.entries} if old is not None else set()
        counts = Counter(
            e.reference
            for e in state.entries
            if e.kind == "credit" and e.reference is not None and e.id not in known
        )
        for reference, count in sorted(counts.items()):
            if count > 1:
                found.append(
                    Mismatch(
                        code="reference_credited_twice",
                        message=f"account {account_id} has {count} credits for {reference}",
                        account_id=account_id,
                    )
                )
    return found


def check_balances_match_ledgers(snapshot: StateSnapshot) -> list[Mismatch]:
    """A ledger read whole adds up to the balance (money that moved without an entry, or twice)."""
    found = []
    for account_id, state in snapshot.accounts.items():
        total = sum(e.signed_amount_micros for e in state.entries)
        if state.complete and total != state.balance_micros:
            found.append(
                Mismatch(
                    code="balance_not_ledger_sum",
                    message=f"account {account_id}: balance_micros {state.balance_micros} but the "
                    f"ledger adds up to {total}",
                    account_id=account_id,
                )
            )
    return found


def missing_accounts(snapshot: StateSnapshot) -> list[Mismatch]:
    """An account named for the check that the target does not have."""
    return [
        Mismatch(code="account_not_found", message=f"the target has no account {a}", account_id=a)
        for a in snapshot.missing
    ]
