"""One-off invoices through their lifecycle, and the invoice items that fill them.

``POST /v1/invoices`` makes a ``draft`` (``invoice.created``), with ``discounts`` redeemed on it
(:mod:`fakes.stripe.discounts`); ``POST /v1/invoiceitems`` with ``invoice``
adds a line to a draft; ``finalize`` makes it ``open`` with a number (``invoice.finalized``; a zero total is
paid at once, as Stripe does); ``pay`` charges ``payment_method`` or the customer's default test card
(``invoice.paid``, ``invoice.payment_succeeded``; a declined card answers ``card_error`` and leaves the
invoice open with ``invoice.payment_failed``, :mod:`fakes.stripe.collection`), or records an out-of-band
payment; ``void`` (``invoice.voided``) and ``mark_uncollectible``
(``invoice.marked_uncollectible``) close an open one; ``DELETE`` removes a draft.
"""

from __future__ import annotations

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.billing import invoice_subscription
from fakes.stripe.collection import attempt_payment
from fakes.stripe.discounts import apply_discounts, parse_discounts, redeem
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import merge_metadata
from fakes.stripe.payments import check_payment_method
from fakes.stripe.shapes import invoice_defaults, line_item_defaults
from fakes.stripe.state import Obj, StripeState

__all__ = ["invoice_routes"]

_UNPAID = {
    "finalized_at": None,
    "marked_uncollectible_at": None,
    "paid_at": None,
    "voided_at": None,
}


def _create(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("customer", "currency", "description", "metadata", "collection_method", "days_until_due",
         "auto_advance", "discounts")
    )  # fmt: skip
    customer = state.customer(p.required_text("customer"), param="customer")
    wanted = parse_discounts(p) or []
    method = p.text("collection_method", choices=("charge_automatically", "send_invoice"))
    days = p.integer("days_until_due", minimum=0)
    now = state.now()
    invoice_id = state.ids.new("in_")
    currency = p.currency(required=False) or "usd"
    discounts = redeem(
        state, wanted, customer=customer["id"], currency=currency, at=now, invoice=invoice_id
    )
    invoice: Obj = {
        **invoice_defaults(),
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Payharness Test Account",
        "amount_due": 0, "amount_overpaid": 0, "amount_paid": 0, "amount_remaining": 0,
        "amount_shipping": 0,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": p.boolean("auto_advance") is True,
        "billing_reason": "manual",
        "collection_method": method or "charge_automatically",
        "created": now,
        "currency": currency,
        "customer": customer["id"],
        "discounts": discounts,
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "description": p.text("description"),
        "due_date": now + days * 86_400 if days is not None else None,
        "ending_balance": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "lines": {"object": "list", "data": [], "has_more": False, "url": f"/v1/invoices/{invoice_id}/lines"},
        "livemode": False,
        "metadata": merge_metadata({}, p.metadata()),
        "number": None,
        "parent": None,
        "period_end": now,
        "period_start": now,
        "starting_balance": 0,
        "status": "draft",
        "status_transitions": dict(_UNPAID),
        "subtotal": 0, "subtotal_excluding_tax": 0, "total": 0, "total_excluding_tax": 0,
        "webhooks_delivered_at": None,
    }  # fmt: skip
    state.invoices[invoice_id] = invoice
    state.emit("invoice.created", invoice, request=call.event_request())
    return state.render(invoice, p)


