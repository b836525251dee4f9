"""An independent model of the payments contract, and the stateful suite's driver built on it.

The model (:mod:`.wallet`, :mod:`.answers`, :mod:`.events`, :mod:`.payments`) is pure Python over integer
micro-USD: it imports nothing of `harness.reference`, nothing of HTTP, and is written from DESIGN.md's money
rules and `contracts/payments.openapi.json`. For any sequence of operations it predicts each answer's status
and error code, every wallet's ledger, balance and lifetime paid, and every plan tier.

:mod:`.machine` and :mod:`.rails` (the rules), :mod:`.kinds` (what is generated) and :mod:`.observe` (requests
noted as curl lines, comparisons) drive a target with hypothesis and compare it with the model after every
step; they are the only modules here that talk HTTP.
"""

from __future__ import annotations

from .answers import Answer, Clamp, charge_for
from .payments import PaymentsModel
from .wallet import Entry, Wallet

__all__ = ["Answer", "Clamp", "Entry", "PaymentsModel", "Wallet", "charge_for"]
