"""Payment methods, payment requests, refunds, payouts, transactions and customer lookup of the fake
Xendit, driven through xendit-python 7's own API classes on a loopback port.

The SDK deserialises every answer into its generated models with type checking on (required fields,
types, enums), so each call here is also a check of the response against the SDK's schema; callbacks
are deserialised with the SDK's callback models (``PaymentCallback``, ``RefundCallback``,
``PaymentMethodCallback``) the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import xendit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
from xendit.customer.model.customer_request import CustomerRequest
from xendit.customer.model.individual_detail import IndividualDetail
from xendit.customer.model.patch_customer import PatchCustomer
from xendit.exceptions import XenditSdkException
from xendit.invoice.model.create_invoice_request import CreateInvoiceRequest
from xendit.model_utils import validate_and_convert_types
from xendit.payment_method.model.e_wallet_channel_code import EWalletChannelCode
from xendit.payment_method.model.e_wallet_parameters import EWalletParameters
from xendit.payment_method.model.payment_method_auth_parameters import PaymentMethodAuthParameters
from xendit.payment_method.model.payment_method_callback import PaymentMethodCallback
from xendit.payment_method.model.payment_method_parameters import (
    PaymentMethodParameters as MethodParameters,
)
from xendit.payment_method.model.payment_method_reusability import (
    PaymentMethodReusability as MethodReusability,
)
from xendit.payment_method.model.payment_method_type import PaymentMethodType as MethodType
from xendit.payment_method.model.payment_method_update_parameters import (
    PaymentMethodUpdateParameters,
)
from xendit.payment_method.model.qr_code_channel_code import QRCodeChannelCode
from xendit.payment_method.model.qr_code_parameters import QRCodeParameters
from xendit.payment_method.model.simulate_payment_request import SimulatePaymentRequest
from xendit.payment_request.model.capture_parameters import CaptureParameters
from xendit.payment_request.model.e_wallet_channel_code import (
    EWalletChannelCode as EWalletChannelCodeForRequest,
)
from xendit.payment_request.model.e_wallet_parameters import (
    EWalletParameters as EWalletParametersForRequest,
)
from xendit.payment_request.model.payment_callback import PaymentCallback
from xendit.payment_request.model.payment_method_parameters import PaymentMethodParameters
from xendit.payment_request.model.payment_method_reusability import PaymentMethodReusability
from xendit.payment_request.model.payment_method_type import PaymentMethodType
from xendit.payment_request.model.payment_request_auth_parameters import (
    PaymentRequestAuthParameters,
)
from xendit.payment_request.model.payment_request_capture_method import (
    PaymentRequestCaptureMethod,
)
from xendit.payment_request.model.payment_request_currency import PaymentRequestCurrency
from xendit.payment_request.model.payment_request_parameters import PaymentRequestParameters
from xendit.payment_request.model.virtual_account_channel_code import VirtualAccountChannelCode
from xendit.payment_request.model.virtual_account_channel_properties import (
    VirtualAccountChannelProperties,
)
from xendit.payment_request.model.virtual_account_parameters import VirtualAccountParameters
from xendit.payout.model.create_payout_request import CreatePayoutRequest
from xendit.payout.model.digital_payout_channel_properties import DigitalPayoutChannelProperties
from xendit.refund.model.create_refund import CreateRefund
from xendit.refund.model.refund_callback import RefundCallback

from fakes._common import LoopbackServer
from fakes.xendit import XenditConfig, XenditFakeApp, create_app

pytestmark = pytest.mark.integration

KEY = "xnd_development_payharness_test"


class Receiver:
    """A callback endpoint that records each POST body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.tokens: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.tokens.append(headers.get("x-callback-token", ""))
        self.bodies.append(json.loads(body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[XenditFakeApp, str, Receiver]]:
    receiver = Receiver()
    with LoopbackServer(receiver) as receiver_server:
        app = create_app(
            XenditConfig(
                webhook_urls=(f"{receiver_server.base_url}/cb",),
                currencies=("IDR", "PHP", "USD"),
                initial_balances=(("IDR", 1_000_000),),
                time_scale=0.001,
            )
        )
        with LoopbackServer(app) as server:
            yield app, server.base_url, receiver


@pytest.fixture
def fake(served: tuple[XenditFakeApp, str, Receiver]) -> tuple[XenditFakeApp, Receiver]:
    served[0].reset()
    served[2].bodies.clear()
    served[2].tokens.clear()
    return served[0], served[2]


@pytest.fixture
def client(served: tuple[XenditFakeApp, str, Receiver]) -> xendit.ApiClient:
    return xendit.ApiClient(configuration=xendit.Configuration(host=served[1], api_key=KEY))


def callbacks(app: XenditFakeApp, receiver: Receiver) -> list[dict[str, Any]]:
    app.webhooks.drain_blocking()
    assert set(receiver.tokens) <= {app.config.callback_token}
    return receiver.bodies


def as_model(model: Any, body: dict[str, Any]) -> Any:
    """``body`` deserialised into the SDK ``model`` with the SDK's own type checking."""
    return validate_and_convert_types(
        body, (model,), ["callback"], True, True, configuration=xendit.Configuration()
    )


def va_request(amount: float = 50_000, **extra: Any) -> PaymentRequestParameters:
    return PaymentRequestParameters(
        currency=PaymentRequestCurrency("IDR"),
        amount=float(amount),
        reference_id=extra.pop("reference_id", "order-1"),
        payment_method=PaymentMethodParameters(
            type=PaymentMethodType("VIRTUAL_ACCOUNT"),
            reusability=PaymentMethodReusability("ONE_TIME_USE"),
            virtual_account=VirtualAccountParameters(
                channel_code=VirtualAccountChannelCode("BCA"),
                channel_properties=VirtualAccountChannelProperties(customer_name="Ada"),
            ),
        ),
        **extra,
    )


def paid_request(client: xendit.ApiClient, amount: float = 50_000) -> Any:
    api = PaymentRequestApi(client)
    created = api.create_payment_request(
        idempotency_key=f"pr-{amount}", payment_request_parameters=va_request(amount)
    )
    api.simulate_payment_request_payment(created.id)
    return api.get_payment_request_by_id(created.id)


def test_a_virtual_account_payment_request_is_pending_until_paid_then_succeeds_and_credits(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, receiver = fake
    api = PaymentRequestApi(client)
    created = api.create_payment_request(payment_request_parameters=va_request())
    assert (str(created.status), created.amount, str(created.currency)) == (
        "PENDING",
        50_000,
        "IDR",
    )
    simulated = api.simulate_payment_request_payment(created.id)
    assert simulated.status == "PENDING"
    read = api.get_payment_request_by_id(created.id)
    assert str(read.status) == "SUCCEEDED"
    assert BalanceApi(client).get_balance(currency="IDR").balance == 1_050_000
    [event] = callbacks(app, receiver)
    callback = as_model(PaymentCallback, event)
    assert (callback.event, callback.data.payment_request_id, callback.data.status) == (
        "payment.succeeded",
        created.id,
        "SUCCEEDED",
    )


def test_payment_requests_are_listed_newest_first_and_filtered_by_reference(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    api = PaymentRequestApi(client)
    ids = [
        api.create_payment_request(
            payment_request_parameters=va_request(reference_id=f"order-{n}")
        ).id
        for n in range(3)
    ]
    listed = api.get_all_payment_requests()
    assert [r.id for r in listed.data] == ids[::-1]
    assert listed.has_more is False
    one = api.get_all_payment_requests(reference_id=["order-1"])
    assert [r.id for r in one.data] == [ids[1]]
    page = api.get_all_payment_requests(limit=2)
    assert ([r.id for r in page.data], page.has_more) == (ids[:0:-1], True)


def test_a_create_retried_with_the_same_idempotency_key_makes_one_request(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    api = PaymentRequestApi(client)
    first = api.create_payment_request(
        idempotency_key="k1", payment_request_parameters=va_request()
    )
    again = api.create_payment_request(
        idempotency_key="k1", payment_request_parameters=va_request()
    )
    assert first.id == again.id
    assert len(api.get_all_payment_requests().data) == 1
    with pytest.raises(XenditSdkException) as caught:
        api.create_payment_request(
            idempotency_key="k1", payment_request_parameters=va_request(amount=1)
        )
    assert caught.value.errorCode == "DUPLICATE_ERROR"


def test_a_manual_capture_waits_for_capture_and_captures_part(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, receiver = fake
    api = PaymentRequestApi(client)
    created = api.create_payment_request(
        payment_request_parameters=va_request(capture_method=PaymentRequestCaptureMethod("MANUAL"))
    )
    api.simulate_payment_request_payment(created.id)
    assert str(api.get_payment_request_by_id(created.id).status) == "AWAITING_CAPTURE"
    capture = api.capture_payment_request(
        created.id, capture_parameters=CaptureParameters(capture_amount=20_000.0)
    )
    assert (capture.captured_amount, capture.authorized_amount) == (20_000, 50_000)
    assert [c.id for c in api.get_payment_request_captures(created.id).data.value] == [capture.id]
    assert str(api.get_payment_request_by_id(created.id).status) == "SUCCEEDED"
    events = [e["event"] for e in callbacks(app, receiver)]
    assert events == ["payment.awaiting_capture", "payment.succeeded"]
    assert BalanceApi(client).get_balance(currency="IDR").balance == 1_020_000


def test_a_declined_payment_fails_with_payment_failed(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, receiver = fake
    created = PaymentRequestApi(client).create_payment_request(
        payment_request_parameters=va_request()
    )
    failed = app.processor.products.send(
        app.processor.products.requests.fail(created.id, "EXPIRED")
    )
    assert (failed["status"], failed["failure_code"]) == ("FAILED", "EXPIRED")
    [event] = callbacks(app, receiver)
    assert as_model(PaymentCallback, event).data.status == "FAILED"


def test_a_linked_ewallet_is_authorized_then_charged_at_once_by_id(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, receiver = fake
    methods = PaymentMethodApi(client)
    method = methods.create_payment_method(
        payment_method_parameters=MethodParameters(
            type=MethodType("EWALLET"),
            reusability=MethodReusability("MULTIPLE_USE"),
            country="ID",
            ewallet=EWalletParameters(channel_code=EWalletChannelCode("OVO")),
        )
    )
    assert (str(method.status), method.actions[0].action) == ("REQUIRES_ACTION", "AUTH")
    active = methods.auth_payment_method(
        method.id, payment_method_auth_parameters=PaymentMethodAuthParameters(auth_code="123456")
    )
    assert str(active.status) == "ACTIVE"
    charged = PaymentRequestApi(client).create_payment_request(
        payment_request_parameters=PaymentRequestParameters(
            currency=PaymentRequestCurrency("IDR"), amount=15_000.0, payment_method_id=method.id
        )
    )
    assert str(charged.status) == "SUCCEEDED"
    events = callbacks(app, receiver)
    assert [e["event"] for e in events] == ["payment_method.activated", "payment.succeeded"]
    assert as_model(PaymentMethodCallback, events[0]).data.id == method.id


def test_a_one_time_ewallet_payment_waits_for_the_customer_then_succeeds_on_auth(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, receiver = fake
    api = PaymentRequestApi(client)
    created = api.create_payment_request(
        payment_request_parameters=PaymentRequestParameters(
            currency=PaymentRequestCurrency("IDR"),
            amount=25_000.0,
            payment_method=PaymentMethodParameters(
                type=PaymentMethodType("EWALLET"),
                reusability=PaymentMethodReusability("ONE_TIME_USE"),
                ewallet=EWalletParametersForRequest(
                    channel_code=EWalletChannelCodeForRequest("DANA")
                ),
            ),
        )
    )
    assert (str(created.status), created.actions[0].action) == ("REQUIRES_ACTION", "AUTH")
    assert api.resend_payment_request_auth(created.id).id == created.id
    approved = api.authorize_payment_request(
        created.id,
        payment_request_auth_parameters=PaymentRequestAuthParameters(auth_code="123456"),
    )
    assert (str(approved.status), approved.actions) == ("SUCCEEDED", [])
    assert [e["event"] for e in callbacks(app, receiver)] == ["payment.succeeded"]


def test_a_payment_simulated_into_a_qr_code_method_is_listed_under_that_method(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, receiver = fake
    methods = PaymentMethodApi(client)
    method = methods.create_payment_method(
        payment_method_parameters=MethodParameters(
            type=MethodType("QR_CODE"),
            reusability=MethodReusability("MULTIPLE_USE"),
            qr_code=QRCodeParameters(channel_code=QRCodeChannelCode("QRIS")),
        )
    )
    assert str(method.status) == "ACTIVE"
    methods.simulate_payment(
        method.id, simulate_payment_request=SimulatePaymentRequest(amount=12_000.0)
    )
    payments = methods.get_payments_by_payment_method_id(method.id)
    assert [(p["status"], p["amount"]) for p in payments["data"]] == [("SUCCEEDED", 12_000)]
    assert BalanceApi(client).get_balance(currency="IDR").balance == 1_012_000
    events = [e["event"] for e in callbacks(app, receiver)]
    assert events == ["payment_method.activated", "payment.succeeded"]


def test_payment_methods_are_listed_updated_and_expired(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, receiver = fake
    methods = PaymentMethodApi(client)
    created = [
        methods.create_payment_method(
            payment_method_parameters=MethodParameters(
                type=MethodType("EWALLET"),
                reusability=MethodReusability("ONE_TIME_USE"),
                ewallet=EWalletParameters(channel_code=EWalletChannelCode(code)),
                reference_id=f"pm-{code}",
            )
        )
        for code in ("OVO", "DANA")
    ]
    assert [m.id for m in methods.get_all_payment_methods().data] == [m.id for m in created[::-1]]
    assert [m.id for m in methods.get_all_payment_methods(reference_id="pm-OVO").data] == [
        created[0].id
    ]
    updated = methods.patch_payment_method(
        created[0].id,
        payment_method_update_parameters=PaymentMethodUpdateParameters(description="primary"),
    )
    assert updated.description == "primary"
    expired = methods.expire_payment_method(created[0].id)
    assert str(expired.status) == "EXPIRED"
    assert str(methods.get_payment_method_by_id(created[0].id).status) == "EXPIRED"
    assert [e["event"] for e in callbacks(app, receiver)][-1] == "payment_method.expired"


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(st.integers(min_value=1, max_value=30_000), min_size=1, max_size=4))
def test_refunds_never_exceed_the_payment_and_each_debits_the_balance(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient, parts: list[int]
) -> None:
    app, _ = fake
    app.reset()
    paid = paid_request(client, 50_000)
    refunds = RefundApi(client)
    refunded = 0
    for part in parts:
        if refunded + part <= 50_000:
            refund = refunds.create_refund(
                create_refund=CreateRefund(payment_request_id=paid.id, amount=float(part))
            )
            assert (refund.amount, refund.payment_request_id) == (part, paid.id)
            refunded += part
        else:
            with pytest.raises(XenditSdkException) as caught:
                refunds.create_refund(
                    create_refund=CreateRefund(payment_request_id=paid.id, amount=float(part))
                )
            assert caught.value.errorCode == "MAXIMUM_REFUND_AMOUNT_REACHED"
    assert BalanceApi(client).get_balance(currency="IDR").balance == 1_050_000 - refunded
    listed = refunds.get_all_refunds(payment_request_id=paid.id)
    assert sum(r.amount for r in listed.data) == refunded


def test_a_refund_is_read_back_and_its_callback_is_the_sdk_refund_callback(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, receiver = fake
    paid = paid_request(client)
    refunds = RefundApi(client)
    refund = refunds.create_refund(create_refund=CreateRefund(payment_request_id=paid.id))
    assert refunds.get_refund(refund.id).amount == 50_000
    with pytest.raises(XenditSdkException) as caught:
        refunds.cancel_refund(refund.id)
    assert str(caught.value.status) == "400"
    event = callbacks(app, receiver)[-1]
    callback = as_model(RefundCallback, event)
    assert (callback.event, callback.data.id, callback.data.status) == (
        "refund.succeeded",
        refund.id,
        "SUCCEEDED",
    )


def payout_request(amount: float, reference_id: str = "payout-1") -> CreatePayoutRequest:
    return CreatePayoutRequest(
        reference_id=reference_id,
        channel_code="ID_BCA",
        channel_properties=DigitalPayoutChannelProperties(
            account_number="000000", account_holder_name="Ada"
        ),
        amount=float(amount),
        currency="IDR",
    )


def test_a_payout_debits_the_balance_and_a_cancelled_one_gives_it_back(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    payouts = PayoutApi(client)
    payout = payouts.create_payout(
        idempotency_key="p1", create_payout_request=payout_request(300_000)
    )
    assert (payout.status, payout.amount) == ("ACCEPTED", 300_000)
    assert BalanceApi(client).get_balance(currency="IDR").balance == 700_000
    assert payouts.get_payout_by_id(payout.id).id == payout.id
    assert [p.id for p in payouts.get_payouts(reference_id="payout-1").data] == [payout.id]
    cancelled = payouts.cancel_payout(payout.id)
    assert cancelled.status == "CANCELLED"
    assert BalanceApi(client).get_balance(currency="IDR").balance == 1_000_000
    channels = payouts.get_payout_channels(currency="IDR")
    assert "ID_BCA" in [c.channel_code for c in channels]


def test_a_payout_above_the_balance_is_refused_and_moves_nothing(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    with pytest.raises(XenditSdkException) as caught:
        PayoutApi(client).create_payout(
            idempotency_key="p2", create_payout_request=payout_request(2_000_000)
        )
    assert caught.value.errorCode == "INSUFFICIENT_BALANCE"
    assert BalanceApi(client).get_balance(currency="IDR").balance == 1_000_000
    assert TransactionApi(client).get_all_transactions().data == []


def test_a_completed_payout_sends_payout_succeeded(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, receiver = fake
    payout = PayoutApi(client).create_payout(
        idempotency_key="p3", create_payout_request=payout_request(10_000)
    )
    app.processor.products.send(
        app.processor.products.payouts.complete(
            payout.id, succeeded=True, failure_code="TRANSFER_ERROR"
        )
    )
    [event] = callbacks(app, receiver)
    assert (event["event"], event["data"]["id"], event["data"]["status"]) == (
        "payout.succeeded",
        payout.id,
        "SUCCEEDED",
    )


def test_transactions_list_every_money_movement_newest_first(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    paid = paid_request(client, 40_000)
    RefundApi(client).create_refund(
        create_refund=CreateRefund(payment_request_id=paid.id, amount=5_000.0)
    )
    PayoutApi(client).create_payout(
        idempotency_key="p4", create_payout_request=payout_request(1_000)
    )
    api = TransactionApi(client)
    listed = api.get_all_transactions()
    assert [(str(t.type.value), t.amount, t.cashflow) for t in listed.data] == [
        ("DISBURSEMENT", 1_000, "MONEY_OUT"),
        ("REFUND", 5_000, "MONEY_OUT"),
        ("PAYMENT", 40_000, "MONEY_IN"),
    ]
    one = api.get_transaction_by_id(listed.data[-1].id.value)
    assert one.product_id == paid.id


def test_paid_invoices_and_recurring_cycles_are_transactions_too(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    app, _ = fake
    invoice = InvoiceApi(client).create_invoice(
        create_invoice_request=CreateInvoiceRequest(external_id="inv-1", amount=30_000.0)
    )
    app.pay_invoice(invoice.id)
    customer = CustomerApi(client).create_customer(
        customer_request=CustomerRequest(reference_id="acc-r", type="INDIVIDUAL")
    )
    plan = app.processor.recurring.create_plan(
        {
            "reference_id": "plan-r",
            "customer_id": customer.id,
            "recurring_action": "PAYMENT",
            "currency": "IDR",
            "amount": 20_000,
            "schedule": {"reference_id": "s", "interval": "MONTH"},
            "payment_methods": [{"payment_method_id": "pm-1", "rank": 1}],
        }
    )[0]
    cycle = app.charge_cycle(plan["id"])
    listed = TransactionApi(client).get_all_transactions()
    assert [(t.product_id, str(t.channel_category.value), t.amount) for t in listed.data] == [
        (cycle["id"], "OTHER", 20_000),
        (invoice.id, "INVOICE", 30_000),
    ]
    assert BalanceApi(client).get_balance(currency="IDR").balance == 1_050_000


def test_a_customer_is_found_by_reference_id_and_updated(
    fake: tuple[XenditFakeApp, Receiver], client: xendit.ApiClient
) -> None:
    api = CustomerApi(client)
    customer = api.create_customer(
        customer_request=CustomerRequest(
            reference_id="acc-9",
            type="INDIVIDUAL",
            individual_detail=IndividualDetail(given_names="Ada"),
        )
    )
    found = api.get_customer_by_reference_id("acc-9")
    assert [c.id for c in found.data] == [customer.id]
    assert api.get_customer_by_reference_id("nobody").data == []
    updated = api.update_customer(
        customer.id, patch_customer=PatchCustomer(email="ada@example.test", description="vip")
    )
    assert (updated.email, updated.description) == ("ada@example.test", "vip")
    assert api.get_customer(customer.id).email == "ada@example.test"
