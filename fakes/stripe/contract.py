"""The subset of the Stripe API the fake implements, as OpenAPI, derived from its route table.

``contracts/processors/stripe.openapi.json`` is this document pinned; a test fails when a route is added or
removed without regenerating it (``python -m fakes.stripe.contract > contracts/processors/stripe.openapi.json``).
It lists operations, path parameters, auth and the error shape; request and response bodies are Stripe's
own (see https://docs.stripe.com/api), which this file does not restate.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from fakes.stripe.app import create_app

__all__ = ["openapi"]

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "api_error",
                        "card_error",
                        "idempotency_error",
                        "invalid_request_error",
                    ],
                },
                "code": {"type": "string"},
                "message": {"type": "string"},
                "param": {"type": "string"},
                "doc_url": {"type": "string"},
            },
        }
    },
}


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the fake's Stripe routes (control routes excluded)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in create_app().routes:
        names = [part[1:-1] for part in route.template.split("/") if part.startswith("{")]
        operation: dict[str, Any] = {
            "operationId": route.name,
            "responses": {
                "200": {"description": "The Stripe object or list."},
                "default": {
                    "description": "A Stripe error.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
        if names:
            operation["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in names
            ]
        if route.method == "POST":
            operation["parameters"] = [
                *operation.get("parameters", []),
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                },
            ]
            operation["requestBody"] = {
                "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}
            }
        paths.setdefault(route.template, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Stripe API subset implemented by the payharness Stripe fake",
            "version": "2025-11-17.clover",
        },
        "servers": [{"url": "https://api.stripe.com"}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {"Error": _ERROR_SCHEMA},
        },
    }


if __name__ == "__main__":
    json.dump(openapi(), sys.stdout, indent=2)
    sys.stdout.write("\n")
