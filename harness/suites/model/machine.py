"""The stateful suite's state machine: random sequences of every operation, checked against the model.

:class:`PaymentsMachine` adds to the processor rules (:mod:`.rails`) sign-up, subscriptions through the
fakes, outcomes and charges (at the edges of the balance and of the margin clamp), paid usage sessions,
admin adjustments and reconciliation. After every step, every account the sequence made is read back and
compared with the model: balance, lifetime paid, tier, and every ledger entry (:meth:`Observer.wallet`).

:func:`machine_for` binds the machine to one target's API and fakes; hypothesis runs it
(`run_state_machine_as_test`), shrinks a failure to a minimal sequence and prints it as Python steps, each
request under it as a curl line.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import (
    Bundle,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from harness.suites._processors import Processors
from harness.suites._support import Api

from .answers import MAX_MICROS, Clamp, charge_for
from .events import PlanEnded, PlanPaid
from .observe import ModelDivergence, step_note
from .payments import PaymentsModel
from .rails import RailRules

__all__ = ["PaymentsMachine", "machine_for", "run"]

#: Costs at the contract's bounds and where float arithmetic goes wrong (30 * 10% = 3.0000000000000004).
COSTS = st.sampled_from(
    [
        0,
        1,
        2,
        30,
        99,
        100,
        10_001,
        1_000_000,
        123_456_789,
        MAX_MICROS - 3,
        MAX_MICROS,
        MAX_MICROS + 1,
    ]
) | st.integers(0, 5_000_000)
UNITS = st.lists(
    st.sampled_from([0, 1, 1_000, 1_000_000, 10**12, 10**12 + 1]) | st.integers(0, 3_000_000),
    max_size=5,
)
BALANCES = st.sampled_from([0, 1, 1_000_000, MAX_MICROS, MAX_MICROS + 1]) | st.integers(0, 10**8)


def _margins(clamp: Clamp) -> st.SearchStrategy[int | None]:
    ends = [clamp.min_bps - 1, clamp.min_bps, clamp.max_bps, clamp.max_bps + 1, 0, 1, 1_000, 1_234]
    ends += [-1_000_000, 1_000_000, -1_000_001, 1_000_001]
    return st.none() | st.sampled_from(ends) | st.integers(-1_000_000, 1_000_000)


class PaymentsMachine(RailRules):
    """Every operation of the contract, driven at random and compared with the model after each step."""

    inferences = Bundle("inferences")
    checkouts = Bundle("checkouts")

    def __init__(self) -> None:
        super().__init__()
        self.checkout_of: dict[str, dict[str, Any]] = {}

    @initialize(target=RailRules.accounts)
    def first_sign_up(self) -> Any:
        """Every sequence starts with an account."""
        return self.sign_up()

    @rule(target=RailRules.accounts)
    def sign_up(self) -> str:
        """Create an account: free, empty wallet."""
        response = self.seen.call("POST", "/v1/accounts", json_body={"is_test_cohort": True})
        if response.status_code != 201:
            raise self.seen.diverged(f"sign-up: HTTP {response.status_code}", "HTTP 201")
        account = str(response.json()["id"])
        self.model.create_account(account)
        return account

    # -- money moved by the service itself ---------------------------------------------------------------

    @rule(
        account=RailRules.accounts,
        balance=BALANCES,
        authorised=st.sampled_from([True, True, True, False]),
    )
    def admin_sets_balance(self, account: str, balance: int, authorised: bool) -> None:
        """An admin sets an absolute balance (one adjustment entry; lifetime paid never moves)."""
        balance = self.grain.amount(balance)  # a balance the target can hold (itself, in micro-USD)
        headers = self.api.admin_headers() if authorised else {"X-Admin-Secret": "not-the-secret"}
        body = {"account_id": account, "balance_micros": balance, "reason": "stateful suite"}
        response = self.seen.call("POST", "/admin/balance-adjust", json_body=body, headers=headers)
        got = self.expect(
            "a balance adjustment",
            response,
            self.model.expect_adjust(account, balance, authorised=authorised),
        )
        if got.status == 200:
            self.model.adjusted(account, balance)

    @rule(target=inferences, account=RailRules.accounts | st.just("acct_unknown"), cost=COSTS)
    def record_outcome(self, account: str, cost: int) -> Any:
        """Record the provider cost of a fresh inference."""
        inference = self.fresh("inf")
        return self._outcome(inference, account, cost) or multiple()

    def _outcome(self, inference: str, account: str, cost: int) -> str | None:
        cost = self.grain.up(
            self.grain.cap(cost)
        )  # a cost the target can hold (itself, in micro-USD)
        body = {"inference_id": inference, "account_id": account, "cost_micros": cost}
        response = self.seen.call("POST", "/v1/outcomes", json_body=body)
        allowed = self.model.expect_outcome(inference, account, cost)
        if self.expect("an outcome", response, allowed).status != 201:
            return None
        self.model.outcome_recorded(inference, account, cost)
        return inference

    @rule(inference=inferences, cost=COSTS, then_charge=st.booleans())
    def record_the_same_inference_again(self, inference: str, cost: int, then_charge: bool) -> None:
        """An inference has one outcome: a second is refused (409), whatever its cost; a charge after it
        is priced on the first (an overwrite shows in what is debited)."""
        account = self.model.outcomes[inference][0]
        self._outcome(inference, account, cost)
        if then_charge:
            self._charge(inference, None)

    @rule(inference=inferences | st.just("inf_never_recorded"), data=st.data())
    def charge(self, inference: str, data: st.DataObject) -> None:
        """Charge an outcome (once; a repeat replays the first result, whatever margin it asks)."""
        self._charge(inference, data.draw(_margins(self.model.clamp), label="margin"))

    def _charge(self, inference: str, margin: int | None) -> None:
        body: dict[str, Any] = {"inference_id": inference}
        if margin is not None:
            body["margin_bps"] = margin
        allowed = self.model.expect_charge(inference, margin)
        response = self.seen.call("POST", "/v1/charges", json_body=body)
        got = self.expect(f"a charge at margin {margin}", response, allowed)
        if got.status == 200:
            self.model.charged(inference, margin)

    @rule(
        account=RailRules.accounts,
        cost=st.sampled_from([1, 3, 30, 100, 1_000_000, 10**12]) | st.integers(1, 10**8),
        offset=st.sampled_from([-1, 0, 1]),
        data=st.data(),
    )
    def charge_at_the_balance_edge(
        self, account: str, cost: int, offset: int, data: st.DataObject
    ) -> None:
        """Fund the wallet to the charge + 1, the charge, or the charge - 1, then charge (the last: 402).
        (In the target's unit: a service keeping cents is funded a cent more or less.)"""
        margin = data.draw(
            _margins(self.model.clamp).filter(lambda m: m is None or abs(m) <= 10**6)
        )
        step = self.grain.step_micros
        cost = self.grain.up(self.grain.cap(cost))
        charged = charge_for(cost, self.model.clamp.effective(margin), step)
        self.admin_sets_balance(account, charged - offset * step, True)
        inference = self._outcome(self.fresh("inf"), account, cost)
        if inference is not None:
            self._charge(inference, margin)

    @rule(account=RailRules.accounts | st.none(), units=UNITS)
    def paid_usage(self, account: str | None, units: list[int]) -> None:
        """A metered request on the wallet: units past the balance are refused, the rest settled once."""
        if not self.has("paid_usage"):
            return
        allowed, spent = self.model.expect_usage(account, units)
        body: dict[str, Any] = {"charges_micros": units}
        if account is not None:
            body["account_id"] = account
        response = self.seen.call("POST", "/v1/usage", json_body=body)
        got = self.expect("paid usage on the wallet", response, allowed)
        if account is not None and (got.status == 200 or got.code == "insufficient_credit"):
            self.model.settled(account, spent)

    # -- subscriptions through the fakes -------------------------------------------------------------------

    @rule(
        target=checkouts,
        account=RailRules.accounts,
        rail=st.sampled_from(["stripe", "xendit"]),
        plan=st.sampled_from(["pro", "team"]),
    )
    def start_checkout(self, account: str, rail: str, plan: str) -> Any:
        """Start a plan subscription: pending, no tier until the processor is paid."""
        if not (self.has("checkout") and self.has(f"{rail}_checkout")):
            return multiple()
        body = {"account_id": account, "plan": plan, "rail": rail}
        response = self.seen.call("POST", "/v1/billing/checkout", json_body=body)
        if response.status_code != 201:
            raise self.seen.diverged(f"checkout: HTTP {response.status_code}", "HTTP 201")
        sub = response.json()
        ref = str(sub["checkout_ref"])
        self.checkout_of[ref] = {"rail": rail, "account": account, "plan": plan, "state": "open"}
        if rail == "xendit":
            self.model.subscription_started("xendit", ref, account)
        return ref

    @rule(checkout=checkouts)
    def processor_charges_the_plan(self, checkout: str) -> None:
        """The customer pays (Stripe checkout completed; Xendit plan activated, cycle charged)."""
        c = self.checkout_of[checkout]
        if c["state"] == "ended" or (c["rail"] == "stripe" and c["state"] == "paid"):
            return
        if c["rail"] == "stripe":
            session = self.processors.stripe_complete_checkout(checkout)
            sub = session["subscription"]
            c["sub_ref"] = str(sub["id"] if isinstance(sub, dict) else sub)
        elif c["state"] == "open":
            self.processors.xendit_charge_plan(checkout)
            c["sub_ref"] = checkout
        else:
            self._xendit_cycle(checkout, "SUCCEEDED")
        c["state"] = "paid"
        self.processors.drain(c["rail"])
        self.model.processor_plan(PlanPaid(c["rail"], c["sub_ref"], c["account"], c["plan"]))

    @precondition(lambda self: any(c["state"] == "paid" for c in self.checkout_of.values()))
    @rule(checkout=checkouts, failed_cycle=st.booleans())
    def processor_ends_or_fails_the_plan(self, checkout: str, failed_cycle: bool) -> None:
        """Cancel at the processor (the tier falls back), or a Xendit cycle fails (nothing changes)."""
        c = self.checkout_of[checkout]
        if c["state"] != "paid":
            return
        if failed_cycle and c["rail"] == "xendit":
            self._xendit_cycle(checkout, "FAILED")
            self.processors.drain("xendit")
            return
        if c["rail"] == "stripe":
            self.processors.stripe_cancel_subscription(c["sub_ref"])
        else:
            self.processors.xendit_deactivate_plan(checkout)
        c["state"] = "ended"
        self.processors.drain(c["rail"])
        self.model.processor_plan(PlanEnded(c["rail"], c["sub_ref"]))

    def _xendit_cycle(self, plan_id: str, status: str) -> None:
        handle = self.processors.handle("xendit")
        response = self.processors._http.post(
            f"{handle.base_url}/_fake/recurring/plans/{plan_id}/cycle", json={"status": status}
        )
        step_note(f"# xendit fake: cycle {status} for {plan_id} → {response.status_code}")

    # -- reconciliation ------------------------------------------------------------------------------------

    @rule(rail=st.sampled_from(["stripe", "stripe", "cdp", "xendit"]), dry_run=st.booleans())
    def reconcile(self, rail: str, dry_run: bool) -> None:
        """Reconcile a rail: a dry run moves nothing; a real run credits what the ledger lacks, once."""
        if not self.has("reconcile"):
            return
        if rail == "xendit":
            dry_run = (
                True  # Xendit lists every invoice of the shared fake: only the dry run is ours
            )
        response = self.seen.call(
            "POST",
            f"/admin/reconcile/{rail}",
            params={"dry_run": str(dry_run).lower()},
            headers=self.api.admin_headers(),
        )
        body = response.json() if response.status_code == 200 else None
        if not isinstance(body, dict):
            raise self.seen.diverged(f"reconcile {rail}: HTTP {response.status_code}", "HTTP 200")
        if rail == "cdp":
            # the service compares its own receipts with its top-ups: every payment the model knows was
            # credited once already, so none of them may be reported missing or fixed again
            mine = self.model.known_refs()
            flagged = sorted(
                str(m.get("processor_ref"))
                for m in body.get("mismatches", [])
                if m.get("processor_ref") in mine
            )
            if flagged:
                raise self.seen.diverged(
                    f"reconcile cdp (dry_run={dry_run}) flags credited payments {flagged}",
                    "no mismatch for a payment credited once",
                )
        if rail == "stripe":
            mine = self.model.known_refs()
            got = {
                (m.get("kind"), m.get("processor_ref"), bool(m.get("fixed")))
                for m in body.get("mismatches", [])
                if m.get("processor_ref") in mine
            }
            wanted = self.model.expect_stripe_reconcile(dry_run=dry_run)
            if got != wanted:
                raise self.seen.diverged(
                    f"reconcile stripe (dry_run={dry_run}) mismatches: {sorted(got)}",
                    f"{sorted(wanted)} (kind, processor ref, fixed)",
                )
            self.model.reconciled(dry_run=dry_run)

    # -- after every step ------------------------------------------------------------------------------------

    @invariant()
    def every_truth_surface_matches_the_model(self) -> None:
        """Balance, lifetime paid, tier and every ledger entry of every account, as the model says."""
        for wallet in self.model.wallets.values():
            self.seen.wallet(wallet)


def machine_for(
    api: Api,
    processors: Processors,
    clamp: Clamp,
    divergences: list[ModelDivergence] | None = None,
) -> type[PaymentsMachine]:
    """The machine bound to one target (a subclass per run: hypothesis builds a fresh one per example)."""
    grain = api.grain()
    return type(
        "PaymentsMachine",
        (PaymentsMachine,),
        {
            "api": api,
            "processors": processors,
            "model_factory": staticmethod(
                lambda: PaymentsModel(clamp=clamp, step_micros=grain.step_micros)
            ),
            "divergences": divergences if divergences is not None else [],
            "grain": grain,
            "lacks": api.lacked(),
        },
    )


def run(
    api: Api,
    processors: Processors,
    clamp: Clamp,
    *,
    seed_value: int,
    examples: int,
    depth: int,
    shrink: bool = True,
) -> None:
    """Run `examples` random sequences of up to `depth` steps; a divergence raises, shrunk unless told not
    to (each shrink step replays a sequence against the target, so a catch-only check skips it)."""
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    divergences: list[ModelDivergence] = []
    try:
        run_state_machine_as_test(  # type: ignore[no-untyped-call]
            seed(seed_value)(machine_for(api, processors, clamp, divergences)),
            settings=settings(
                max_examples=examples,
                stateful_step_count=depth,
                deadline=None,
                database=None,
                phases=phases,
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            ),
        )
    except Flaky as exc:
        # a target that answers one sequence differently when hypothesis replays it to shrink (its state
        # leaks from one sequence into the next) makes the generation itself inconsistent; the first
        # divergence seen is still a real disagreement with the model, so it is the finding, unshrunk
        if not divergences:
            raise
        first = divergences[0]
        first.add_note(
            "not shrunk: replaying the sequence, the target answered differently "
            f"({type(exc).__name__}), so its state depends on earlier sequences"
        )
        raise first from exc
