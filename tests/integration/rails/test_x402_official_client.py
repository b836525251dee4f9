"""The x402 package's own client signer pays a reference top-up through the fake facilitator."""

from __future__ import annotations

import base64
import json

from eth_account import Account
from rails_support import Stack
from x402.mechanisms.evm.exact.v1.client import ExactEvmSchemeV1
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequirementsV1


def test_a_payment_signed_by_the_x402_client_is_verified_settled_and_credited(stack: Stack) -> None:
    account = stack.new_account()
    topup = stack.client.post(
        "/v1/payments/topup/cdp", json={"account_id": account, "amount_micros": 750_000}
    ).json()
    requirements = PaymentRequirementsV1.model_validate(
        topup["details"]["payment_requirements"]["accepts"][0]
    )
    wallet = Account.from_key(stack.fakes["cdp"].config.funded_accounts[1].private_key)
    inner = ExactEvmSchemeV1(wallet).create_payment_payload(requirements)
    payload = PaymentPayloadV1(scheme="exact", network=requirements.network, payload=inner)
    header = base64.b64encode(
        json.dumps(payload.model_dump(by_alias=True, exclude_none=True)).encode()
    ).decode()

    r = stack.client.post(
        f"/v1/payments/topup/cdp/{topup['id']}/pay", headers={"X-PAYMENT": header}
    )

    assert r.status_code == 200, r.text
    receipt = json.loads(base64.b64decode(r.headers["X-PAYMENT-RESPONSE"]))
    assert receipt["success"] is True and receipt["payer"].lower() == wallet.address.lower()
    stack.drain("cdp")
    assert stack.account(account)["balance_micros"] == 750_000
    assert stack.fakes["cdp"].balance(wallet.address) == 1_000_000_000 - 750_000
