"""The pinned payments contract: exact match against a target, and breaking-change classification.

* :func:`check_contract` / :func:`fetch_served`: the served `/openapi.json` against
  `contracts/payments.openapi.json`, normalised for formatting only, with a readable diff
  (``POST /v1/charges: responses.402 missing in served``).
* :func:`classify_changes`: which changes between two contract files break existing clients.
* :mod:`.pinning`: how the pinned file is made from the reference's generated document.
"""

from __future__ import annotations

from .check import (
    PINNED_CONTRACT,
    ContractCheck,
    check_contract,
    fetch_served,
    load_contract,
    pinned_contract,
)
from .classify import Change, classify_changes
from .diff import Difference, diff_documents, normalise
from .errors import ContractUnreadable

__all__ = [
    "PINNED_CONTRACT",
    "Change",
    "ContractCheck",
    "ContractUnreadable",
    "Difference",
    "check_contract",
    "classify_changes",
    "diff_documents",
    "fetch_served",
    "load_contract",
    "normalise",
    "pinned_contract",
]
