"""EIP-3009 signer recovery against eth-account's own typed-data signing (what x402's signer calls)."""

from __future__ import annotations

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.cdp import BASE_SEPOLIA_USDC, default_funded_accounts, derive_test_key
from fakes.cdp.eip3009 import (
    Authorization,
    MalformedAuthorization,
    TokenDomain,
    recover_signer,
    sign_authorization,
)

DOMAIN = TokenDomain(name="USDC", version="2", chain_id=84532, verifying_contract=BASE_SEPOLIA_USDC)
KEY = derive_test_key("eip3009-test", 0)
ACCOUNT = Account.from_key(KEY)


def authorization(**changes: object) -> Authorization:
    wire = {
        "from": ACCOUNT.address,
        "to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        "value": "10000",
        "validAfter": "1740672089",
        "validBefore": "1740672154",
        "nonce": "0x" + "0f" * 32,
    }
    return Authorization.parse(wire | changes)


def test_signature_made_the_way_the_x402_client_signs_recovers_the_payer() -> None:
    # x402's EthAccountSigner.sign_typed_data calls LocalAccount.sign_typed_data with these parts;
    # building them here by hand keeps the test independent of fakes.cdp.eip3009.typed_data.
    auth = authorization()
    signed = ACCOUNT.sign_typed_data(
        domain_data={
            "name": "USDC",
            "version": "2",
            "chainId": 84532,
            "verifyingContract": BASE_SEPOLIA_USDC,
        },
        message_types={
            "TransferWithAuthorization": [
                {"name": "from", "type": "address"},
                {"name": "to", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "validAfter", "type": "uint256"},
                {"name": "validBefore", "type": "uint256"},
                {"name": "nonce", "type": "bytes32"},
            ]
        },
        message_data={
            "from": auth.from_address,
            "to": auth.to,
            "value": 10000,
            "validAfter": 1740672089,
            "validBefore": 1740672154,
            "nonce": bytes.fromhex("0f" * 32),
        },
    )
    signature = "0x" + bytes(signed.signature).hex()
    assert recover_signer(auth, DOMAIN, signature) == ACCOUNT.address
    assert sign_authorization(KEY, auth, DOMAIN) == signature


@pytest.mark.parametrize(
    "other_domain",
    [
        TokenDomain(name="USDC", version="2", chain_id=8453, verifying_contract=BASE_SEPOLIA_USDC),
        TokenDomain(
            name="USD Coin", version="2", chain_id=84532, verifying_contract=BASE_SEPOLIA_USDC
        ),
        TokenDomain(name="USDC", version="2", chain_id=84532, verifying_contract="0x" + "33" * 20),
    ],
)
def test_signature_does_not_recover_the_payer_under_another_domain(
    other_domain: TokenDomain,
) -> None:
    signature = sign_authorization(KEY, authorization(), DOMAIN)
    assert recover_signer(authorization(), other_domain, signature) != ACCOUNT.address


@pytest.mark.parametrize(
    "signature", ["", "0x", "0x1234", "0x" + "zz" * 65, "0x" + "00" * 65, "0x" + "ff" * 65]
)
def test_garbage_signature_recovers_nobody(signature: str) -> None:
    assert recover_signer(authorization(), DOMAIN, signature) is None


@settings(max_examples=60, deadline=None)
@given(raw=st.binary(min_size=65, max_size=65))
def test_any_65_bytes_recover_someone_else_or_nobody_and_never_raise(raw: bytes) -> None:
    assert recover_signer(authorization(), DOMAIN, "0x" + raw.hex()) != ACCOUNT.address


@pytest.mark.parametrize(
    "changes",
    [
        {"from": "0x1234"},
        {"to": None},
        {"value": "-1"},
        {"value": "1.5"},
        {"value": True},
        {"validBefore": "2" * 80},
        {"nonce": "0x1234"},
    ],
)
def test_malformed_authorization_is_refused_as_invalid_payload(changes: dict[str, object]) -> None:
    with pytest.raises(MalformedAuthorization) as caught:
        authorization(**changes)
    assert caught.value.code == "invalid_payload"


def test_default_funded_accounts_are_deterministic_and_distinct() -> None:
    first, second = default_funded_accounts(), default_funded_accounts()
    assert [a.address for a in first] == [a.address for a in second]
    assert len({a.address for a in first}) == 3
    assert all(a.balance_atomic == 1_000_000_000 for a in first)
