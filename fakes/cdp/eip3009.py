"""EIP-3009 ``TransferWithAuthorization``: the EIP-712 message an x402 payer signs, and its checks.

The facilitator recovers the signer of the typed data with eth-account and compares it with
``authorization.from``, exactly what ``transferWithAuthorization`` does on the USDC contract
(X402-V1 §7 "signature valid"). The types and domain fields are those of the x402 package
(x402/mechanisms/evm/types.py ``AUTHORIZATION_TYPES``/``DOMAIN_TYPES``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError as EthValidationError

__all__ = [
    "Authorization",
    "MalformedAuthorization",
    "TokenDomain",
    "recover_signer",
    "sign_authorization",
    "typed_data",
]

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE = re.compile(r"^0x[0-9a-fA-F]{64}$")
_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]+$")
_DECIMAL = re.compile(r"^[0-9]{1,78}$")
_UINT256_MAX = 2**256 - 1

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_AUTHORIZATION_FIELDS = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "validAfter", "type": "uint256"},
    {"name": "validBefore", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]


class MalformedAuthorization(ValueError):
    """An ``authorization`` object that is not a well-formed EIP-3009 authorization."""

    code = "invalid_payload"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenDomain:
    """The EIP-712 domain of a token contract (USDC: name "USDC", version "2" on Base Sepolia)."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorization:
    """A parsed EIP-3009 authorization. Addresses keep their checksummed form; the nonce is lowercase."""

    from_address: str
    to: str
    value_atomic: int
    valid_after: int
    valid_before: int
    nonce: str

    @classmethod
    def parse(cls, raw: object) -> Authorization:
        """Parse the wire form (all values strings, PROCESSORS.md 3.1) or raise MalformedAuthorization."""
        if not isinstance(raw, Mapping):
            raise MalformedAuthorization("authorization must be an object")
        return cls(
            from_address=_address(raw, "from"),
            to=_address(raw, "to"),
            value_atomic=_uint(raw, "value"),
            valid_after=_uint(raw, "validAfter"),
            valid_before=_uint(raw, "validBefore"),
            nonce=_nonce(raw),
        )

    def to_wire(self) -> dict[str, str]:
        """Return the wire form, every value a string, as x402 clients send it."""
        return {
            "from": self.from_address,
            "to": self.to,
            "value": str(self.value_atomic),
            "validAfter": str(self.valid_after),
            "validBefore": str(self.valid_before),
            "nonce": self.nonce,
        }


def typed_data(authorization: Authorization, domain: TokenDomain) -> dict[str, Any]:
    """Return the full EIP-712 typed-data document for ``authorization`` under ``domain``."""
    return {
        "types": {
            "EIP712Domain": _DOMAIN_FIELDS,
            "TransferWithAuthorization": _AUTHORIZATION_FIELDS,
        },
        "primaryType": "TransferWithAuthorization",
        "domain": {
            "name": domain.name,
            "version": domain.version,
            "chainId": domain.chain_id,
            "verifyingContract": to_checksum_address(domain.verifying_contract),
        },
        "message": {
            "from": authorization.from_address,
            "to": authorization.to,
            "value": authorization.value_atomic,
            "validAfter": authorization.valid_after,
            "validBefore": authorization.valid_before,
            "nonce": bytes.fromhex(authorization.nonce[2:]),
        },
    }


def recover_signer(authorization: Authorization, domain: TokenDomain, signature: str) -> str | None:
    """Return the checksummed address that signed ``authorization``, or ``None`` if unrecoverable.

    A signature that is not 65 bytes of hex, or whose (r, s, v) is not a valid secp256k1 signature,
    recovers nobody; the caller reports that as ``invalid_exact_evm_payload_signature``.
    """
    if not _SIGNATURE.match(signature) or len(signature) != 2 + 65 * 2:
        return None
    message = encode_typed_data(full_message=typed_data(authorization, domain))
    try:
        return str(Account.recover_message(message, signature=bytes.fromhex(signature[2:])))
    except (BadSignature, EthValidationError, ValueError, TypeError):
        # eth-keys raises BadSignature (not a ValueError) for an (r, s, v) off the curve, and its
        # ValidationError for out-of-range values: both mean "nobody signed this".
        return None


def sign_authorization(private_key: str, authorization: Authorization, domain: TokenDomain) -> str:
    """Sign ``authorization`` with ``private_key``; return the ``0x``-hex 65-byte signature.

    For tests and the control API; real payers sign with their own wallet (or the x402 client).
    """
    message = encode_typed_data(full_message=typed_data(authorization, domain))
    signed = Account.sign_message(message, private_key=private_key)
    return "0x" + bytes(signed.signature).hex()


def _address(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise MalformedAuthorization(f"authorization.{name} must be a 0x-prefixed 20-byte address")
    return str(to_checksum_address(value))


def _uint(raw: Mapping[str, object], name: str) -> int:
    value = raw.get(name)
    # The wire form is a decimal string; accept a JSON integer too (some clients send numbers),
    # but never a bool or float, which would silently change the amount.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MalformedAuthorization(f"authorization.{name} must be a decimal string")
    if isinstance(value, str) and not _DECIMAL.match(value):
        raise MalformedAuthorization(f"authorization.{name} must be a decimal string")
    number = int(value)
    if not 0 <= number <= _UINT256_MAX:
        raise MalformedAuthorization(f"authorization.{name} is out of uint256 range")
    return number


def _nonce(raw: Mapping[str, object]) -> str:
    value = raw.get("nonce")
    if not isinstance(value, str) or not _NONCE.match(value):
        raise MalformedAuthorization("authorization.nonce must be 0x-prefixed 32 bytes of hex")
    return value.lower()
