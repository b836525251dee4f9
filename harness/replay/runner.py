"""A whole replay: read state, pass 1, read state, later passes each bracketed by reads, then judge.

Pass 1 replays the recordings; every later pass replays exactly the same plan again and must change
nothing: each of its answers is ``duplicate`` or ``ignored``, and every account reads the same after
it as before it. A dry run makes one pass that sends nothing and reads nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from fakes.signing import Signer
from harness.replay.exactly_once import (
    StateSnapshot,
    check_balances_match_ledgers,
    check_later_pass_changed_nothing,
    check_references_credited_once,
    check_sends,
    missing_accounts,
    read_state,
)
from harness.replay.findings import Anomaly, ReasonCount, find_anomalies, reason_counts
from harness.replay.plan import PlannedSend, plan_sends
from harness.replay.recording import Delivery, LoadProblem
from harness.replay.replayer import ReplayConfig, Replayer
from harness.replay.results import Mismatch, Outcome, SendResult

__all__ = ["PassSummary", "ReplayRun", "run_replay"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PassSummary:
    """Counts of one pass's outcomes."""

    pass_number: int
    sends: int
    outcomes: Mapping[str, int]
    mismatched_sends: int

    def count(self, outcome: Outcome) -> int:
        """How many sends ended with ``outcome``."""
        return self.outcomes.get(outcome.value, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayRun:
    """Everything a replay found, for the report: sends per pass, states, mismatches, skipped input."""

    config: ReplayConfig
    deliveries: int
    events: int
    problems: tuple[LoadProblem, ...]
    passes: tuple[tuple[SendResult, ...], ...]
    states: tuple[StateSnapshot | None, ...] = ()
    account_ids: tuple[str, ...] = ()
    state_mismatches: tuple[Mismatch, ...] = ()
    started_at: float = 0.0
    finished_at: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    anomalies: tuple[Anomaly, ...] = ()

    def summaries(self) -> list[PassSummary]:
        """Outcome counts per pass."""
        return [
            PassSummary(
                pass_number=number,
                sends=len(results),
                outcomes=dict(Counter(r.outcome.value for r in results)),
                mismatched_sends=sum(1 for r in results if r.mismatches),
            )
            for number, results in enumerate(self.passes, start=1)
        ]

    def mismatches(self) -> list[Mismatch]:
        """Every mismatch: per send first (in pass and plan order), then per account."""
        found = [m for results in self.passes for r in results for m in r.mismatches]
        return found + list(self.state_mismatches)

    @property
    def state_checked(self) -> bool:
        """Whether the target's accounts were read before and after the later passes."""
        return len(self.passes) > 1 and all(
            s is not None and s.served and s.accounts for s in self.states[1:]
        )

    @property
    def ok(self) -> bool:
        """No mismatch, no skipped input, no input anomaly and every answer JSON: every event took
        effect at most once, and later passes changed nothing."""
        return (
            not self.mismatches()
            and not self.problems
            and not self.anomalies
            and not self.non_json_answers()
        )

    def non_json_answers(self) -> list[SendResult]:
        """Sends the target answered with something other than a JSON object (cannot be judged)."""
        return [
            r for results in self.passes for r in results if r.http_status and not r.json_answer
        ]

    def reasons(self) -> list[ReasonCount]:
        """Why the non-applied sends changed nothing, grouped by reason code (all passes)."""
        return reason_counts(r for results in self.passes for r in results)


def _accounts_of(deliveries: Sequence[Delivery], config: ReplayConfig) -> set[str]:
    found = set(config.accounts)
    for delivery in deliveries:
        found.update(delivery.account_ids())
    return found


async def run_replay(
    deliveries: Sequence[Delivery],
    config: ReplayConfig,
    *,
    signers: Mapping[str, Signer],
    client: httpx.AsyncClient,
    problems: Sequence[LoadProblem] = (),
    on_result: Callable[[SendResult], None] | None = None,
) -> ReplayRun:
    """Replay ``deliveries`` ``config.passes`` times against ``config.target`` and judge the result."""
    started_at = config.now()
    plan: tuple[PlannedSend, ...] = plan_sends(
        deliveries, order=config.order, seed=config.seed, duplicate=config.duplicate
    )
    replayer = Replayer(config, signers=signers, client=client)
    events = len({(d.rail, d.event_id) for d in deliveries})
    anomalies = find_anomalies(deliveries)
    if config.dry_run:
        results = await replayer.run_pass(plan, pass_number=1, on_result=on_result)
        return ReplayRun(
            config=config,
            deliveries=len(deliveries),
            events=events,
            problems=tuple(problems),
            passes=(tuple(results),),
            started_at=started_at,
            finished_at=config.now(),
            notes=("dry run: nothing was sent and no state was read",),
            anomalies=anomalies,
        )
    accounts = _accounts_of(deliveries, config)
    states: list[StateSnapshot | None] = [
        await read_state(client, config.target, accounts) if accounts else None
    ]
    passes: list[list[SendResult]] = []
    for number in range(1, config.passes + 1):
        results = await replayer.run_pass(plan, pass_number=number, on_result=on_result)
        passes.append(results)
        accounts.update(r.account_id for r in results if r.account_id)
        states.append(await read_state(client, config.target, accounts) if accounts else None)
    checked = check_sends(passes)
    state_mismatches: list[Mismatch] = []
    notes: list[str] = []
    last = states[-1]
    if last is None:
        notes.append(
            "no accounts known (none given, none in the recordings' meta.account_ids, none in "
            "the target's answers): only the answers were checked"
        )
    elif not last.served:
        notes.append(f"state not checked: {last.note}")
    else:
        state_mismatches += missing_accounts(last)
        # A pass's "before" is the state read after the previous pass.
        for number in range(2, config.passes + 1):
            before, after = states[number - 1], states[number]
            if before is not None and after is not None and before.served:
                state_mismatches += check_later_pass_changed_nothing(
                    before, after, pass_number=number
                )
        first = states[0] if states[0] is not None and states[0].served else None
        state_mismatches += check_references_credited_once(last, since=first)
        state_mismatches += check_balances_match_ledgers(last)
    return ReplayRun(
        config=config,
        deliveries=len(deliveries),
        events=events,
        problems=tuple(problems),
        passes=tuple(tuple(p) for p in checked),
        states=tuple(states),
        account_ids=tuple(sorted(accounts)),
        state_mismatches=tuple(state_mismatches),
        started_at=started_at,
        finished_at=config.now(),
        notes=tuple(notes),
        anomalies=anomalies,
    )
