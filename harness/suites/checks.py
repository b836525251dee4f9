"""Custom schemathesis checks of the contract suite: plain functions of (ctx, response, case).

A check that finds the target wrong raises `AssertionError` (a Failure, STYLE.md): the message names what
was observed and what the contract expects; schemathesis adds the request as a curl command.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["CONTRACT_CHECKS", "error_shape", "no_server_error"]

_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
_SHAPE = '{"error": {"code": "<snake_case>", "message": "..."}}'


def _body(response: Any) -> tuple[Any, str]:
    text = bytes(response.content or b"").decode("utf-8", "replace")
    try:
        return json.loads(text), text
    except ValueError:
        return None, text


def _error_code(response: Any) -> str | None:
    body, _ = _body(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return code if isinstance(code, str) else None
    return None


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx answer is JSON in the error shape, with a snake_case code and a message."""
    status = int(response.status_code)
    if status < 400:
        return None
    body, text = _body(response)
    snippet = text[:200] or "(empty body)"
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        raise AssertionError(
            f"a {status} answer is not in the error shape: expected {_SHAPE}, got {snippet}"
        )
    error = body["error"]
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not _SNAKE_CASE.match(code):
        raise AssertionError(
            f"a {status} answer's error.code is {code!r}: expected a stable snake_case code"
        )
    if not isinstance(message, str) or not message:
        raise AssertionError(
            f"a {status} answer ({code}) has no error.message: expected a human-readable text"
        )
    return None


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No generated input gets a 5xx: a payments service answers bad input with a 4xx it documents."""
    status = int(response.status_code)
    if status < 500:
        return None
    code = _error_code(response) or "no error code"
    hint = ""
    if code == "payments_not_live":
        hint = " (the target is dormant: run the contract suite against a live target)"
    elif code in ("rail_not_configured", "processor_error"):
        hint = " (the target is not wired to working processors: see the fakes' settings the gate prints)"
    raise AssertionError(
        f"{case.method.upper()} {case.formatted_path} answered {status} ({code}): no input a client can "
        f"send may cause a server error{hint}"
    )


#: The checks the contract suite adds to schemathesis's defaults.
CONTRACT_CHECKS = (error_shape, no_server_error)
