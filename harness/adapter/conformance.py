"""The pinned contract's rules, kept by the adapter on both sides of the service.

Before a request reaches the service, :func:`refuse_input` holds it to the contract as the reference does:
a body that is not JSON is 400 `invalid_json`, one that breaks its schema (or a parameter that breaks its
own) is 422 `validation_error`. After the service answers, :func:`documented_error` puts every refusal onto
a status and code the contract documents for that operation: a contract code the service's profile maps
onto keeps its documented status; a refusal the profile does not map (a framework's 422, an unknown code)
becomes the nearest documented answer; a service's own failure stays a server error (502
`processor_error` where the operation documents one), so the contract suite still sees it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from harness.contract import pinned_contract

__all__ = ["ContractOperation", "contract_operation", "documented_error", "refuse_input"]

_INTEGER = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n"})
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Parameter:
    """One documented parameter: where it travels, whether it must, and the schema of its value."""

    name: str
    location: str
    required: bool
    validator: Draft202012Validator


@dataclass(frozen=True, slots=True)
class ContractOperation:
    """What the pinned contract says of one operation's input and refusals."""

    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body: Draft202012Validator | None
    body_required: bool
    #: documented error status → the error codes the contract allows with it
    errors: Mapping[int, tuple[str, ...]]


def _validator(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Draft202012Validator:
    # the contract's `$ref`s point at `#/components/...`: carried along, they resolve in place
    return Draft202012Validator({**schema, "components": components})


def _codes(response: Mapping[str, Any]) -> tuple[str, ...]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    for part in schema.get("allOf", []):
        enum = part.get("properties", {}).get("error", {}).get("properties", {})
        enum = enum.get("code", {}).get("enum")
        if enum:
            return tuple(enum)
    return ()


@cache
def _operations() -> dict[tuple[str, str], ContractOperation]:
    contract = pinned_contract()
    components = contract.get("components", {})
    found = {}
    for path, methods in contract["paths"].items():
        for method, definition in methods.items():
            parameters = tuple(
                Parameter(
                    name=p["name"],
                    location=p["in"],
                    required=bool(p.get("required")),
                    validator=_validator(p.get("schema") or {}, components),
                )
                for p in definition.get("parameters", [])
            )
            request_body = definition.get("requestBody") or {}
            schema = request_body.get("content", {}).get("application/json", {}).get("schema")
            errors = {
                int(status): _codes(response)
                for status, response in definition["responses"].items()
                if int(status) >= 400
            }
            found[(method.upper(), path)] = ContractOperation(
                method=method.upper(),
                path=path,
                parameters=parameters,
                body=_validator(schema, components) if schema is not None else None,
                body_required=bool(request_body.get("required")),
                errors=errors,
            )
    return found


def contract_operation(method: str, path: str) -> ContractOperation:
    """The pinned contract's operation `method path` (KeyError when the contract has none)."""
    return _operations()[(method.upper(), path)]


def _typed(value: str, validator: Draft202012Validator) -> Any:
    """A parameter's text as the type its schema asks for (when it reads as one), as FastAPI parses it."""
    schema = validator.schema
    types = {schema.get("type")} | {o.get("type") for o in schema.get("anyOf", [])}
    if "integer" in types and _INTEGER.fullmatch(value.strip()):
        return int(value)
    if "boolean" in types and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    return value


def _violation(validator: Draft202012Validator, value: Any, where: str) -> str | None:
    error = next(iter(validator.iter_errors(value)), None)
    if error is None:
        return None
    at = ".".join(str(p) for p in error.absolute_path)
    return f"{where}{'.' + at if at else ''}: {error.message[:200]}"


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_UNSTORABLE.search(value))
    if isinstance(value, Mapping):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def refuse_input(
    op: ContractOperation,
    *,
    path_params: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    check_body: bool = True,
) -> tuple[int, str, str] | None:
    """(status, code, message) refusing input the contract does not allow, or None when it is allowed.

    `check_body=False` leaves the body to the service (a webhook: its signature is checked first)."""
    sources = {"path": path_params, "query": query, "header": headers}
    problems = []
    for parameter in op.parameters:
        given = sources.get(parameter.location, {}).get(parameter.name)
        if given is None:
            if parameter.required:
                problems.append(f"{parameter.location}.{parameter.name}: field required")
            continue
        value = _typed(given, parameter.validator)
        found = _violation(parameter.validator, value, f"{parameter.location}.{parameter.name}")
        if found:
            problems.append(found)
    if op.body is not None and check_body:
        if not body.strip():
            if op.body_required:
                problems.append("body: field required")
        else:
            bad_json = _json_refusal(op)
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                return 400, bad_json, "request body is not valid JSON"
            if _unstorable(parsed):
                return 400, bad_json, "request body is not storable JSON: NUL or a lone surrogate"
            found = _violation(op.body, parsed, "body")
            if found:
                problems.append(found)
    if problems:
        return 422, "validation_error", "; ".join(problems)
    return None


def _json_refusal(op: ContractOperation) -> str:
    codes = op.errors.get(400, ())
    return "invalid_json" if "invalid_json" in codes else "invalid_request"


def documented_error(op: ContractOperation, status: int, code: str) -> tuple[int, str]:
    """The documented (status, code) of `op` nearest to a refusal answered `status` with `code`."""
    if code in op.errors.get(status, ()):
        return status, code
    for documented, codes in sorted(op.errors.items()):
        if code in codes:
            return documented, code
    if status >= 500:
        # the service failed: still a server error, in a code the contract has for it
        if "processor_error" in op.errors.get(502, ()):
            return 502, "processor_error"
        return 500, "internal_error"
    if status < 400:
        # a redirect: the service did not take the request as given (a value that reads as a path)
        return 400, "invalid_request"
    if status == 422 and "validation_error" in op.errors.get(422, ()):
        return 422, "validation_error"
    codes = op.errors.get(status, ())
    if len(codes) == 1:
        return status, codes[0]
    return 400, "invalid_request"