def _create_item(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("customer", "amount", "currency", "description", "invoice", "metadata"))
    customer = state.customer(p.required_text("customer"), param="customer")
    amount = p.required_integer("amount")
    currency = p.currency()
    invoice_id = p.text("invoice")
    invoice = None
    if invoice_id is not None:
        invoice = state.get(state.invoices, "invoice", invoice_id, param="invoice")
        if invoice["status"] != "draft" or invoice["customer"] != customer["id"]:
            raise StripeApiError(
                400,
                f"Invoice {invoice_id} is not a draft invoice of customer {customer['id']}.",
                code="invoice_not_editable",
                param="invoice",
            )
    now = state.now()
    item: Obj = {
        "id": state.ids.new("ii_"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer["id"],
        "date": now,
        "description": p.text("description"),
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": merge_metadata({}, p.metadata()),
        "net_amount": amount,
        "parent": None,
        "period": {"start": now, "end": now},
        "pricing": None,
        "proration": False,
        "quantity": 1,
        "tax_rates": [],
        "test_clock": customer["test_clock"],
    }
    state.invoice_items[item["id"]] = item
    if invoice is not None:
        _add_line(state, invoice, item)
    state.emit("invoiceitem.created", item, request=call.event_request())
    return state.render(item, p)


def _retrieve_item(state: StripeState, call: Call) -> Obj:
    item = state.get(state.invoice_items, "invoiceitem", call.path["item"])
    return state.render(item, call.params.only(()))


def _list_items(state: StripeState, call: Call) -> Obj:
    """``GET /v1/invoiceitems``: by ``customer``, ``invoice``, and ``pending`` (not on an invoice yet)."""
    p = call.params.only(
        ("limit", "starting_after", "ending_before", "customer", "invoice", "pending")
    )
    customer, invoice, pending = p.text("customer"), p.text("invoice"), p.boolean("pending")
    page = state.page(
        state.invoice_items.values(),
        p,
        "/v1/invoiceitems",
        kind="invoiceitem",
        keep=lambda item: (
            (customer is None or item["customer"] == customer)
            and (invoice is None or item["invoice"] == invoice)
            and (pending is None or (item["invoice"] is None) == pending)
        ),
    )
    return state.render(page, p)


def _add_line(state: StripeState, invoice: Obj, item: Obj) -> None:
    invoice["lines"]["data"].append(
        {
            **line_item_defaults(),
            "id": state.ids.new("il_"),
            "object": "line_item",
            "amount": item["amount"],
            "currency": item["currency"],
            "description": item["description"],
            "invoice": invoice["id"],
            "parent": {
                "type": "invoice_item_details",
                "invoice_item_details": {
                    "invoice_item": item["id"],
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": None,
                },
                "subscription_item_details": None,
            },
            "period": dict(item["period"]),
            "pricing": None,
            "quantity": 1,
        }
    )
    subtotal = sum(line["amount"] for line in invoice["lines"]["data"])
    total = subtotal - apply_discounts(state, invoice)
    invoice.update(
        amount_due=total, amount_remaining=total, subtotal=subtotal,
        subtotal_excluding_tax=subtotal, total=total, total_excluding_tax=total,
    )  # fmt: skip


def _invoice(state: StripeState, call: Call, *allowed: str, action: str) -> Obj:
    invoice = state.get(state.invoices, "invoice", call.path["invoice"])
    if invoice["status"] not in allowed:
        raise StripeApiError(
            400,
            f"You can only {action} an invoice whose status is {' or '.join(allowed)}; "
            f"this one is {invoice['status']}.",
            code="invoice_not_editable" if "draft" in allowed else "invoice_unexpected_state",
        )
    return invoice


def _finalize(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("auto_advance",))
    invoice = _invoice(state, call, "draft", action="finalize")
    customer = state.customers[invoice["customer"]]
    sequence = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] = sequence + 1
    now = state.now()
    base = f"{state.config.account_id}/{invoice['id']}"
    invoice.update(
        status="open",
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        hosted_invoice_url=f"https://invoice.stripe.com/i/{base}",
        invoice_pdf=f"https://pay.stripe.com/invoice/{base}/pdf",
        ending_balance=0,
        effective_at=now,
    )
    invoice["status_transitions"]["finalized_at"] = now
    request = call.event_request()
    state.emit("invoice.finalized", invoice, request=request)
    if invoice["amount_due"] == 0:
        _mark_paid(state, invoice, request)
    return state.render(invoice, p)


def _mark_paid(state: StripeState, invoice: Obj, request: dict[str, str | None]) -> None:
    invoice.update(
        status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, attempted=True,
        attempt_count=invoice["attempt_count"] + 1,
    )  # fmt: skip
    invoice["status_transitions"]["paid_at"] = state.now()
    state.emit("invoice.paid", invoice, request=request)
    state.emit("invoice.payment_succeeded", invoice, request=request)


