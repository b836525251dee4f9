"""Cash balance: bank-transfer funds, funding instructions and the ``fund_cash_balance`` test helper
(PROCESSORS.md 1.3, S-CASH).

Funding a cash balance records a ``customer_cash_balance_transaction`` of type ``funded`` (``net_amount`` > 0,
cumulative ``ending_balance``) and emits ``customer_cash_balance_transaction.created`` and then
``cash_balance.funds_available`` (PROCESSORS.md 1.4, 1.9.5). The fake has no invoices to reconcile cash
against, so under automatic reconciliation the whole amount is left over and ``funds_available`` fires; under
manual reconciliation it fires for any new funds, as Stripe documents.

Funding instructions answer ``bank_transfer.type`` as requested, all five types included, although the
published object enum lists only ``eu_bank_transfer`` and ``jp_bank_transfer``: the spec marks that enum
``x-stripeBypassValidation`` and the SDKs type it open. The decision and its sources are stated with the
schema test that names this one exception (``tests/integration/fakes/test_stripe_schemas.py``).
"""

from __future__ import annotations

import hashlib

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import StripeApiError, no_such
from fakes.stripe.shapes import address
from fakes.stripe.state import Obj, StripeState, cash_balance_object

__all__ = ["cash_routes", "fund_cash_balance"]

# bank_transfer[type] -> (currency it funds, country) (stripe-ruby CustomerFundingInstructionsService).
_TRANSFER_TYPES = {
    "us_bank_transfer": ("usd", "US"),
    "eu_bank_transfer": ("eur", None),
    "gb_bank_transfer": ("gbp", "GB"),
    "jp_bank_transfer": ("jpy", "JP"),
    "mx_bank_transfer": ("mxn", "MX"),
}
_TYPE_FOR_CURRENCY = {currency: kind for kind, (currency, _) in _TRANSFER_TYPES.items()}


def fund_cash_balance(
    state: StripeState,
    customer_id: str,
    *,
    amount: int,
    currency: str,
    reference: str | None = None,
    request: dict[str, str | None] | None = None,
) -> Obj:
    """Simulate an incoming bank transfer: add ``amount`` to the customer's cash balance and emit events."""
    state.customer(customer_id)
    if amount <= 0:
        raise StripeApiError(
            400,
            "Invalid amount: must be a positive integer",
            code="parameter_invalid_integer",
            param="amount",
        )
    balance = cash_balance_object(state, customer_id)
    ending = balance["available"].get(currency, 0) + amount
    balance["available"][currency] = ending
    transfer_type = _TYPE_FOR_CURRENCY.get(currency, "us_bank_transfer")
    transaction: Obj = {
        "id": state.ids.new("ccsbtxn_"),
        "object": "customer_cash_balance_transaction",
        "created": state.now(),
        "currency": currency,
        "customer": customer_id,
        "ending_balance": ending,
        "funded": {
            "bank_transfer": {
                transfer_type: _sender(transfer_type),
                "reference": reference,
                "type": transfer_type,
            }
        },
        "livemode": False,
        "net_amount": amount,
        "type": "funded",
    }
    state.cash_transactions.setdefault(customer_id, {})[transaction["id"]] = transaction
    state.emit("customer_cash_balance_transaction.created", transaction, request=request)
    state.emit("cash_balance.funds_available", balance, request=request)
    return transaction


def _sender(transfer_type: str) -> Obj:
    if transfer_type == "eu_bank_transfer":
        # The shape of the S-CASH sample.
        return {"bic": "BANKDEAAXXX", "iban_last4": "7089", "sender_name": "Sample Business GmbH"}
    if transfer_type == "us_bank_transfer":
        return {"network": "ach", "sender_name": "Payharness Test Payer"}
    return {"sender_name": "Payharness Test Payer"}


def _retrieve_cash_balance(state: StripeState, call: Call) -> Obj:
    customer_id = call.path["customer"]
    state.customer(customer_id)
    return state.render(cash_balance_object(state, customer_id), call.params.only(()))


def _update_cash_balance(state: StripeState, call: Call) -> Obj:
    customer_id = call.path["customer"]
    state.customer(customer_id)
    p = call.params.only(("settings",))
    balance = cash_balance_object(state, customer_id)
    settings = p.nested("settings")
    if settings is not None:
        settings.only(("reconciliation_mode",))
        mode = settings.text(
            "reconciliation_mode", choices=("automatic", "manual", "merchant_default")
        )
        if mode == "merchant_default":
            balance["settings"] = {
                "reconciliation_mode": "automatic",
                "using_merchant_default": True,
            }
        elif mode is not None:
            balance["settings"] = {"reconciliation_mode": mode, "using_merchant_default": False}
    return state.render(balance, p)


def _transactions(state: StripeState, customer_id: str) -> dict[str, Obj]:
    state.customer(customer_id)
    return state.cash_transactions.get(customer_id, {})


