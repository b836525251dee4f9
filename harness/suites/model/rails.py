"""The stateful suite's processor side: top-ups on every rail through the fakes, and processor events of
every type and validity delivered to the target (signed, unsigned, forged, malformed, again, out of order).

Rules here are inherited by :class:`~.machine.PaymentsMachine`; hypothesis prints each step of a failing
sequence as a call of one of them, and every request as a curl line.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, multiple, precondition, rule

from harness.suites._processors import Processors
from harness.suites._support import Api, Grain

from . import events as ev
from . import kinds
from .answers import Answer
from .kinds import AUTH, CDP_KINDS, MALFORMED, STRIPE_KINDS, SUB_PLANS, XENDIT_KINDS
from .observe import ModelDivergence, Observer, step_note
from .payments import PaymentsModel

__all__ = ["RailRules"]

_FORGED_SECRET = "whsec_not_the_targets_secret"
_counter = itertools.count(1)


class RailRules(RuleBasedStateMachine):
    """Bundles, the model, and the rules that involve a processor."""

    api: ClassVar[Api]
    processors: ClassVar[Processors]
    model_factory: ClassVar[Any]
    #: the target's money grain and what its profile says it lacks (a service behind the contract
    #: adapter): amounts are drawn as it can hold them, and steps needing what it lacks are left out
    grain: ClassVar[Grain] = Grain()
    lacks: ClassVar[frozenset[str]] = frozenset()
    #: every divergence the run saw, first first (kept across sequences: see `machine.run`)
    divergences: ClassVar[list[ModelDivergence]]

    accounts = Bundle("accounts")
    stripe_topups = Bundle("stripe_topups")
    xendit_topups = Bundle("xendit_topups")
    cdp_topups = Bundle("cdp_topups")
    deliveries = Bundle("deliveries")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.model: PaymentsModel = self.model_factory()
        self.seen = Observer(self.api, self.divergences)
        self.run = f"{next(_counter):x}{id(self) & 0xFFFF:04x}"
        self.details: dict[str, dict[str, Any]] = {}  # top-up id → the details the target gave
        self.invoices_paid: set[str] = set()
        self.transactions: dict[str, str] = {}  # cdp top-up → its settlement transaction
        self.sent: dict[str, ev.Event] = {}
        self.held: list[tuple[list[str], ev.Payment]] = []
        self.payment_events: dict[str, ev.Event] = {}  # processor ref → an event reporting it

    def teardown(self) -> None:
        """Let Stripe deliver what this sequence left held, so no later test receives it by surprise."""
        stripe = self.processors.handle("stripe")
        for event_ids, _ in self.held:
            for event_id in event_ids:
                stripe.release(event_id)
        if self.held:
            self.processors.drain("stripe")

    # -- helpers -----------------------------------------------------------------------------------------

    def has(self, capability: str) -> bool:
        """Whether the target has `capability` (its profile does not say it lacks it)."""
        return capability not in self.lacks

    def fresh(self, prefix: str) -> str:
        """An id no earlier sequence used."""
        return f"{prefix}_{self.run}_{next(_counter)}"

    def expect(self, what: str, response: Any, allowed: list[Answer]) -> Answer:
        """The allowed answer the target gave (a divergence otherwise)."""
        return self.seen.answer(what, response, allowed)

    def deliver(self, event: ev.Event, auth: str, *, malformed: bool = False) -> Answer:
        """Deliver `event` (signed as `auth` says) and hold the target to the model's answer."""
        headers = dict(event.headers)
        if auth == "missing":
            headers["content-type"] = "application/json"
        else:
            secret = _FORGED_SECRET if auth == "forged" else None
            headers |= self.processors.signed(
                event.rail,
                event.body,
                secret=secret,
                event_id=event.headers.get("x-event-id"),
                event_type=event.headers.get("x-event-type"),
            )
        allowed = self.model.expect_delivery(event, auth, malformed=malformed)
        response = self.seen.call(
            "POST", f"/v1/payments/webhook/{event.rail}", content=event.body, headers=headers
        )
        what = f"{auth} {event.rail} {event.event_type} delivery"
        got = self.expect(what, response, allowed)
        if not malformed and auth == "valid":
            self.model.delivered(event, got)
        return got

    def _start(
        self, rail: str, account: str, amount: int, key: str | None, again: int | None = None
    ) -> Any:
        allowed = self.model.expect_topup(account, rail, amount, key)
        headers = {"Idempotency-Key": key} if key else {}
        response = self.seen.call(
            "POST",
            f"/v1/payments/topup/{rail}",
            json_body={"account_id": account, "amount_micros": amount},
            headers=headers,
        )
        got = self.expect(f"a {rail} top-up of {amount} micros", response, allowed)
        if got.status not in (200, 201):
            return multiple()
        body = response.json()
        topup_id = str(body["id"])
        self.model.topup_started(topup_id, account, rail, amount, key)
        self.details[topup_id] = dict(body.get("details") or {})
        customer = self.details[topup_id].get("customer")
        if rail == "stripe" and customer:
            self.model.customer_known(str(customer), account)
        if key is not None and again is not None:
            # the same Idempotency-Key again: the same body replays the top-up, another one is refused
            self._start(rail, account, again, key)
        return topup_id

    # -- top-ups through the fakes ------------------------------------------------------------------------

    @rule(
        target=stripe_topups,
        account=accounts | st.just("acct_unknown"),
        cents=st.sampled_from([1, 100, 12_345]) | st.integers(1, 50_000),
        sub_cent=st.sampled_from([0, 0, 0, 1]),
        key=st.sampled_from([None, "key-a", "key-b"]),
        again=st.sampled_from([None, None, 0, 10_000]),
    )
    def top_up_stripe(
        self, account: str, cents: int, sub_cent: int, key: str | None, again: int | None
    ) -> Any:
        """Start a Stripe top-up (a sub-cent amount is refused; a reused key replays the top-up with the
        same body, `409 idempotency_key_reused` with another)."""
        if self.grain.step_micros > 1:
            sub_cent = 0  # a service keeping whole units cannot even be asked for a sub-cent amount
        amount = max(cents * 10_000, self.grain.min_topup_micros) + sub_cent
        return self._start(
            "stripe", account, amount, key, None if again is None else amount + again
        )

    @rule(
        target=xendit_topups,
        account=accounts,
        cents=st.sampled_from([100, 1_000]) | st.integers(100, 50_000),
        key=st.sampled_from([None, "key-a"]),
        again=st.sampled_from([None, None, 0, 10_000]),
    )
    def top_up_xendit(self, account: str, cents: int, key: str | None, again: int | None) -> Any:
        """Start a Xendit top-up (an invoice at the processor), maybe its key again."""
        amount = max(cents * 10_000, self.grain.min_topup_micros)
        return self._start(
            "xendit", account, amount, key, None if again is None else amount + again
        )

    @rule(
        target=cdp_topups,
        account=accounts,
        micros=st.sampled_from([1, 10_000, 1_000_000]) | st.integers(1, 2_000_000),
        key=st.sampled_from([None, "key-a"]),
        again=st.sampled_from([None, None, 0, 1]),
    )
    def top_up_cdp(self, account: str, micros: int, key: str | None, again: int | None) -> Any:
        """Start an x402 top-up (payment requirements, no processor call), maybe its key again."""
        if not self.has("cdp"):
            return multiple()
        return self._start("cdp", account, micros, key, None if again is None else micros + again)

    def _paid_by(self, event: ev.Event) -> str:
        assert isinstance(event.meaning, ev.Payment)
        self.payment_events[event.meaning.ref] = event
        return event.meaning.ref

    @rule(
        target=payments,
        topup=stripe_topups,
        cents=st.integers(1, 50_000),
        held=st.booleans(),
        resent=st.booleans(),
    )
    def stripe_bank_transfer_arrives(self, topup: str, cents: int, held: bool, resent: bool) -> str:
        """Money arrives at Stripe for the top-up; its event is delivered now, or held for later (and
        maybe the same transfer is reported again under another event id)."""
        customer = str(self.details[topup]["customer"])
        stripe = self.processors.handle("stripe")
        before = set(stripe.deliveries().get("held", []))
        if held:
            with self.processors.delivery("stripe", "held"):
                txn = self.processors.stripe_fund(customer, cents, reference=topup)
        else:
            txn = self.processors.stripe_fund(customer, cents, reference=topup)
            self.processors.drain("stripe")
        payment = ev.Payment("stripe", str(txn["id"]), cents * 10_000, topup, customer)
        step_note(f"# stripe fake: {cents} cents funded for {topup} (txn {txn['id']}, held={held})")
        self.model.stripe_funded(payment)
        if held:
            new = [e for e in stripe.deliveries().get("held", []) if e not in before]
            self.held.append((new, payment))
        else:
            self.model.processor_payment(payment)
        event = ev.stripe_funded(payment.ref, customer=customer, topup=topup, cents=cents)
        if resent:  # the same transfer reported by another event id: credited once
            self.deliver(ev.reported_again(event, self.fresh("again")), "valid")
        return self._paid_by(event)

    @precondition(lambda self: bool(self.held))
    @rule()
    def stripe_releases_held_events(self) -> None:
        """Stripe delivers the events it held (late, after whatever happened meanwhile)."""
        stripe = self.processors.handle("stripe")
        for event_ids, payment in self.held:
            for event_id in event_ids:
                stripe.release(event_id)
            self.model.processor_payment(payment)
        self.held.clear()
        self.processors.drain("stripe")
        step_note("# stripe fake: held events released")

    @rule(target=payments, topup=xendit_topups, settled_too=st.booleans())
    def xendit_invoice_is_paid(self, topup: str, settled_too: bool) -> Any:
        """The payer pays the Xendit invoice; the PAID callback follows, and maybe its SETTLED one (the
        same payment again: credited once)."""
        invoice = str(self.details[topup].get("invoice_id"))
        if invoice in self.invoices_paid:
            return multiple()
        self.invoices_paid.add(invoice)
        self.processors.xendit_pay_invoice(invoice)
        self.processors.drain("xendit")
        amount = self.model.topups[topup].amount_micros
        self.model.processor_payment(ev.Payment("xendit", invoice, amount, topup))
        text = str(Decimal(amount) / 1_000_000)
        event = ev.xendit_invoice(invoice, topup=topup, status="PAID", amount=text)
        if settled_too:
            self.deliver(ev.reported_again(event, self.fresh("again")), "valid")
        return self._paid_by(event)

    @rule(target=payments, topup=cdp_topups, wallet=st.integers(0, 2))
    def x402_pays(self, topup: str, wallet: int) -> Any:
        """Pay the x402 top-up with a signed payment of its amount; the settlement webhook follows."""
        accepts = self.details[topup].get("payment_requirements", {}).get("accepts", [])
        amount = self.model.topups[topup].amount_micros
        payment = self.processors.x402_payment(accepts[0], amount, wallet=wallet)
        allowed = self.model.expect_pay(topup)
        # the facilitator's webhook is held until /pay has answered: a webhook landing while /pay is still
        # crediting is a race the reference loses today (its issue: the credit can be lost), not generated
        with self.processors.delivery("cdp", "held"):
            response = self.seen.call(
                "POST",
                f"/v1/payments/topup/cdp/{topup}/pay",
                headers={"X-PAYMENT": payment.header},
            )
        self.processors.handle("cdp").release()
        self.expect(f"paying x402 top-up {topup}", response, allowed)
        if allowed[0].fields.get("credited_micros") == 0:
            return multiple()  # already paid: nothing was settled
        tx = str(response.json().get("transaction"))
        self.model.paid(topup, tx)
        self.transactions[topup] = tx
        self.processors.drain("cdp")
        self.model.processor_payment(ev.Payment("cdp", tx, amount, None))
        return self._paid_by(
            ev.cdp_settlement(self.fresh("evt"), tx=tx, value=amount, nonce=payment.nonce)
        )

    # -- processor events sent by the suite ---------------------------------------------------------------

    @rule(
        target=deliveries,
        account=accounts,
        kind=st.sampled_from(STRIPE_KINDS).filter(
            lambda k: k not in kinds.PENDING_REFERENCE_DEFECTS
        ),
        topup=st.none() | stripe_topups,
        sub=st.integers(0, 2),
        auth=AUTH,
    )
    def stripe_event(self, account: str, kind: str, topup: str | None, sub: int, auth: str) -> Any:
        """A Stripe event of any type, naming the account's customer or one of the top-ups."""
        customer = next((c for c, a in self.model.customers.items() if a == account), None)
        customer = customer or self.fresh("cus_unknown")
        sub_ref, ref, plan = f"sub_{self.run}_{sub}", self.fresh("ph"), SUB_PLANS[sub]
        cents = {"funded_zero": 0, "funded_negative": -500, "funded_huge": 10**12}.get(kind, 2_500)
        if kind.startswith("funded"):
            currency = "jpy" if kind == "funded_jpy" else "usd"
            event = ev.stripe_funded(
                f"ccsbtxn_{ref}", customer=customer, topup=topup, cents=cents, currency=currency
            )
        elif kind == "invoice_paid":
            event = ev.stripe_invoice_paid(
                f"in_{ref}",
                sub_ref=sub_ref,
                account_id=account,
                plan=plan,
                account_key=self.api.account_key(),
            )
        elif kind.startswith("subscription_"):
            updated = kind == "subscription_updated_canceled"
            event = ev.stripe_subscription_ended(ref, sub_ref=sub_ref, updated=updated)
        else:
            event = ev.stripe_inert(ref, kind, customer=customer)
        return self._send(event, auth)

    @rule(
        target=deliveries,
        account=accounts,
        kind=st.sampled_from(XENDIT_KINDS),
        topup=st.none() | xendit_topups,
        sub=st.integers(0, 2),
        auth=AUTH,
    )
    def xendit_event(self, account: str, kind: str, topup: str | None, sub: int, auth: str) -> Any:
        """A Xendit callback: an invoice (of a top-up or unknown) or a recurring plan event."""
        plan_ref, ref, plan = f"repl_{self.run}_{sub}", self.fresh("x"), SUB_PLANS[sub]
        invoices = ("PAID", "SETTLED", "PAID_IDR", "PAID_zero", "EXPIRED")
        if kind not in invoices and not self.has("xendit_checkout"):
            return multiple()  # recurring plans: the target sells none
        if kind in invoices:
            invoice = str(self.details[topup].get("invoice_id")) if topup else f"inv_{ref}"
            micros = self.model.topups[topup].amount_micros if topup else 2_500_000
            amount = "0" if kind == "PAID_zero" else str(Decimal(micros) / 1_000_000)
            currency = "IDR" if kind == "PAID_IDR" else "USD"
            status = kind.split("_")[0]
            event = ev.xendit_invoice(
                invoice, topup=topup, status=status, amount=amount, currency=currency
            )
        elif kind.startswith("cycle_") or kind == "recurring.cycle.failed":
            succeeded = kind == "cycle_succeeded"
            event = ev.xendit_cycle(
                f"recy_{ref}", plan_ref=plan_ref, account_id=account, plan=plan, succeeded=succeeded
            )
        else:
            inactivated = kind == "plan_inactivated"
            event = ev.xendit_plan(ref, plan_ref=plan_ref, inactivated=inactivated)
        return self._send(event, auth)

    @rule(
        target=deliveries,
        kind=st.sampled_from(CDP_KINDS).filter(lambda k: k not in kinds.PENDING_REFERENCE_DEFECTS),
        topup=st.none() | cdp_topups,
        auth=AUTH,
    )
    def cdp_event(self, kind: str, topup: str | None, auth: str) -> Any:
        """A CDP settlement event: for a paid top-up's transaction (again) or an unknown one."""
        if not self.has("cdp"):
            return multiple()
        ref = self.fresh("tx")
        tx = self.transactions.get(topup or "") or "0x" + ref.encode().hex().ljust(64, "0")[:64]
        value = 0 if kind == "completed_zero" else 1_500_000
        event_type = kind if kind in ev.INERT_CDP else "x402.settlement.completed"
        asset = "0x" + "ab" * 20 if kind == "completed_other_asset" else ev.USDC
        event = ev.cdp_settlement(
            self.fresh("evt"),
            tx=tx,
            value=value,
            nonce="0x" + "11" * 32,
            event_type=event_type,
            asset=asset,
        )
        return self._send(event, auth)

    def _send(self, event: ev.Event, auth: str) -> Any:
        got = self.deliver(event, auth)
        if auth != "valid" or got.status != 200:
            return multiple()
        self.sent[event.key] = event
        if isinstance(event.meaning, ev.Payment):
            self.payment_events[event.meaning.ref] = event
        return event.key

    @rule(ref=payments)
    def processor_reports_the_payment_again(self, ref: str) -> None:
        """Another event for a payment already reported (a new event id; Xendit's SETTLED after PAID):
        the payment is credited once, whichever events report it."""
        self.deliver(ev.reported_again(self.payment_events[ref], self.fresh("again")), "valid")

    @rule(key=deliveries)
    def a_delivered_payment_is_reported_again(self, key: str) -> None:
        """Another event for a payment the suite reported: credited once at most."""
        event = self.sent[key]
        if isinstance(event.meaning, ev.Payment):
            self.deliver(ev.reported_again(event, self.fresh("again")), "valid")

    @rule(key=deliveries, auth=st.sampled_from(["valid", "valid", "forged"]))
    def processor_redelivers(self, key: str, auth: str) -> None:
        """The same event again (freshly signed): a duplicate changes nothing; a forged copy is refused."""
        self.deliver(self.sent[key], auth)

    @rule(rail=st.sampled_from(["stripe", "xendit", "cdp"]), body=st.sampled_from(MALFORMED))
    def signed_malformed_body(self, rail: str, body: bytes) -> None:
        """A validly signed body that is not an event: `400 invalid_payload`, nothing changes."""
        if not self.has(rail):
            return
        event = ev.Event(rail, "", "malformed", body, None, {"x-event-id": "", "x-event-type": ""})
        self.deliver(event, "valid", malformed=True)