def _pay(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("paid_out_of_band", "payment_method"))
    invoice = _invoice(state, call, "open", action="pay")
    if p.boolean("paid_out_of_band"):
        _mark_paid(state, invoice, call.event_request())
        return state.render(invoice, p)
    card = check_payment_method(p.text("payment_method"))
    subscription = state.subscriptions.get(invoice_subscription(invoice) or "")
    intent = attempt_payment(state, invoice, subscription, payment_method=card)
    error = intent["last_payment_error"]
    if intent["status"] != "succeeded" and error is not None:
        # As on Stripe: the invoice stays open (invoice.payment_failed sent) and the request fails.
        raise StripeApiError(
            402, error["message"], code=error["code"], type="card_error",
            extra={"decline_code": error["decline_code"], "charge": error["charge"]},
        )  # fmt: skip
    return state.render(invoice, p)


def _close(state: StripeState, call: Call, status: str, stamp: str, event: str) -> Obj:
    p = call.params.only(())
    invoice = _invoice(state, call, "open", action=event.split(".")[1].replace("_", " "))
    invoice["status"] = status
    invoice["status_transitions"][stamp] = state.now()
    state.emit(event, invoice, request=call.event_request())
    return state.render(invoice, p)


def _void(state: StripeState, call: Call) -> Obj:
    return _close(state, call, "void", "voided_at", "invoice.voided")


def _uncollectible(state: StripeState, call: Call) -> Obj:
    return _close(
        state, call, "uncollectible", "marked_uncollectible_at", "invoice.marked_uncollectible"
    )


def _delete(state: StripeState, call: Call) -> Obj:
    call.params.only(())
    invoice = _invoice(state, call, "draft", action="delete")
    del state.invoices[invoice["id"]]
    state.emit("invoice.deleted", invoice, request=call.event_request())
    return {"id": invoice["id"], "object": "invoice", "deleted": True}


def _retrieve_invoice(state: StripeState, call: Call) -> Obj:
    invoice = state.get(state.invoices, "invoice", call.path["invoice"])
    return state.render(invoice, call.params.only(()))


def _list_invoices(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        (
            "limit",
            "starting_after",
            "ending_before",
            "customer",
            "subscription",
            "status",
            "created",
        )
    )
    customer = p.text("customer")
    subscription = p.text("subscription")
    status = p.text("status", choices=("draft", "open", "paid", "uncollectible", "void"))
    page = state.page(
        state.invoices.values(),
        p,
        "/v1/invoices",
        kind="invoice",
        keep=lambda inv: (
            (customer is None or inv["customer"] == customer)
            and (subscription is None or invoice_subscription(inv) == subscription)
            and (status is None or inv["status"] == status)
        ),
    )
    return state.render(page, p)


def invoice_routes(state: StripeState) -> list[Route]:
    """Invoices (create, retrieve, list, and their lifecycle) and invoice items."""
    one = "/v1/invoices/{invoice}"
    return [
        api_route(state, "POST", "/v1/invoices", "invoices.create", _create),
        api_route(state, "GET", "/v1/invoices", "invoices.list", _list_invoices),
        api_route(state, "GET", one, "invoices.retrieve", _retrieve_invoice),
        api_route(state, "POST", one + "/finalize", "invoices.finalize", _finalize),
        api_route(state, "POST", one + "/pay", "invoices.pay", _pay),
        api_route(state, "POST", one + "/void", "invoices.void", _void),
        api_route(
            state,
            "POST",
            one + "/mark_uncollectible",
            "invoices.mark_uncollectible",
            _uncollectible,
        ),
        api_route(state, "DELETE", one, "invoices.delete", _delete),
        api_route(state, "POST", "/v1/invoiceitems", "invoiceitems.create", _create_item),
        api_route(state, "GET", "/v1/invoiceitems", "invoiceitems.list", _list_items),
        api_route(state, "GET", "/v1/invoiceitems/{item}", "invoiceitems.retrieve", _retrieve_item),
    ]
