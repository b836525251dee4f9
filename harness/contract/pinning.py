"""How `contracts/payments.openapi.json` is made from the reference service's generated OpenAPI document.

FastAPI's generated document is thin where a payments client needs it most: it lists some error statuses,
omits others (a 409 the route raises, the 400 of a body that is not JSON, the 413 of an oversized body),
describes 422 with FastAPI's own `{"detail": [...]}` shape although the service answers our error shape, and
says nothing about which error codes each answer can carry. :func:`enrich` adds exactly that, from the table
below, so the pinned contract can be re-made deterministically and a test can tell when the reference's
routes or models drift from it (`tests/unit/contract/test_pinned_contract.py`).

The pinned file is the source of truth at run time: the reference serves it verbatim, the exact-match check
compares targets with it, and the schemathesis stage drives it. Re-pin after a deliberate change with
``python -m harness.contract.pinning`` and review the diff like code.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ERROR_CODES", "SNAKE_CASE_PATTERN", "dump_contract", "enrich"]

#: What every error code looks like (STYLE.md habit 3: stable snake_case codes).
SNAKE_CASE_PATTERN = "^[a-z][a-z0-9_]*$"

_BODY_ERRORS = {400: ("invalid_json",), 413: ("payload_too_large",), 422: ("validation_error",)}
# Bodies FastAPI itself parses (a pydantic model in the signature) answer Starlette's 400 `bad_request`
# ("There was an error parsing the body") to bytes that are not UTF-8, before our handler sees JSON.
_FASTAPI_BODY_ERRORS = {**_BODY_ERRORS, 400: ("invalid_json", "bad_request")}
_MONEY_5XX = {502: ("processor_error",), 504: ("processor_error",)}

#: The error codes each operation can answer, by status; read from `harness/reference/routes/*.py`
#: (`ApiError(...)`, `state.adapter()`/`require_live()`/`require_known_rail()`, `parse_body`, `rail_error`) and
#: from the outermost `_Guard` (413) and the validation handler (400 `invalid_json`, 422 `validation_error`).
ERROR_CODES: dict[tuple[str, str], dict[int, tuple[str, ...]]] = {
    ("POST", "/v1/payments/topup/{rail}"): {
        400: ("invalid_json", "rail_not_supported"),
        404: ("unknown_rail", "account_not_found"),
        409: ("idempotency_key_reused", "conflict"),
        413: ("payload_too_large",),
        422: ("validation_error",),
        503: ("payments_not_live", "rail_not_configured"),
        **_MONEY_5XX,
    },
    ("POST", "/v1/payments/topup/cdp/{topup_id}/pay"): {
        400: ("invalid_payment",),
        402: ("payment_required", "payment_declined"),
        404: ("topup_not_found",),
        409: ("topup_not_payable",),
        422: ("validation_error",),
        503: ("payments_not_live", "rail_not_configured"),
        **_MONEY_5XX,
    },
    ("POST", "/v1/payments/webhook/{rail}"): {
        400: ("missing_signature_header", "webhook_signature_invalid", "invalid_payload"),
        404: ("unknown_rail",),
        413: ("payload_too_large",),
        422: ("validation_error",),
        500: ("internal_error",),
        503: ("payments_not_live", "rail_not_configured"),
    },
    ("POST", "/v1/accounts"): dict(_FASTAPI_BODY_ERRORS),
    ("GET", "/v1/accounts/{account_id}"): {404: ("account_not_found",), 422: ("validation_error",)},
    ("DELETE", "/v1/accounts/{account_id}"): {
        404: ("account_not_found",),
        409: ("not_test_cohort",),
        422: ("validation_error",),
    },
    ("GET", "/v1/accounts/{account_id}/ledger"): {
        404: ("account_not_found",),
        422: ("validation_error",),
    },
    ("POST", "/v1/billing/checkout"): {
        **_BODY_ERRORS,
        400: ("invalid_json", "rail_not_supported"),
        404: ("unknown_rail", "unknown_plan", "account_not_found"),
        503: ("payments_not_live", "rail_not_configured"),
        **_MONEY_5XX,
    },
    ("GET", "/v1/billing"): {404: ("account_not_found",), 422: ("validation_error",)},
    ("GET", "/v1/billing/invoices"): {404: ("account_not_found",), 422: ("validation_error",)},
    ("POST", "/v1/outcomes"): {
        **_FASTAPI_BODY_ERRORS,
        404: ("account_not_found",),
        409: ("duplicate_outcome",),
    },
    ("POST", "/v1/charges"): {
        **_BODY_ERRORS,
        402: ("insufficient_credit",),
        404: ("outcome_not_found", "account_not_found"),
        503: ("payments_not_live",),
        **_MONEY_5XX,
    },
    ("POST", "/v1/usage"): {
        **_BODY_ERRORS,
        400: ("invalid_json", "invalid_payment"),
        402: ("payment_required", "insufficient_credit"),
        404: ("account_not_found",),
        503: ("rail_not_configured",),
        **_MONEY_5XX,  # the facilitator's /verify, before the first unit
    },
    ("POST", "/admin/balance-adjust"): {
        400: ("invalid_request",),
        401: ("unauthorized",),
        404: ("account_not_found",),
        413: ("payload_too_large",),
        422: ("validation_error",),
    },
    ("POST", "/admin/reconcile/{rail}"): {
        401: ("unauthorized",),
        404: ("unknown_rail",),
        422: ("validation_error",),
        503: ("payments_not_live",),
    },
}

#: What the reference's outermost `_Guard` answers on every operation before routing: a NUL in the path or
#: query (400 `invalid_request`; PostgreSQL cannot store it) and request headers past the limits (431).
_GUARD_ERRORS: dict[int, tuple[str, ...]] = {
    400: ("invalid_request",),
    431: ("request_header_fields_too_large",),
}


def _with_guard(statuses: Mapping[int, tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    merged = dict(statuses)
    for status, codes in _GUARD_ERRORS.items():
        merged[status] = tuple(dict.fromkeys((*merged.get(status, ()), *codes)))
    return dict(sorted(merged.items()))


#: The x402 v1 fields a 402 of the pay route carries next to our error (X402-V1 "PaymentRequired").
_X402_FIELDS = {
    "type": "object",
    "required": ["x402Version", "accepts"],
    "properties": {
        "x402Version": {"type": "integer", "const": 1},
        "accepts": {"type": "array", "items": {"type": "object"}},
    },
}

_ERROR_REF = "#/components/schemas/ErrorBody"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _error_schema(codes: tuple[str, ...]) -> dict[str, Any]:
    """Our error shape, narrowed to the codes this answer can carry."""
    return {
        "allOf": [
            {"$ref": _ERROR_REF},
            {"properties": {"error": {"properties": {"code": {"enum": list(codes)}}}}},
        ]
    }


def _error_response(
    codes: tuple[str, ...], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    schema = _error_schema(codes)
    if extra is not None:
        schema["allOf"].append(dict(extra))
    return {
        "description": "error codes: " + ", ".join(codes),
        "content": {"application/json": {"schema": schema}},
    }


def _enrich_error_shape(components: dict[str, Any]) -> None:
    detail = components["ErrorDetail"]
    detail["properties"]["code"] = {
        "title": "Code",
        "type": "string",
        "pattern": SNAKE_CASE_PATTERN,
        "description": "Stable snake_case error code; part of the contract.",
    }
    detail["properties"]["message"]["minLength"] = 1
    components["ErrorBody"]["required"] = ["error"]


def enrich(generated: Mapping[str, Any]) -> dict[str, Any]:
    """Return the pinned contract for the reference's FastAPI-generated document (which is not modified).

    Raises `KeyError` naming an operation of :data:`ERROR_CODES` the generated document lacks, so a route that
    disappears cannot leave a stale row behind.
    """
    doc = copy.deepcopy(dict(generated))
    paths: dict[str, Any] = doc["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            statuses = _with_guard(ERROR_CODES.get((method.upper(), path), {}))
            responses: dict[str, Any] = operation["responses"]
            unlisted = [s for s in responses if int(s) >= 400 and int(s) not in statuses]
            if unlisted:
                raise KeyError(
                    f"{method.upper()} {path} answers {unlisted}: add them to ERROR_CODES"
                )
            for status, codes in statuses.items():
                extra = _X402_FIELDS if status == 402 and path.endswith("/pay") else None
                responses[str(status)] = _error_response(codes, extra)
            operation["responses"] = dict(sorted(responses.items()))
    for method, path in ERROR_CODES:
        if method.lower() not in paths.get(path, {}):
            raise KeyError(f"{method} {path} is in ERROR_CODES but not served: remove its row")
    components: dict[str, Any] = doc["components"]["schemas"]
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    _enrich_error_shape(components)
    doc["info"]["description"] = (
        "The payharness payments API. Every non-2xx answer is "
        '`{"error": {"code": "<snake_case>", "message": "..."}}`; the codes each answer can carry are '
        "listed per response and are part of the contract."
    )
    return doc


def dump_contract(doc: Mapping[str, Any]) -> str:
    """The pinned file's text: sorted keys, two-space indent, a final newline (stable diffs in review)."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Re-pin: write `enrich(reference generated document)` to the contracts package (or to argv[0])."""
    from contracts import contract_path
    from harness.target import reference_generated_openapi

    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else contract_path("payments.openapi.json")
    out.write_text(dump_contract(enrich(reference_generated_openapi())), encoding="utf-8")
    print(f"pinned {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
