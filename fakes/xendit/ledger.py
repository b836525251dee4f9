"""The account's money movements as Xendit Transactions (``GET /transactions``, ``GET /transactions/{id}``).

Every movement the fake makes (a paid invoice, a succeeded payment request, a recurring cycle, a refund,
a payout) is one transaction here and one change of the CASH balance, so the balance always equals the
sum of the ledger plus the configured opening balances (a cancelled or failed payout gives its money
back without a transaction of its own: the fake's simplification). Shape: xendit-python's ``TransactionResponse``
(``id`` ``txn_<uuid>``, ``product_id`` = the paying object's id, ``type`` PAYMENT/REFUND/DISBURSEMENT,
``status`` SUCCESS, ``channel_category``, ``channel_code``, ``account_identifier``, ``reference_id``,
``currency``, ``amount``, ``cashflow`` MONEY_IN/MONEY_OUT, ``business_id``, ``fee`` with zero fees,
``created``, ``updated``, ``settlement_status`` SETTLED). Fees are zero: Xendit's fee schedule is not
modelled (the fake's choice). Listing: newest first, filters ``types``, ``statuses``,
``channel_categories``, ``reference_id``, ``product_id``, ``currency``; pagination by ``limit`` (default 10)
and ``after_id``/``before_id`` (``has_more``, ``links``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from fakes.xendit.amounts import from_minor
from fakes.xendit.balances import Balances
from fakes.xendit.config import XenditConfig
from fakes.xendit.errors import XenditApiError
from fakes.xendit.ids import IdFactory, isoformat
from fakes.xendit.paging import page

__all__ = ["Ledger"]

_FILTERS = {
    "types": "type",
    "statuses": "status",
    "channel_categories": "channel_category",
    "reference_id": "reference_id",
    "product_id": "product_id",
    "currency": "currency",
}


class Ledger:
    """Transactions of one fake account, newest last in storage (thread-safe)."""

    def __init__(self, config: XenditConfig, ids: IdFactory, balances: Balances) -> None:
        self._config = config
        self._ids = ids
        self._balances = balances
        self._lock = threading.Lock()
        self._transactions: list[dict[str, Any]] = []

    def reset(self) -> None:
        """Forget every transaction."""
        with self._lock:
            self._transactions.clear()

    def record(
        self,
        *,
        kind: str,
        product_id: str,
        reference_id: str,
        currency: str,
        amount_minor: int,
        channel_category: str,
        channel_code: str | None = None,
        account_identifier: str | None = None,
        move_money: bool = True,
    ) -> dict[str, Any]:
        """Move ``amount_minor`` in (PAYMENT) or out (REFUND, DISBURSEMENT) of CASH and record it.

        A debit the balance does not cover raises 400 ``INSUFFICIENT_BALANCE`` and records nothing.
        ``move_money=False`` only records a movement its product already made (invoices and
        recurring cycles credit the balance themselves).
        """
        money_in = kind == "PAYMENT"
        if move_money and money_in:
            self._balances.credit("CASH", currency, amount_minor)
        elif move_money:
            self._balances.debit("CASH", currency, amount_minor)
        now = isoformat(self._config.now())
        transaction: dict[str, Any] = {
            "id": self._ids.prefixed("txn_"),
            "product_id": product_id,
            "type": kind,
            "status": "SUCCESS",
            "channel_category": channel_category,
            "channel_code": channel_code,
            "account_identifier": account_identifier,
            "reference_id": reference_id,
            "currency": currency,
            "amount": from_minor(amount_minor, currency),
            "cashflow": "MONEY_IN" if money_in else "MONEY_OUT",
            "business_id": self._config.business_id,
            "fee": {
                "xendit_fee": 0,
                "value_added_tax": 0,
                "xendit_withholding_tax": 0,
                "third_party_withholding_tax": 0,
                "status": "COMPLETED",
            },
            "created": now,
            "updated": now,
            "settlement_status": "SETTLED",
            "estimated_settlement_time": now,
        }
        with self._lock:
            self._transactions.append(transaction)
        return dict(transaction)

    def get(self, transaction_id: str) -> dict[str, Any]:
        """The transaction ``transaction_id``, or 404 ``DATA_NOT_FOUND``."""
        with self._lock:
            for transaction in self._transactions:
                if transaction["id"] == transaction_id:
                    return dict(transaction)
        raise XenditApiError(404, "DATA_NOT_FOUND", f"transaction {transaction_id} was not found")

    def list_page(self, query: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """The ``GET /transactions`` body: ``{"has_more", "data", "links"}``."""
        with self._lock:
            newest_first = [dict(t) for t in reversed(self._transactions)]
        result = page(newest_first, query, _FILTERS, default_limit=10)
        return {"has_more": result.has_more, "data": result.items, "links": result.links}
