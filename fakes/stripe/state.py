"""The Stripe fake's state: every object it holds, list pagination, ``expand``, and event emission.

Objects are kept as the JSON dicts the API returns, in insertion order (so "newest first" is a reversed
walk). One re-entrant lock guards everything: handlers run on the server's loop thread while a test may
call a Python helper (``fund_cash_balance``, ``complete_checkout_session``) from its own thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fakes._common import FakeError, WebhookDelivery
from fakes.stripe.config import StripeConfig
from fakes.stripe.errors import StripeApiError, no_such
from fakes.stripe.event_types import EVENT_TYPES
from fakes.stripe.forms import Params
from fakes.stripe.ids import IdFactory

__all__ = ["Obj", "StripeState"]

Obj = dict[str, Any]

# Which store an id belongs to, by prefix (for ``expand`` and events' ``data.object`` lookups).
_PREFIX_KIND = (
    ("cus_", "customer"),
    ("sub_", "subscription"),
    ("in_", "invoice"),
    ("price_", "price"),
    ("prod_", "product"),
    ("cs_", "checkout.session"),
    ("pi_", "payment_intent"),
    ("ch_", "charge"),
    ("re_", "refund"),
    ("txn_", "balance_transaction"),
    ("seti_", "setup_intent"),
    ("pm_", "payment_method"),
    ("du_", "dispute"),
    ("promo_", "promotion_code"),
    ("di_", "discount"),
)


class StripeState:
    """All objects of one Stripe fake, plus the event log and the outbox it feeds."""

    def __init__(self, config: StripeConfig, webhooks: WebhookDelivery) -> None:
        self.config = config
        self.webhooks = webhooks
        self.ids = IdFactory(config.seed)
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        """Forget every object and event (ids restart from the seed, or from fresh randomness without one)."""
        with self.lock:
            self.ids.reset()
            self.customers: dict[str, Obj] = {}
            self.deleted_customers: set[str] = set()
            # customer -> currency -> credit balance (negative = credit, PROCESSORS.md 1.2)
            self.credit_balances: dict[str, dict[str, int]] = {}
            self.balance_transactions: dict[str, dict[str, Obj]] = {}
            self.cash_balances: dict[str, Obj] = {}
            self.cash_transactions: dict[str, dict[str, Obj]] = {}
            self.funding_instructions: dict[tuple[str, str, str], Obj] = {}
            self.products: dict[str, Obj] = {}
            self.prices: dict[str, Obj] = {}
            self.checkout_sessions: dict[str, Obj] = {}
            self.session_line_items: dict[str, list[Obj]] = {}
            self.session_subscription_data: dict[str, Obj] = {}
            self.subscriptions: dict[str, Obj] = {}
            self.invoices: dict[str, Obj] = {}
            self.invoice_items: dict[str, Obj] = {}
            #: a proration credit's invoice item id -> the line it credits (``credited_items``)
            self.proration_credits: dict[str, Obj] = {}
            self.events: dict[str, Obj] = {}
            self.webhook_endpoints: dict[str, Obj] = {}
            self.payment_intents: dict[str, Obj] = {}
            self.charges: dict[str, Obj] = {}
            self.refunds: dict[str, Obj] = {}
            # The account's balance transactions (charges in, refunds out): GET /v1/balance sums them.
            self.account_transactions: dict[str, Obj] = {}
            self.test_clocks: dict[str, Obj] = {}
            self.payment_methods: dict[str, Obj] = {}
            # payment method id -> the test token whose behaviour it has (pm_card_chargeCustomerFail...)
            self.card_tokens: dict[str, str] = {}
            self.setup_intents: dict[str, Obj] = {}
            self.disputes: dict[str, Obj] = {}
            self.coupons: dict[str, Obj] = {}
            self.promotion_codes: dict[str, Obj] = {}
            self.discounts: dict[str, Obj] = {}
            #: discount id -> its coupon as redeemed (a deleted coupon keeps discounting)
            self.discount_coupons: dict[str, Obj] = {}

    def now(self) -> int:
        """Unix seconds on the injected clock, as Stripe's ``created`` fields are."""
        return int(self.config.now())

    # -- lookups ---------------------------------------------------------------------------------------

    def customer(self, customer_id: str, *, param: str | None = None) -> Obj:
        """A live customer, or Stripe's ``resource_missing`` (deleted customers count as missing)."""
        customer = self.customers.get(customer_id)
        if customer is None or customer_id in self.deleted_customers:
            raise no_such("customer", customer_id, param=param)
        return customer

    def card_token(self, payment_method: str) -> str:
        """The test token whose behaviour ``payment_method`` has (itself for a ``pm_card_*`` token)."""
        return self.card_tokens.get(payment_method, payment_method)

    def get(
        self, store: Mapping[str, Obj], kind: str, object_id: str, *, param: str | None = None
    ) -> Obj:
        """One object from ``store`` or ``resource_missing`` naming ``kind``."""
        found = store.get(object_id)
        if found is None:
            raise no_such(kind, object_id, param=param)
        return found

    def lookup(self, object_id: str) -> Obj | None:
        """Any object by id, for ``expand``."""
        for prefix, kind in _PREFIX_KIND:
            if object_id.startswith(prefix):
                store = {
                    "customer": self.customers,
                    "subscription": self.subscriptions,
                    "invoice": self.invoices,
                    "price": self.prices,
                    "product": self.products,
                    "checkout.session": self.checkout_sessions,
                    "payment_intent": self.payment_intents,
                    "charge": self.charges,
                    "refund": self.refunds,
                    "balance_transaction": self.account_transactions,
                    "setup_intent": self.setup_intents,
                    "payment_method": self.payment_methods,
                    "dispute": self.disputes,
                    "promotion_code": self.promotion_codes,
                    "discount": self.discounts,
                }[kind]
                return store.get(object_id)
        return None

    # -- lists and expansion ---------------------------------------------------------------------------

    def page(
        self,
        items: Iterable[Obj],
        params: Params,
        url: str,
        *,
        kind: str,
        keep: Callable[[Obj], bool] | None = None,
    ) -> Obj:
        """Stripe's list object over ``items`` (oldest first in, newest first out), honouring ``limit``,
        ``starting_after`` and ``ending_before``."""
        limit = params.integer("limit", minimum=1)
        if limit is None:
            limit = 10
        if limit > 100:
            raise StripeApiError(
                400,
                "Invalid limit: must be between 1 and 100",
                code="parameter_invalid_integer",
                param="limit",
            )
        newest_first = [item for item in reversed(list(items)) if keep is None or keep(item)]
        starting_after = params.text("starting_after")
        ending_before = params.text("ending_before")
        if starting_after is not None:
            index = _index_of(newest_first, starting_after, kind, "starting_after")
            window = newest_first[index + 1 :]
            data, has_more = window[:limit], len(window) > limit
        elif ending_before is not None:
            index = _index_of(newest_first, ending_before, kind, "ending_before")
            window = newest_first[:index]
            data, has_more = window[-limit:], len(window) > limit
        else:
            data, has_more = newest_first[:limit], len(newest_first) > limit
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def render(self, obj: Obj, params: Params) -> Obj:
        """``obj`` with the requested ``expand`` paths filled in (a copy; the stored object is untouched)."""
        paths = params.expand()
        if not paths:
            return obj
        result: Obj = json.loads(json.dumps(obj))
        for path in paths:
            self._expand(result, path.split("."), path, depth=0)
        return result

    def _expand(self, node: Any, parts: list[str], path: str, *, depth: int) -> None:
        if depth >= 4 or not isinstance(node, dict):
            raise _cannot_expand(path)
        key, rest = parts[0], parts[1:]
        if node.get("object") == "list" and key == "data":
            for item in node["data"]:
                if rest:
                    self._expand(item, rest, path, depth=depth + 1)
            return
        if node.get("object") == "customer" and key in ("cash_balance", "invoice_credit_balance"):
            node[key] = self._customer_extra(node["id"], key)
        elif key not in node:
            raise _cannot_expand(path)
        elif isinstance(node[key], str):
            found = self.lookup(node[key])
            if found is None:
                raise _cannot_expand(path)
            node[key] = json.loads(json.dumps(found))
        if rest and node[key] is not None:
            self._expand(node[key], rest, path, depth=depth + 1)

    def _customer_extra(self, customer_id: str, key: str) -> Any:
        if key == "invoice_credit_balance":
            return dict(self.credit_balances.get(customer_id, {}))
        return self.cash_balances.get(customer_id) or cash_balance_object(self, customer_id)

    # -- events ----------------------------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        obj: Obj,
        *,
        request: Mapping[str, str | None] | None = None,
        previous_attributes: Mapping[str, Any] | None = None,
    ) -> Obj:
        """Record an event with a snapshot of ``obj`` and hand it to the outbox (signed at send time)."""
        if event_type not in EVENT_TYPES:
            # A new event type goes in the catalog, with a trigger recipe (fakes/trigger/stripe.py).
            raise FakeError(
                f"{event_type!r} is not in fakes.stripe.event_types.EVENT_TYPES",
                code="undeclared_event_type",
            )
        data: Obj = {"object": obj}
        if previous_attributes:
            data["previous_attributes"] = dict(previous_attributes)
        event_id = self.ids.new("evt_")
        pending = sum(1 for e in self.webhooks.endpoints() if e.accepts(event_type))
        event: Obj = {
            "id": event_id,
            "object": "event",
            "api_version": self.config.api_version,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": pending,
            "request": dict(request) if request else {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        # The stored event is parsed back from the body, so later changes to obj never leak into it.
        self.events[event_id] = json.loads(body)
        self.webhooks.send(event_id, body, event_type=event_type)
        return self.events[event_id]


def cash_balance_object(state: StripeState, customer_id: str) -> Obj:
    """A customer's ``cash_balance`` (PROCESSORS.md 1.3 sample), created on first use."""
    balance = state.cash_balances.get(customer_id)
    if balance is None:
        balance = state.cash_balances[customer_id] = {
            "object": "cash_balance",
            "available": {},
            "customer": customer_id,
            "livemode": False,
            "settings": {"reconciliation_mode": "automatic", "using_merchant_default": True},
        }
    return balance


def _index_of(items: list[Obj], object_id: str, kind: str, param: str) -> int:
    for index, item in enumerate(items):
        if item.get("id") == object_id:
            return index
    raise no_such(kind, object_id, param=param)


def _cannot_expand(path: str) -> StripeApiError:
    return StripeApiError(400, f"This property cannot be expanded ({path}).", param="expand")
