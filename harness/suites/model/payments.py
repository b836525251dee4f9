"""The payments contract as a pure state machine: operations in, predicted answers and state out.

Every operation has two halves. ``expect_*`` returns the acceptable :class:`~.answers.Answer` list without
changing anything; the matching commit (``create_account``, ``topup_started``, ``delivered``, ...) applies the
operation once the target answered (it needs ids the target made up, and, where the contract allows two
answers, the one the target chose). Rules (DESIGN.md "Money", "Endpoints"; the pinned OpenAPI contract):

* a processor payment credits once per processor reference, only in USD, only when it names an account (a
  top-up of that rail, or, on Stripe, a known customer), only a positive in-range amount;
* a webhook is deduplicated by its processor event id: a second delivery answers `duplicate`, changes nothing;
* authenticity is checked before the body (`missing_signature_header`, then `webhook_signature_invalid`,
  then `invalid_payload`), and a refused delivery changes nothing;
* the tier is the best plan among active subscriptions; an ended subscription never comes back, even when
  its paid event arrives late;
* a charge is `cost + ceil(cost * clamp(margin) / 10_000)`, once per inference, refused with
  `402 insufficient_credit` past the balance; a zero cost writes nothing;
* a wallet session reserves its cap, what it asks for up to the balance (nothing to reserve: 402); a unit past it is refused (402) and what was spent is settled once;
* an admin adjustment sets an absolute balance through one adjustment entry, never moving lifetime paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .answers import MAX_MICROS, Answer, Clamp, charge_for, error, ok
from .events import Event, Payment, PlanEnded, PlanPaid
from .wallet import Wallet

__all__ = ["Charge", "PaymentsModel", "Receipt", "Topup"]

#: The contract's bound on one usage unit.
MAX_UNIT_MICROS = 10**12
MARGIN_BOUND = 1_000_000


@dataclass(slots=True)
class Topup:
    """A top-up the target started."""

    account_id: str
    rail: str
    amount_micros: int
    key: str | None
    paid: bool = False


@dataclass(slots=True)
class Receipt:
    """A processor payment the target has recorded (credited or not)."""

    account_id: str | None
    micros: int | None
    credited: bool = False


@dataclass(frozen=True, slots=True)
class Charge:
    """A charged outcome, as a replay must answer it."""

    charged_micros: int
    margin_bps: int
    margin_bps_requested: int | None


@dataclass(slots=True)
class PaymentsModel:
    """Every account, top-up, payment, event and charge the sequence made, and the rules above."""

    clamp: Clamp
    #: the target's money unit in micro-USD (1: the contract's; 10,000: a service keeping cents)
    step_micros: int = 1
    wallets: dict[str, Wallet] = field(default_factory=dict)
    topups: dict[str, Topup] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)  # stripe customer → account
    receipts: dict[tuple[str, str], Receipt] = field(default_factory=dict)
    seen_events: set[tuple[str, str]] = field(default_factory=set)
    #: (rail, processor subscription ref) → account; ended ones remembered even before they exist
    subscriptions: dict[tuple[str, str], str] = field(default_factory=dict)
    ended: set[tuple[str, str]] = field(default_factory=set)
    outcomes: dict[str, tuple[str, int]] = field(default_factory=dict)
    charges: dict[str, Charge] = field(default_factory=dict)
    #: Stripe's own records of funded transfers: txn → the payment (for reconciliation)
    stripe_records: dict[str, Payment] = field(default_factory=dict)

    # -- accounts and admin ------------------------------------------------------------------------------

    def create_account(self, account_id: str) -> None:
        """`POST /v1/accounts` answered 201 with this id: a free account with an empty wallet."""
        self.wallets[account_id] = Wallet(account_id)

    def expect_adjust(self, account_id: str, balance: int, *, authorised: bool) -> list[Answer]:
        """`POST /admin/balance-adjust`: secret, then body, then account."""
        if not authorised:
            return [error(401, "unauthorized")]
        if not -MAX_MICROS <= balance <= MAX_MICROS:
            return [error(400, "invalid_request")]
        wallet = self.wallets.get(account_id)
        if wallet is None:
            return [error(404, "account_not_found")]
        return [ok(old_balance_micros=wallet.balance_micros, new_balance_micros=balance)]

    def adjusted(self, account_id: str, balance: int) -> None:
        """Commit a 200 balance adjustment."""
        self.wallets[account_id].set_balance(balance)

    # -- top-ups -------------------------------------------------------------------------------------------

    def _key_owner(self, account_id: str, rail: str, key: str | None) -> tuple[str, Topup] | None:
        if key is None:
            return None
        for topup_id, t in self.topups.items():
            if (t.account_id, t.rail, t.key) == (account_id, rail, key):
                return topup_id, t
        return None

    def expect_topup(
        self, account_id: str, rail: str, amount: int, key: str | None
    ) -> list[Answer]:
        """`POST /v1/payments/topup/{rail}`: body, then account, then the Idempotency-Key."""
        if not 0 < amount <= MAX_MICROS or (rail == "stripe" and amount % 10_000):
            return [error(422, "validation_error")]
        if account_id not in self.wallets:
            return [error(404, "account_not_found")]
        owner = self._key_owner(account_id, rail, key)
        if owner is not None:
            topup_id, earlier = owner
            if earlier.amount_micros != amount:
                return [error(409, "idempotency_key_reused")]
            return [ok(200, id=topup_id, amount_micros=amount, account_id=account_id)]
        return [ok(201, amount_micros=amount, account_id=account_id, rail=rail)]

    def topup_started(
        self, topup_id: str, account_id: str, rail: str, amount: int, key: str | None
    ) -> None:
        """Commit a started (201) top-up."""
        self.topups.setdefault(topup_id, Topup(account_id, rail, amount, key))

    def customer_known(self, customer: str, account_id: str) -> None:
        """The target created Stripe customer `customer` for `account_id`."""
        self.customers[customer] = account_id

    def expect_pay(self, topup_id: str) -> list[Answer]:
        """`POST /v1/payments/topup/cdp/{id}/pay` with a valid payment of the top-up's amount."""
        topup = self.topups[topup_id]
        credited = 0 if topup.paid else topup.amount_micros
        return [ok(200, credited_micros=credited)]

    def paid(self, topup_id: str, transaction: str) -> None:
        """Commit a settled x402 top-up: its amount credited once, keyed by the transaction."""
        topup = self.topups[topup_id]
        if topup.paid:
            return
        payment = Payment("cdp", transaction, topup.amount_micros, topup_id)
        self._payment(payment)

    # -- processor events ----------------------------------------------------------------------------------

    def expect_delivery(self, event: Event, auth: str, *, malformed: bool = False) -> list[Answer]:
        """A webhook delivery: `auth` is `valid`, `missing` (no header) or `forged` (wrong secret)."""
        if auth == "missing":
            return [error(400, "missing_signature_header")]
        if auth == "forged":
            return [error(400, "webhook_signature_invalid")]
        if malformed:
            return [error(400, "invalid_payload")]
        if (event.rail, event.key) in self.seen_events:
            return [ok(status="duplicate")]
        m = event.meaning
        if isinstance(m, Payment) and m.odd:
            refused = error(400, "invalid_payload")
            return [refused] + [ok(status=s) for s in ("not_credited", "ignored", "duplicate")]
        return [ok(status=self._effect(event, apply=False))]

    def delivered(self, event: Event, answer: Answer) -> None:
        """Commit a delivery the target answered with `answer` (only a 200 records the event)."""
        if answer.status != 200 or (event.rail, event.key) in self.seen_events:
            return
        self.seen_events.add((event.rail, event.key))
        self._effect(event, apply=True)

    def processor_event(self, event: Event) -> None:
        """An event the fake delivered by itself (its answer is not seen; its effect is)."""
        if (event.rail, event.key) not in self.seen_events:
            self.seen_events.add((event.rail, event.key))
            self._effect(event, apply=True)

    def processor_payment(self, payment: Payment) -> None:
        """A payment a fake reported by itself: credited once per processor reference."""
        self._payment(payment)

    def processor_plan(self, meaning: PlanPaid | PlanEnded) -> None:
        """A subscription event a fake delivered by itself."""
        if isinstance(meaning, PlanPaid):
            self._plan_paid(meaning, apply=True)
        else:
            self._plan_ended(meaning, apply=True)

    def _effect(self, event: Event, *, apply: bool) -> str:
        m = event.meaning
        if isinstance(m, Payment):
            return self._payment(m, apply=apply)
        if isinstance(m, PlanPaid):
            return self._plan_paid(m, apply=apply)
        if isinstance(m, PlanEnded):
            return self._plan_ended(m, apply=apply)
        return "ignored"

    def _attribute(self, p: Payment) -> str | None:
        topup = self.topups.get(p.topup) if p.topup else None
        if topup is not None and topup.rail == p.rail:
            return topup.account_id
        if p.rail == "stripe" and p.customer:
            return self.customers.get(p.customer)
        return None

    def _payment(self, p: Payment, *, apply: bool = True) -> str:
        receipt = self.receipts.get((p.rail, p.ref))
        if receipt is not None and (receipt.credited or receipt.account_id is not None):
            return "duplicate"
        account_id = self._attribute(p)
        creditable = account_id is not None and p.micros is not None and not p.odd
        if apply:
            receipt = Receipt(account_id, p.micros, credited=creditable)
            self.receipts[(p.rail, p.ref)] = receipt
            if creditable and account_id is not None and p.micros is not None:
                self.wallets[account_id].credit(p.micros)
                topup = self.topups.get(p.topup or "")
                if topup is not None and topup.rail == p.rail:
                    topup.paid = True
        return "applied" if creditable else "not_credited"

    def _plan_paid(self, m: PlanPaid, *, apply: bool) -> str:
        key = (m.rail, m.sub_ref)
        if key not in self.subscriptions and m.account_id not in self.wallets:
            return "ignored"
        account_id = self.subscriptions.setdefault(key, m.account_id) if apply else m.account_id
        if key in self.ended:
            return "ignored"
        if apply:
            plans = self.wallets[account_id].plans
            plan = plans.get(f"{m.rail}:{m.sub_ref}", (m.plan, True))[0]  # a plan never changes
            plans[f"{m.rail}:{m.sub_ref}"] = (plan, True)
        return "applied"

    def _plan_ended(self, m: PlanEnded, *, apply: bool) -> str:
        key = (m.rail, m.sub_ref)
        known = key in self.subscriptions
        if apply:
            self.ended.add(key)
            if known:
                wallet = self.wallets[self.subscriptions[key]]
                plan = wallet.plans.get(f"{m.rail}:{m.sub_ref}")
                if plan is not None:
                    wallet.plans[f"{m.rail}:{m.sub_ref}"] = (plan[0], False)
        return "applied" if known else "ignored"

    def subscription_started(self, rail: str, sub_ref: str, account_id: str) -> None:
        """A checkout the target started: the subscription exists, pending (no tier yet)."""
        self.subscriptions.setdefault((rail, sub_ref), account_id)

    # -- outcomes, charges, usage ------------------------------------------------------------------------

    def expect_outcome(self, inference: str, account_id: str, cost: int) -> list[Answer]:
        """`POST /v1/outcomes`: body, then account, then one outcome per inference."""
        if not 0 <= cost <= MAX_MICROS:
            return [error(422, "validation_error")]
        if account_id not in self.wallets:
            return [error(404, "account_not_found")]
        if inference in self.outcomes:
            return [error(409, "duplicate_outcome")]
        return [ok(201, inference_id=inference, cost_micros=cost)]

    def outcome_recorded(self, inference: str, account_id: str, cost: int) -> None:
        """Commit a 201 outcome."""
        self.outcomes[inference] = (account_id, cost)

    def expect_charge(self, inference: str, margin: int | None) -> list[Answer]:
        """`POST /v1/charges`: replay, else the formula, else 402 past the balance."""
        if margin is not None and not -MARGIN_BOUND <= margin <= MARGIN_BOUND:
            return [error(422, "validation_error")]
        if inference in self.charges:
            c = self.charges[inference]
            account_id = self.outcomes[inference][0]
            return [
                ok(
                    status="charged",
                    charged_micros=c.charged_micros,
                    margin_bps=c.margin_bps,
                    margin_bps_requested=c.margin_bps_requested,
                    replayed=True,
                    balance_micros=self.wallets[account_id].balance_micros,
                )
            ]
        if inference not in self.outcomes:
            return [error(404, "outcome_not_found")]
        account_id, cost = self.outcomes[inference]
        effective = self.clamp.effective(margin)
        charged = charge_for(cost, effective, self.step_micros)
        balance = self.wallets[account_id].balance_micros
        if charged == 0:
            return [ok(status="skipped_zero_cost", charged_micros=0, balance_micros=balance)]
        if balance < charged:
            return [error(402, "insufficient_credit")]
        return [
            ok(
                status="charged",
                charged_micros=charged,
                margin_bps=effective,
                margin_bps_requested=margin,
                replayed=False,
                balance_micros=balance - charged,
            )
        ]

    def charged(self, inference: str, margin: int | None) -> None:
        """Commit a charge the target answered 200 (a replay or a skipped zero cost changes nothing)."""
        if inference in self.charges:
            return
        account_id, cost = self.outcomes[inference]
        effective = self.clamp.effective(margin)
        amount = charge_for(cost, effective, self.step_micros)
        if amount:
            self.wallets[account_id].debit(amount)
            self.charges[inference] = Charge(amount, effective, margin)

    def expect_usage(self, account_id: str | None, units: list[int]) -> tuple[list[Answer], int]:
        """`POST /v1/usage` on the wallet: the answers, and what the session settles."""
        if any(not 0 <= u <= MAX_UNIT_MICROS for u in units) or len(units) > 100:
            return [error(422, "validation_error")], 0
        if account_id is None:
            return [error(402, "payment_required")], 0
        wallet = self.wallets.get(account_id)
        if wallet is None:
            return [error(404, "account_not_found")], 0
        # the session reserves what it asks for, up to the balance; nothing to reserve is a 402 at once
        cap = max(0, min(sum(units), wallet.balance_micros))
        if sum(units) > 0 and cap == 0:
            return [error(402, "insufficient_credit")], 0
        spent = 0
        for unit in units:
            if spent + unit > cap:
                return [error(402, "insufficient_credit")], spent
            spent += unit
        return [ok(spent_micros=spent, cap_micros=cap, protocol="wallet")], spent

    def settled(self, account_id: str, spent: int) -> None:
        """Commit a wallet session's settle at close: one debit of what was spent (none for zero)."""
        self.wallets[account_id].debit(spent)

    # -- reconciliation ------------------------------------------------------------------------------------

    def stripe_funded(self, payment: Payment) -> None:
        """Stripe now lists this funded transfer (whether or not its event reached the target)."""
        self.stripe_records[payment.ref] = payment

    def expect_stripe_reconcile(self, *, dry_run: bool) -> set[tuple[str, str, bool]]:
        """The mismatches about payments this model knows: (kind, processor ref, fixed)."""
        found: set[tuple[str, str, bool]] = set()
        for ref, record in self.stripe_records.items():
            if ("stripe", ref) not in self.receipts:
                fixable = self._attribute(record) is not None and bool(record.micros)
                found.add(("missing_in_ledger", ref, fixable and not dry_run))
        for (rail, ref), receipt in self.receipts.items():
            if rail == "stripe" and receipt.credited and ref not in self.stripe_records:
                found.add(("missing_at_processor", ref, False))
        return found

    def reconciled(self, *, dry_run: bool) -> None:
        """Commit a reconciliation: a real run credits what the processor has and the ledger lacks."""
        if dry_run:
            return
        for ref, record in self.stripe_records.items():
            if ("stripe", ref) not in self.receipts and record.micros:
                self._payment(record)

    def known_refs(self) -> set[str]:
        """Every processor reference this model made or saw."""
        return {ref for _, ref in self.receipts} | set(self.stripe_records)
