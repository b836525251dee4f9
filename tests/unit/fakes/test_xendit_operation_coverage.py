"""Every operation xendit-python 7 can call has a route in the fake Xendit (matched by method and
path, path parameters as wildcards)."""

from __future__ import annotations

import re

import xendit
from xendit.apis import (
    BalanceApi,
    CustomerApi,
    InvoiceApi,
    PaymentMethodApi,
    PaymentRequestApi,
    PayoutApi,
    RefundApi,
    TransactionApi,
)

from fakes.xendit import create_app

APIS = (
    BalanceApi,
    CustomerApi,
    InvoiceApi,
    PaymentMethodApi,
    PaymentRequestApi,
    PayoutApi,
    RefundApi,
    TransactionApi,
)


def sdk_operations() -> set[tuple[str, str, str]]:
    """``(operation_id, method, path with {} for parameters)`` of every SDK endpoint."""
    client = xendit.ApiClient(configuration=xendit.Configuration(api_key="x"))
    found = set()
    for api_class in APIS:
        api = api_class(client)
        for value in vars(api).values():
            settings = getattr(value, "settings", None)
            if isinstance(settings, dict) and "endpoint_path" in settings:
                path = re.sub(r"\{[^}]+\}", "{}", settings["endpoint_path"].rstrip("/"))
                found.add((settings["operation_id"], settings["http_method"], path))
    return found


def test_the_sdk_has_36_operations_and_the_fake_serves_every_one() -> None:
    operations = sdk_operations()
    routes = {
        (route.method, re.sub(r"\{[^}]+\}", "{}", route.template.rstrip("/")))
        for route in create_app().routes
    }
    missing = sorted(op for op, method, path in operations if (method, path) not in routes)
    assert (len(operations), missing) == (36, [])
