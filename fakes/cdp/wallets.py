"""USDC balances held by the fake chain: funded test wallets, recipients, transfers.

Balances are integers of atomic USDC units (1 unit = 1e-6 USDC = one micro-USD). Addresses are
compared case-insensitively, as EVM addresses are, and reported checksummed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from eth_utils.address import to_checksum_address

from fakes.cdp.config import FundedAccount

__all__ = ["InsufficientFunds", "Wallets"]


class InsufficientFunds(ValueError):
    """A transfer larger than the sender's balance (x402 reason ``insufficient_funds``)."""

    code = "insufficient_funds"


class Wallets:
    """A thread-safe ledger of token balances, seeded from funded test accounts.

    The lock matters: the fake serves requests on a uvicorn thread while a test funds a wallet or
    reads balances from its own thread.
    """

    def __init__(self, funded: Iterable[FundedAccount] = ()) -> None:
        self._funded = tuple(funded)
        self._lock = threading.Lock()
        self._balances: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """Forget every transfer: funded accounts hold their configured balance, others zero."""
        with self._lock:
            self._balances = {}
            for account in self._funded:
                key = account.address.lower()
                self._balances[key] = self._balances.get(key, 0) + account.balance_atomic

    def balance(self, address: str) -> int:
        """Return the balance of ``address`` in atomic units (zero for an unknown address)."""
        with self._lock:
            return self._balances.get(address.lower(), 0)

    def fund(self, address: str, amount_atomic: int) -> int:
        """Mint ``amount_atomic`` to ``address`` (a faucet); return the new balance."""
        if amount_atomic <= 0:
            raise ValueError(f"amount_atomic must be > 0, got {amount_atomic}")
        key = to_checksum_address(address).lower()
        with self._lock:
            self._balances[key] = self._balances.get(key, 0) + amount_atomic
            return self._balances[key]

    def transfer(self, sender: str, recipient: str, amount_atomic: int) -> None:
        """Move ``amount_atomic`` from ``sender`` to ``recipient`` atomically, or raise.

        Raises InsufficientFunds when the sender holds less than ``amount_atomic``; nothing moves.
        """
        if amount_atomic < 0:
            raise ValueError(f"amount_atomic must be >= 0, got {amount_atomic}")
        source, target = sender.lower(), recipient.lower()
        with self._lock:
            held = self._balances.get(source, 0)
            if held < amount_atomic:
                raise InsufficientFunds(
                    f"{sender} holds {held} atomic units, {amount_atomic} needed"
                )
            self._balances[source] = held - amount_atomic
            self._balances[target] = self._balances.get(target, 0) + amount_atomic

    def snapshot(self) -> dict[str, int]:
        """Return every known balance, keyed by checksummed address."""
        with self._lock:
            return {
                str(to_checksum_address(address)): amount
                for address, amount in sorted(self._balances.items())
            }
