"""The pinned OpenAPI contract, served verbatim by the reference service.

`contracts/payments.openapi.json` is the source of truth of the payments API: the reference serves exactly that
file at `/openapi.json`, so the exact-match check of the gate holds the reference to the same document as any
other target. The file is read from the `contracts` data package (shipped in the wheel) and never from the rest
of `harness`, which the reference must not import.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fastapi import FastAPI

__all__ = ["CONTRACT_FILE", "load_pinned_contract", "serve_pinned_contract"]

CONTRACT_FILE = "payments.openapi.json"


def load_pinned_contract() -> dict[str, Any]:
    """The pinned contract as a JSON object."""
    text = resources.files("contracts").joinpath(CONTRACT_FILE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def serve_pinned_contract(app: FastAPI) -> None:
    """Make `app.openapi()` (hence `/openapi.json` and `/docs`) answer the pinned contract, not a generated one.

    `FastAPI.openapi(app)` still generates the document from the routes, which is how a test notices the
    routes drifting from the pinned file.
    """
    pinned = load_pinned_contract()

    def openapi() -> dict[str, Any]:
        return pinned

    app.openapi = openapi  # type: ignore[method-assign]
