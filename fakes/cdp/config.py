"""Configuration of the fake CDP x402 facilitator: networks, funded test wallets, secrets, clock.

Everything has a deterministic default so ``create_app(CdpConfig())`` works with zero arguments and two
runs of the same test see the same wallets, transaction hashes and event ids.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from eth_account import Account
from eth_utils.crypto import keccak

__all__ = [
    "BASE_MAINNET_USDC",
    "BASE_SEPOLIA_USDC",
    "DEFAULT_FUNDED_BALANCE_ATOMIC",
    "KNOWN_NETWORKS",
    "CdpConfig",
    "FundedAccount",
    "NetworkInfo",
    "default_funded_accounts",
    "derive_test_key",
]

# USDC contract addresses (PROCESSORS.md 3.1 "USDC addresses and decimals"; the x402 package's
# x402/mechanisms/evm/default_assets.py lists the same two, with their EIP-712 domain names).
BASE_SEPOLIA_USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
BASE_MAINNET_USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"

#: 1,000 USDC in atomic units (USDC has 6 decimals, so one atomic unit is one micro-USD).
DEFAULT_FUNDED_BALANCE_ATOMIC = 1_000_000_000

_DEFAULT_KEY_SEED = "payharness-cdp"


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkInfo:
    """One EVM network the facilitator can settle on: its x402 v1 name, v2 CAIP-2 id and USDC token.

    ``token_name``/``token_version`` are the token's EIP-712 domain; payers sign against them and
    requirements advertise them in ``extra`` (PROCESSORS.md 3.1: ``{"name":"USDC","version":"2"}``).
    """

    v1_name: str
    chain_id: int
    usdc_address: str
    token_name: str
    token_version: str = "2"

    @property
    def caip2(self) -> str:
        """The x402 v2 network id, e.g. ``eip155:84532``."""
        return f"eip155:{self.chain_id}"


#: Networks the fake knows about, by v1 name. Only those named in ``CdpConfig.networks`` are served.
KNOWN_NETWORKS: dict[str, NetworkInfo] = {
    "base-sepolia": NetworkInfo(
        v1_name="base-sepolia", chain_id=84532, usdc_address=BASE_SEPOLIA_USDC, token_name="USDC"
    ),
    # Base mainnet's USDC signs with the domain name "USD Coin" (x402 default_assets.py).
    "base": NetworkInfo(
        v1_name="base", chain_id=8453, usdc_address=BASE_MAINNET_USDC, token_name="USD Coin"
    ),
}


def derive_test_key(seed: str, index: int) -> str:
    """Return a deterministic secp256k1 private key (``0x`` + 64 hex) for test wallet ``index``.

    Keys are ``keccak256(f"{seed}:wallet:{index}")``: public, reproducible, and worthless, which is
    exactly what a test fake wants. Never fund such a key on a real network.
    """
    return "0x" + keccak(text=f"{seed}:wallet:{index}").hex()


@dataclass(frozen=True, slots=True, kw_only=True)
class FundedAccount:
    """A test wallet that starts with ``balance_atomic`` USDC units in the fake's ledger."""

    private_key: str
    balance_atomic: int = DEFAULT_FUNDED_BALANCE_ATOMIC

    def __post_init__(self) -> None:
        if self.balance_atomic < 0:
            raise ValueError(f"balance_atomic must be >= 0, got {self.balance_atomic}")
        # Fail at construction, not at first request, on a key eth-account cannot load.
        Account.from_key(self.private_key)

    @property
    def address(self) -> str:
        """The checksummed address of this wallet."""
        return str(Account.from_key(self.private_key).address)


def default_funded_accounts(
    count: int = 3,
    *,
    balance_atomic: int = DEFAULT_FUNDED_BALANCE_ATOMIC,
    seed: str = _DEFAULT_KEY_SEED,
) -> tuple[FundedAccount, ...]:
    """Return ``count`` deterministic funded test wallets (keys from :func:`derive_test_key`)."""
    return tuple(
        FundedAccount(private_key=derive_test_key(seed, index), balance_atomic=balance_atomic)
        for index in range(count)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CdpConfig:
    """Settings of one fake CDP facilitator instance.

    * ``bearer_token``: when set, ``/verify``, ``/settle`` and ``/supported`` require
      ``Authorization: Bearer <token>`` (the real CDP facilitator wants a CDP API JWT; the fake
      accepts anything when this is ``None``, which is what the x402 client sends by default).
    * ``webhook_secret``: the Hook0 subscription secret used to sign ``X-Hook0-Signature``.
    * ``networks``: v1 names from :data:`KNOWN_NETWORKS` that ``/supported`` lists and that verify
      and settle accept (under their v1 name or CAIP-2 id).
    * ``valid_before_buffer_seconds``: an authorization whose ``validBefore`` is closer than this to
      ``now()`` is already expired. 6 s is what the x402 package's own EVM facilitator uses
      (x402/mechanisms/evm/exact/v1/facilitator.py: ``valid_before < now + 6``), so a payment does not
      expire while its settle transaction is in flight.
    * ``seed``: seeds transaction hashes, event ids and the facilitator's own signer address.
    """

    bearer_token: str | None = None
    webhook_secret: str = "cdp_whsec_payharness_test"
    funded_accounts: tuple[FundedAccount, ...] = field(default_factory=default_funded_accounts)
    networks: tuple[str, ...] = ("base-sepolia",)
    valid_before_buffer_seconds: int = 6
    seed: str = _DEFAULT_KEY_SEED
    now: Callable[[], float] = time.time
    time_scale: float = 1.0
    webhook_urls: tuple[str, ...] = ()
    delivery_transport: httpx.AsyncBaseTransport | None = None
    journal_size: int = 10_000

    def __post_init__(self) -> None:
        unknown = [name for name in self.networks if name not in KNOWN_NETWORKS]
        if unknown:
            raise ValueError(f"unknown networks {unknown}; known: {sorted(KNOWN_NETWORKS)}")
        if not self.networks:
            raise ValueError("networks must name at least one network")
        if self.valid_before_buffer_seconds < 0:
            raise ValueError("valid_before_buffer_seconds must be >= 0")
        if self.time_scale <= 0:
            raise ValueError("time_scale must be > 0")

    def network(self, name: str) -> NetworkInfo | None:
        """Return the served network called ``name`` (v1 name or CAIP-2 id), or ``None``."""
        for v1_name in self.networks:
            info = KNOWN_NETWORKS[v1_name]
            if name in (info.v1_name, info.caip2):
                return info
        return None