def _list_cash_transactions(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before"))
    customer_id = call.path["customer"]
    return state.page(
        _transactions(state, customer_id).values(),
        p,
        f"/v1/customers/{customer_id}/cash_balance_transactions",
        kind="customer cash balance transaction",
    )


def _retrieve_cash_transaction(state: StripeState, call: Call) -> Obj:
    transaction_id = call.path["transaction"]
    transaction = _transactions(state, call.path["customer"]).get(transaction_id)
    if transaction is None:
        raise no_such("customer cash balance transaction", transaction_id)
    return state.render(transaction, call.params.only(()))


def _funding_instructions(state: StripeState, call: Call) -> Obj:
    customer_id = call.path["customer"]
    state.customer(customer_id)
    p = call.params.only(("bank_transfer", "currency", "funding_type"))
    p.text("funding_type", required=True, choices=("bank_transfer",))
    currency = p.currency()
    transfer = p.nested("bank_transfer", required=True)
    assert transfer is not None and currency is not None
    transfer.only(("type", "requested_address_types", "eu_bank_transfer"))
    kind = transfer.required_text("type", choices=tuple(_TRANSFER_TYPES))
    expected_currency, country = _TRANSFER_TYPES[kind]
    if currency != expected_currency:
        raise StripeApiError(
            400,
            f"{kind} funding instructions can only be created in {expected_currency}, not {currency}.",
            param="currency",
        )
    if kind == "eu_bank_transfer":
        eu = transfer.nested("eu_bank_transfer", required=True)
        assert eu is not None
        country = eu.required_text("country", choices=("BE", "DE", "ES", "FR", "IE", "NL"))
    key = (customer_id, kind, currency)
    # Create-or-retrieve: "we will return the same funding instructions each time" (PROCESSORS.md 1.3).
    instructions = state.funding_instructions.get(key)
    if instructions is None:
        instructions = state.funding_instructions[key] = {
            "object": "funding_instructions",
            "bank_transfer": {
                "country": country,
                "financial_addresses": [_address(kind, customer_id)],
                "type": kind,
            },
            "currency": currency,
            "funding_type": "bank_transfer",
            "livemode": False,
        }
    return instructions


_HOLDER_ADDRESS = {"us": "US", "eu": "DE", "gb": "GB", "jp": "JP", "mx": "MX"}


def _address(kind: str, customer_id: str) -> Obj:
    """One financial address, with the holder's and the bank's postal addresses Stripe includes."""
    found = _account(kind, customer_id)
    country = _HOLDER_ADDRESS.get(kind[:2], "US")
    found[found["type"]].update(
        account_holder_address=address(country, line1="354 Oyster Point Blvd"),
        bank_address=address(country, line1="1 Test Bank Street"),
    )
    return found


def _account(kind: str, customer_id: str) -> Obj:
    # Derived from the customer id, so the same customer always gets the same (fake) account.
    digits = str(int(hashlib.sha256(customer_id.encode()).hexdigest(), 16))[:12]
    if kind == "us_bank_transfer":
        return {
            "aba": {
                "account_holder_name": "Payharness Test Account",
                "account_number": digits,
                "account_type": "checking",
                "bank_name": "STRIPE TEST BANK",
                "routing_number": "110000000",
            },
            "supported_networks": ["ach", "domestic_wire_us"],
            "type": "aba",
        }
    if kind == "eu_bank_transfer":
        return {
            "iban": {
                "account_holder_name": "Payharness Test Account",
                "bic": "SXPYDEHH",
                "country": "DE",
                "iban": f"DE00{digits}0000000000"[:22],
            },
            "supported_networks": ["sepa"],
            "type": "iban",
        }
    if kind == "gb_bank_transfer":
        return {
            "sort_code": {
                "account_holder_name": "Payharness Test Account",
                "account_number": digits[:8],
                "sort_code": "040000",
            },
            "supported_networks": ["bacs", "fps"],
            "type": "sort_code",
        }
    if kind == "jp_bank_transfer":
        return {
            "zengin": {
                "account_holder_name": "Payharness Test Account",
                "account_number": digits[:7],
                "account_type": "futsu",
                "bank_code": "0000",
                "bank_name": "STRIPE TEST BANK",
                "branch_code": "000",
                "branch_name": "TEST BRANCH",
            },
            "supported_networks": ["zengin"],
            "type": "zengin",
        }
    return {
        "spei": {
            "account_holder_name": "Payharness Test Account",
            "bank_code": "000",
            "bank_name": "STRIPE TEST BANK",
            "clabe": f"000000{digits}",
        },
        "supported_networks": ["spei"],
        "type": "spei",
    }


def _fund(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("amount", "currency", "reference"))
    amount = p.required_integer("amount", minimum=1)
    currency = p.currency()
    assert currency is not None
    return fund_cash_balance(
        state,
        call.path["customer"],
        amount=amount,
        currency=currency,
        reference=p.text("reference", max_length=5000),
        request=call.event_request(),
    )


def cash_routes(state: StripeState) -> list[Route]:
    """Cash balance, its transactions, funding instructions and the funding test helper."""
    base = "/v1/customers/{customer}"
    return [
        api_route(
            state, "GET", base + "/cash_balance", "cash_balance.retrieve", _retrieve_cash_balance
        ),
        api_route(
            state, "POST", base + "/cash_balance", "cash_balance.update", _update_cash_balance
        ),
        api_route(
            state,
            "GET",
            base + "/cash_balance_transactions",
            "cash_balance_transactions.list",
            _list_cash_transactions,
        ),
        api_route(
            state,
            "GET",
            base + "/cash_balance_transactions/{transaction}",
            "cash_balance_transactions.retrieve",
            _retrieve_cash_transaction,
        ),
        api_route(
            state,
            "POST",
            base + "/funding_instructions",
            "funding_instructions.create",
            _funding_instructions,
        ),
        api_route(
            state,
            "POST",
            "/v1/test_helpers/customers/{customer}/fund_cash_balance",
            "test_helpers.fund_cash_balance",
            _fund,
        ),
    ]
