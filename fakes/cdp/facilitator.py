"""The x402 facilitator state machine: verify, settle, supported (X402-V1 §7, "exact" scheme on EVM).

Verification follows the order of the x402 package's own EVM facilitator
(x402/mechanisms/evm/exact/v1/facilitator.py), with the reason strings of the x402 v1 spec
(PROCESSORS.md 3.1 "Error reasons"):

1. envelope and payload ``x402Version`` agree ............ ``invalid_x402_version``
2. payload scheme equals the requirements' scheme ......... ``invalid_scheme``;
   and it is ``exact`` .................................... ``unsupported_scheme``
3. payload network equals the requirements' network, and it is served here under the version's
   naming (v1 name such as ``base-sepolia``, v2 CAIP-2 such as ``eip155:84532``) ... ``invalid_network``
4. ``asset`` is the network's USDC contract ............... ``invalid_payment_requirements``
5. ``authorization.to`` equals ``payTo`` .................. ``invalid_exact_evm_payload_recipient_mismatch``
6. the authorized value against the required amount: v1 ``value`` >= ``maxAmountRequired`` (the
   x402 v1 spec's "amount >= required") ....................... ``invalid_exact_evm_payload_authorization_value``;
   v2 ``value`` == ``amount`` exactly, as the x402 package's v2 exact-EVM facilitator demands
   (x402/mechanisms/evm/exact/facilitator.py, ``ERR_AUTHORIZATION_VALUE_MISMATCH``): an over- or
   underpayment is refused with ``invalid_exact_evm_payload_authorization_value_mismatch``
7. ``validBefore`` >= now + buffer ........................ ``invalid_exact_evm_payload_authorization_valid_before``
8. ``validAfter`` <= now .................................. ``invalid_exact_evm_payload_authorization_valid_after``
9. the EIP-712 signature recovers ``authorization.from`` .. ``invalid_exact_evm_payload_signature``
10. the (from, nonce) pair was never settled .............. ``invalid_transaction_state``
11. the payer's balance covers ``value`` .................. ``insufficient_funds``

**Nonce replay, idempotent settle.** A nonce settles once per payer, as on the USDC contract
(``authorizationState(from, nonce)``). A settle whose request is byte-for-byte the same (same
payment payload and requirements, compared as canonical JSON) as one already settled returns the
original settlement response, same transaction hash, and moves no money again: a resource server that
lost the first response to a dropped connection can retry safely. Any *other* payload that reuses a
settled (from, nonce) is refused with ``invalid_transaction_state``; so is a verify of a settled one.

Transaction hashes are ``0x`` + sha256 of ``"{seed}:tx:{n}"``: deterministic per instance and seed.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_utils.crypto import keccak

from fakes.cdp.config import CdpConfig, NetworkInfo
from fakes.cdp.eip3009 import TokenDomain, recover_signer
from fakes.cdp.payloads import FacilitatorRequest
from fakes.cdp.wallets import InsufficientFunds, Wallets

__all__ = ["Facilitator", "Rejection", "SettleOutcome", "Settlement"]

EXACT = "exact"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """Why a payment is not valid: an x402 reason string and a human message."""

    reason: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """One settled transfer, as recorded by the fake chain."""

    transaction: str
    network: str
    payer: str
    pay_to: str
    value_atomic: int
    asset: str
    nonce: str
    settled_at: float
    x402_version: int
    fingerprint: str
    response: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready description (control API ``GET /_fake/settlements``)."""
        return {
            "transaction": self.transaction,
            "network": self.network,
            "payer": self.payer,
            "payTo": self.pay_to,
            "value": str(self.value_atomic),
            "asset": self.asset,
            "nonce": self.nonce,
            "settledAt": self.settled_at,
            "x402Version": self.x402_version,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SettleOutcome:
    """The body to answer a settle with; ``settlement`` is set only when money moved just now."""

    body: dict[str, Any]
    settlement: Settlement | None
    replayed: bool = False


class Facilitator:
    """Verifies and settles EIP-3009 payments against an in-memory chain (:class:`Wallets`)."""

    def __init__(self, config: CdpConfig, wallets: Wallets | None = None) -> None:
        self._config = config
        self.wallets = wallets if wallets is not None else Wallets(config.funded_accounts)
        self._lock = threading.Lock()
        self._settled: dict[tuple[str, str], Settlement] = {}
        self._order: list[Settlement] = []
        self._tx_counter = 0
        signer_key = "0x" + keccak(text=f"{config.seed}:facilitator").hex()
        self.signer_address = str(Account.from_key(signer_key).address)

    def reset(self) -> None:
        """Forget settlements and nonces and restore the configured balances."""
        with self._lock:
            self._settled.clear()
            self._order.clear()
            self._tx_counter = 0
        self.wallets.reset()

    def supported(self) -> dict[str, Any]:
        """Return the ``GET /supported`` body: each served network as a v1 and a v2 kind."""
        kinds: list[dict[str, Any]] = []
        for name in self._config.networks:
            info = self._network_info(name)
            kinds.append({"x402Version": 1, "scheme": EXACT, "network": info.v1_name})
            kinds.append({"x402Version": 2, "scheme": EXACT, "network": info.caip2})
        return {"kinds": kinds, "extensions": [], "signers": {"eip155:*": [self.signer_address]}}

    def settlements(self) -> list[Settlement]:
        """Return every settlement, oldest first."""
        with self._lock:
            return list(self._order)

    def verify(self, request: FacilitatorRequest) -> dict[str, Any]:
        """Return the ``POST /verify`` body for ``request``."""
        with self._lock:
            rejection = self._check(request)
        payer = request.authorization.from_address
        if rejection is not None:
            return {
                "isValid": False,
                "invalidReason": rejection.reason,
                "invalidMessage": rejection.message,
                "payer": payer,
            }
        return {"isValid": True, "payer": payer}

    def settle(self, request: FacilitatorRequest) -> SettleOutcome:
        """Verify and, if valid, move the funds; an identical retry replays the first answer."""
        authorization = request.authorization
        key = (authorization.from_address.lower(), authorization.nonce)
        with self._lock:
            previous = self._settled.get(key)
            if previous is not None and previous.fingerprint == request.fingerprint:
                return SettleOutcome(body=dict(previous.response), settlement=None, replayed=True)
            rejection = self._check(request)
            if rejection is None:
                try:
                    self.wallets.transfer(
                        authorization.from_address, authorization.to, authorization.value_atomic
                    )
                except InsufficientFunds as exc:  # pragma: no cover - _check saw the balance
                    rejection = Rejection(reason=exc.code, message=str(exc))
            if rejection is not None:
                return SettleOutcome(
                    body={
                        "success": False,
                        "errorReason": rejection.reason,
                        "errorMessage": rejection.message,
                        "payer": authorization.from_address,
                        "transaction": "",
                        "network": request.requirements.network,
                    },
                    settlement=None,
                )
            self._tx_counter += 1
            transaction = (
                "0x"
                + hashlib.sha256(f"{self._config.seed}:tx:{self._tx_counter}".encode()).hexdigest()
            )
            body: dict[str, Any] = {
                "success": True,
                "payer": authorization.from_address,
                "transaction": transaction,
                "network": request.requirements.network,
            }
            if request.x402_version == 2:
                # v2 SettleResponse carries the settled amount (x402/schemas/responses.py).
                body["amount"] = str(authorization.value_atomic)
            settlement = Settlement(
                transaction=transaction,
                network=request.requirements.network,
                payer=authorization.from_address,
                pay_to=authorization.to,
                value_atomic=authorization.value_atomic,
                asset=request.requirements.asset,
                nonce=authorization.nonce,
                settled_at=self._config.now(),
                x402_version=request.x402_version,
                fingerprint=request.fingerprint,
                response=body,
            )
            self._settled[key] = settlement
            self._order.append(settlement)
            return SettleOutcome(body=dict(body), settlement=settlement)

    def _check(self, request: FacilitatorRequest) -> Rejection | None:
        """Run the verification steps in order (module docstring); the caller holds the lock."""
        requirements = request.requirements
        authorization = request.authorization
        if request.payload_version != request.x402_version:
            return Rejection(
                reason="invalid_x402_version",
                message=f"paymentPayload.x402Version {request.payload_version} does not match "
                f"x402Version {request.x402_version}",
            )
        if request.scheme != requirements.scheme:
            return Rejection(
                reason="invalid_scheme",
                message=f"payload scheme {request.scheme!r} does not match requirements "
                f"scheme {requirements.scheme!r}",
            )
        if requirements.scheme != EXACT:
            return Rejection(
                reason="unsupported_scheme",
                message=f"only the {EXACT!r} scheme is supported",
            )
        network = self._served_network(request)
        if network is None:
            return Rejection(
                reason="invalid_network",
                message=f"network {request.network!r} (requirements: {requirements.network!r}) "
                f"is not served for x402 v{request.x402_version}; served: "
                f"{[kind['network'] for kind in self.supported()['kinds']]}",
            )
        if requirements.asset.lower() != network.usdc_address.lower():
            return Rejection(
                reason="invalid_payment_requirements",
                message=f"asset {requirements.asset} is not USDC on {network.v1_name} "
                f"({network.usdc_address})",
            )
        if authorization.to.lower() != requirements.pay_to.lower():
            return Rejection(
                reason="invalid_exact_evm_payload_recipient_mismatch",
                message=f"authorization.to {authorization.to} is not payTo {requirements.pay_to}",
            )
        if request.x402_version >= 2 and authorization.value_atomic != requirements.amount_atomic:
            return Rejection(
                reason="invalid_exact_evm_payload_authorization_value_mismatch",
                message=f"authorization.value {authorization.value_atomic} is not exactly the "
                f"required amount {requirements.amount_atomic} (x402 v2 exact scheme)",
            )
        if authorization.value_atomic < requirements.amount_atomic:
            return Rejection(
                reason="invalid_exact_evm_payload_authorization_value",
                message=f"authorization.value {authorization.value_atomic} is less than the "
                f"required {requirements.amount_atomic}",
            )
        now = self._config.now()
        if authorization.valid_before < now + self._config.valid_before_buffer_seconds:
            return Rejection(
                reason="invalid_exact_evm_payload_authorization_valid_before",
                message=f"authorization expired: validBefore {authorization.valid_before} is not "
                f"after now {int(now)} + {self._config.valid_before_buffer_seconds}s",
            )
        if authorization.valid_after > now:
            return Rejection(
                reason="invalid_exact_evm_payload_authorization_valid_after",
                message=f"authorization not yet valid: validAfter {authorization.valid_after} "
                f"is after now {int(now)}",
            )
        domain = TokenDomain(
            name=str(requirements.extra.get("name", network.token_name)),
            version=str(requirements.extra.get("version", network.token_version)),
            chain_id=network.chain_id,
            verifying_contract=network.usdc_address,
        )
        signer = recover_signer(authorization, domain, request.signature)
        if signer is None or signer.lower() != authorization.from_address.lower():
            return Rejection(
                reason="invalid_exact_evm_payload_signature",
                message="the EIP-712 TransferWithAuthorization signature does not recover "
                f"authorization.from {authorization.from_address}",
            )
        if (authorization.from_address.lower(), authorization.nonce) in self._settled:
            return Rejection(
                reason="invalid_transaction_state",
                message=f"nonce {authorization.nonce} of {authorization.from_address} "
                "was already used",
            )
        balance = self.wallets.balance(authorization.from_address)
        if balance < authorization.value_atomic:
            return Rejection(
                reason="insufficient_funds",
                message=f"{authorization.from_address} holds {balance} atomic units, "
                f"{authorization.value_atomic} needed",
            )
        return None

    def _served_network(self, request: FacilitatorRequest) -> NetworkInfo | None:
        """The served network both sides name, spelled as the request's version spells it."""
        if request.network != request.requirements.network:
            return None
        info = self._config.network(request.network)
        if info is None:
            return None
        expected = info.v1_name if request.x402_version == 1 else info.caip2
        return info if request.network == expected else None

    def _network_info(self, name: str) -> NetworkInfo:
        info = self._config.network(name)
        assert info is not None, name  # config validated its network names
        return info
