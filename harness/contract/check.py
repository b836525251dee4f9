"""`contract check`: the target's served `/openapi.json` against the pinned contract, exactly."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from contracts import contract_path
from harness.errors import TargetUnreachable

from .diff import Difference, diff_documents, normalise
from .errors import ContractUnreadable

__all__ = [
    "PINNED_CONTRACT",
    "ContractCheck",
    "check_contract",
    "fetch_served",
    "load_contract",
    "pinned_contract",
]

PINNED_CONTRACT = "payments.openapi.json"


def _as_document(text: str, source: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ContractUnreadable(f"{source} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or "openapi" not in document or "paths" not in document:
        raise ContractUnreadable(f"{source} is not an OpenAPI document (no `openapi` and `paths`)")
    return document


def load_contract(path: str | Path) -> dict[str, Any]:
    """Read an OpenAPI document from a JSON file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    return _as_document(text, str(path))


def pinned_contract() -> dict[str, Any]:
    """The pinned payments contract shipped in the `contracts` package."""
    return load_contract(contract_path(PINNED_CONTRACT))


def fetch_served(client: httpx.Client, path: str = "/openapi.json") -> dict[str, Any]:
    """The document the target serves; `TargetUnreachable` or `ContractUnreadable` when it cannot be had."""
    try:
        response = client.get(path)
    except httpx.TransportError as exc:
        raise TargetUnreachable(f"GET {client.base_url}{path}: {exc}") from exc
    if response.status_code != 200:
        raise ContractUnreadable(
            f"GET {client.base_url}{path} answered {response.status_code}, not the contract"
        )
    return _as_document(response.text, f"{client.base_url}{path}")


@dataclass(frozen=True, slots=True)
class ContractCheck:
    """The outcome of an exact match: no differences means the target serves the pinned contract."""

    differences: tuple[Difference, ...]

    @property
    def matches(self) -> bool:
        """True when served and pinned are the same document up to formatting."""
        return not self.differences

    def report(self) -> str:
        """One line per difference, or a one-line confirmation."""
        if self.matches:
            return "served contract matches the pinned contract exactly"
        lines = [
            f"served contract differs from the pinned one in {len(self.differences)} place(s):"
        ]
        lines += [f"  {d}" for d in self.differences]
        return "\n".join(lines)


def check_contract(
    served: Mapping[str, Any], pinned: Mapping[str, Any] | None = None
) -> ContractCheck:
    """Compare a served document with the pinned one (formatting and key order never count)."""
    reference = pinned if pinned is not None else pinned_contract()
    return ContractCheck(tuple(diff_documents(normalise(reference), normalise(served))))
