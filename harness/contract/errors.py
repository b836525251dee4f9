"""Errors of the contract tools: the tool could not run (exit 2), never "the contract differs" (exit 1)."""

from __future__ import annotations

from harness.errors import HarnessError

__all__ = ["ContractUnreadable"]


class ContractUnreadable(HarnessError, ValueError):
    """A contract file or a served `/openapi.json` is missing, not JSON, or not an OpenAPI document."""

    code = "contract_unreadable"
