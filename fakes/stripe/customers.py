"""Customers and customer balance transactions (PROCESSORS.md 1.2, S-CBT).

The sign convention is the point of this module: a **negative** balance-transaction ``amount`` credits the
customer, a positive one debits; ``ending_balance`` is the customer's balance in that currency after the
transaction, cumulative. Transactions are immutable except ``description`` and ``metadata``.
"""

from __future__ import annotations

import string

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import no_such
from fakes.stripe.forms import Params, merge_metadata
from fakes.stripe.payments import check_payment_method
from fakes.stripe.state import Obj, StripeState

__all__ = ["create_balance_transaction", "customer_routes", "new_customer"]

_CUSTOMER_FIELDS = ("email", "name", "description", "phone")


def new_customer(
    state: StripeState, p: Params, *, request: dict[str, str | None] | None = None
) -> Obj:
    """Create a customer from ``email``, ``name``, ``description``, ``phone``, ``metadata``; emits
    ``customer.created``."""
    p.only(
        (
            *_CUSTOMER_FIELDS,
            "metadata",
            "preferred_locales",
            "invoice_settings",
            "address",
            "test_clock",
            "payment_method",
        )
    )
    # payment_method attaches a card; invoices charge invoice_settings.default_payment_method.
    check_payment_method(p.text("payment_method"))
    clock = p.text("test_clock")
    if clock is not None:
        state.get(state.test_clocks, "test_clock", clock, param="test_clock")
    customer_id = state.ids.new("cus_", 14)
    customer: Obj = {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": state.now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": p.text("description", max_length=350),
        "discount": None,
        "email": p.text("email", max_length=512),
        # Stripe derives invoice prefixes from the account; eight upper-case characters look the part.
        "invoice_prefix": "".join(
            c for c in customer_id[4:].upper() if c in string.ascii_uppercase
        )[:8].ljust(8, "X"),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": _default_payment_method(p),
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": merge_metadata({}, p.metadata()),
        "name": p.text("name", max_length=256),
        "next_invoice_sequence": 1,
        "phone": p.text("phone", max_length=20),
        "preferred_locales": p.array("preferred_locales") or [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": clock,
    }
    state.customers[customer_id] = customer
    state.emit("customer.created", customer, request=request)
    return customer


def _default_payment_method(p: Params, current: str | None = None) -> str | None:
    """``invoice_settings[default_payment_method]`` if given (empty clears it), else ``current``."""
    settings = p.nested("invoice_settings")
    if settings is None or not settings.has("default_payment_method"):
        return current
    settings.only(("default_payment_method", "custom_fields", "footer", "rendering_options"))
    return check_payment_method(
        settings.text("default_payment_method"),
        param="invoice_settings[default_payment_method]",
    )


def _create(state: StripeState, call: Call) -> Obj:
    return state.render(new_customer(state, call.params, request=call.event_request()), call.params)


def _retrieve(state: StripeState, call: Call) -> Obj:
    customer_id = call.path["customer"]
    if customer_id in state.deleted_customers:
        # Stripe keeps answering a deleted customer with its tombstone.
        return {"id": customer_id, "object": "customer", "deleted": True}
    return state.render(state.customer(customer_id), call.params.only(()))


def _update(state: StripeState, call: Call) -> Obj:
    customer = state.customer(call.path["customer"])
    p = call.params.only((*_CUSTOMER_FIELDS, "metadata", "preferred_locales", "invoice_settings"))
    previous: Obj = {}
    if p.has("invoice_settings"):
        settings = customer["invoice_settings"]
        default = _default_payment_method(p, settings["default_payment_method"])
        if default != settings["default_payment_method"]:
            previous["invoice_settings"] = dict(settings)
            customer["invoice_settings"] = {**settings, "default_payment_method": default}
    for field in _CUSTOMER_FIELDS:
        if p.has(field):
            value = p.text(field)
            if customer[field] != value:
                previous[field] = customer[field]
                customer[field] = value
    if p.has("metadata"):
        metadata = merge_metadata(customer["metadata"], p.metadata())
        if metadata != customer["metadata"]:
            previous["metadata"] = customer["metadata"]
            customer["metadata"] = metadata
    if previous:
        state.emit(
            "customer.updated", customer, request=call.event_request(), previous_attributes=previous
        )
    return state.render(customer, p)


def _delete(state: StripeState, call: Call) -> Obj:
    customer = state.customer(call.path["customer"])
    state.deleted_customers.add(customer["id"])
    state.emit("customer.deleted", customer, request=call.event_request())
    return {"id": customer["id"], "object": "customer", "deleted": True}


def _list(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before", "email", "created"))
    email = p.text("email")
    page = state.page(
        state.customers.values(),
        p,
        "/v1/customers",
        kind="customer",
        keep=lambda c: (
            c["id"] not in state.deleted_customers and (email is None or c["email"] == email)
        ),
    )
    return state.render(page, p)


def create_balance_transaction(
    state: StripeState,
    customer_id: str,
    *,
    amount: int,
    currency: str,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    type: str = "adjustment",
    request: dict[str, str | None] | None = None,
) -> Obj:
    """Apply ``amount`` to the customer's balance in ``currency`` (negative credits) and record it.

    Transactions made through the API are ``adjustment`` (PROCESSORS.md 1.2 marks this UNVERIFIED; we
    chose it and keep it consistent).
    """
    customer = state.customer(customer_id)
    if customer["currency"] is None:
        # "If the customer's currency is not set, it will be updated to this value." (S-CBT)
        customer["currency"] = currency
    balances = state.credit_balances.setdefault(customer_id, {})
    ending = balances.get(currency, 0) + amount
    balances[currency] = ending
    transaction: Obj = {
        "id": state.ids.new("cbtxn_"),
        "object": "customer_balance_transaction",
        "amount": amount,
        "checkout_session": None,
        "created": state.now(),
        "credit_note": None,
        "currency": currency,
        "customer": customer_id,
        "description": description,
        "ending_balance": ending,
        "invoice": None,
        "livemode": False,
        "metadata": metadata or {},
        "type": type,
    }
    state.balance_transactions.setdefault(customer_id, {})[transaction["id"]] = transaction
    if currency == customer["currency"] and amount != 0:
        previous = customer["balance"]
        customer["balance"] = ending
        state.emit(
            "customer.updated",
            customer,
            request=request,
            previous_attributes={"balance": previous},
        )
    return transaction


def _create_transaction(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("amount", "currency", "description", "metadata"))
    customer_id = call.path["customer"]
    state.customer(customer_id)
    amount = p.required_integer("amount")
    currency = p.currency()
    assert currency is not None  # currency() is required by default
    return create_balance_transaction(
        state,
        customer_id,
        amount=amount,
        currency=currency,
        description=p.text("description", max_length=350),
        metadata=merge_metadata({}, p.metadata()),
        request=call.event_request(),
    )


def _transaction(state: StripeState, call: Call) -> Obj:
    customer_id = call.path["customer"]
    state.customer(customer_id)
    transaction = state.balance_transactions.get(customer_id, {}).get(call.path["transaction"])
    if transaction is None:
        raise no_such("customer balance transaction", call.path["transaction"])
    return transaction


def _retrieve_transaction(state: StripeState, call: Call) -> Obj:
    return state.render(_transaction(state, call), call.params.only(()))


def _update_transaction(state: StripeState, call: Call) -> Obj:
    # Only description and metadata are mutable (S-CBT): anything else is an unknown parameter.
    p = call.params.only(("description", "metadata"))
    transaction = _transaction(state, call)
    if p.has("description"):
        transaction["description"] = p.text("description", max_length=350)
    if p.has("metadata"):
        transaction["metadata"] = merge_metadata(transaction["metadata"], p.metadata())
    return state.render(transaction, p)


def _list_transactions(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before", "created", "invoice"))
    customer_id = call.path["customer"]
    state.customer(customer_id)
    return state.page(
        state.balance_transactions.get(customer_id, {}).values(),
        p,
        f"/v1/customers/{customer_id}/balance_transactions",
        kind="customer balance transaction",
    )


def customer_routes(state: StripeState) -> list[Route]:
    """Customer CRUD and customer balance transactions."""
    cbt = "/v1/customers/{customer}/balance_transactions"

    return [
        api_route(state, "POST", "/v1/customers", "customers.create", _create),
        api_route(state, "GET", "/v1/customers", "customers.list", _list),
        api_route(state, "GET", "/v1/customers/{customer}", "customers.retrieve", _retrieve),
        api_route(state, "POST", "/v1/customers/{customer}", "customers.update", _update),
        api_route(state, "DELETE", "/v1/customers/{customer}", "customers.delete", _delete),
        api_route(
            state,
            "POST",
            cbt,
            "customer_balance_transactions.create",
            _create_transaction,
        ),
        api_route(
            state,
            "GET",
            cbt,
            "customer_balance_transactions.list",
            _list_transactions,
        ),
        api_route(
            state,
            "GET",
            cbt + "/{transaction}",
            "customer_balance_transactions.retrieve",
            _retrieve_transaction,
        ),
        api_route(
            state,
            "POST",
            cbt + "/{transaction}",
            "customer_balance_transactions.update",
            _update_transaction,
        ),
    ]
