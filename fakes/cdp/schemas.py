"""JSON Schemas of the x402 facilitator's wire objects, generated from the x402 package's own models.

The x402 project publishes its protocol types as the pydantic models of its Python package
(``x402.schemas``); their JSON Schemas (pydantic ``model_json_schema(by_alias=True)``: the camelCase wire
names) are pinned in ``contracts/processors/x402.schemas.json``, and the fake's answers are validated
against the pinned copy in the tests. Regenerate after upgrading ``x402``:

    python -m fakes.cdp.schemas > contracts/processors/x402.schemas.json

A test fails when the pinned file and the installed package disagree, so an x402 upgrade that
changes the protocol is noticed.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any

from x402.schemas import (
    PaymentPayload,
    PaymentRequirements,
    SettleResponse,
    SupportedResponse,
    VerifyResponse,
)
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequirementsV1

__all__ = ["MODELS", "schemas"]

#: Schema name → the x402 model it is generated from.
MODELS: dict[str, Any] = {
    "VerifyResponse": VerifyResponse,
    "SettleResponse": SettleResponse,
    "SupportedResponse": SupportedResponse,
    "PaymentRequirements": PaymentRequirements,
    "PaymentPayload": PaymentPayload,
    "PaymentRequirementsV1": PaymentRequirementsV1,
    "PaymentPayloadV1": PaymentPayloadV1,
}


def schemas() -> dict[str, Any]:
    """``{"source", "schemas": {name: JSON Schema}}`` for the installed x402 package."""
    return {
        "source": f"x402 {version('x402')} (PyPI), x402.schemas pydantic models, by_alias",
        "schemas": {name: model.model_json_schema(by_alias=True) for name, model in MODELS.items()},
    }


if __name__ == "__main__":  # pragma: no cover - the regeneration command
    print(json.dumps(schemas(), indent=2, sort_keys=True))
