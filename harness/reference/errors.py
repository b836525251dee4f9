"""HTTP errors of the reference service: one shape, `{"error": {"code", "message"}}`, with stable codes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from .db import is_data_error
from .inputs import UNSTORABLE_TEXT

__all__ = ["ApiError", "JsonTooDeep", "error_body", "install_error_handlers"]

log = logging.getLogger("payharness.reference")


class ApiError(Exception):
    """An error answered to the client with a stable code (part of the contract)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.extra = (
            extra  # top-level fields beside `error` (the x402 v1 `x402Version` and `accepts`)
        )
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


class JsonTooDeep(StarletteHTTPException):
    """A body nested deeper than the service parses, found while it was being read (an HTTPException, so
    FastAPI's own body reading re-raises it); answered 400 `invalid_json` (`invalid_payload` on webhooks)."""

    def __init__(self, limit: int) -> None:
        super().__init__(400, f"JSON is nested deeper than {limit} levels")


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The error envelope every non-2xx answer carries."""
    err: dict[str, Any] = {"code": code, "message": message}
    if details:
        err["details"] = details
    return {"error": err}


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def _allowed_methods(request: Request) -> set[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.url.path):
            methods |= set(getattr(route, "methods", None) or ())
    return methods


def _input_code(request: Request, default: str) -> str:
    """Bad input on a webhook is the processor's `invalid_payload`; elsewhere `default`."""
    return "invalid_payload" if request.url.path.startswith("/v1/payments/webhook/") else default


def install_error_handlers(app: FastAPI) -> None:
    """Route every error, including FastAPI's own, into our error shape."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(
            {**error_body(exc.code, exc.message, exc.details), **(exc.extra or {})},
            status_code=exc.status,
            headers=exc.headers,
        )

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse(
                error_body("invalid_json", "request body is not valid JSON"), status_code=400
            )
        # a NUL or a lone surrogate (pydantic's `string_unicode`): not storable text, a malformed body
        unstorable = [e for e in errors if e.get("type") in (UNSTORABLE_TEXT, "string_unicode")]
        if unstorable:
            message = f"request body is not storable JSON: {unstorable[0].get('msg')}"
            return JSONResponse(error_body("invalid_json", message), status_code=400)
        fields = [
            {"field": _field_path(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
            for e in errors
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return JSONResponse(
            error_body("validation_error", summary or "invalid request", {"fields": fields}),
            status_code=422,
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        if isinstance(exc, JsonTooDeep):
            code = _input_code(request, "invalid_json")
        message = exc.detail if isinstance(exc.detail, str) else code
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette's Allow names only the first route of the path; a path served by several
            # routes (GET and DELETE /v1/accounts/{id}) must list every method it accepts
            headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "internal error; the request can be retried safely"),
            status_code=500,
        )

    async def too_deep(request: Request, exc: Exception) -> JSONResponse:
        # JSON nested past the parser's recursion limit, wherever it was parsed (FastAPI's own body
        # parsing, a webhook signature check): malformed input, not a server fault
        code = _input_code(request, "invalid_json")
        return JSONResponse(error_body(code, "JSON is nested too deeply"), status_code=400)

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DBAPIError)
        if is_data_error(exc):
            # a value no column can hold that no earlier check caught: the sender's 400, not our 500
            code = _input_code(request, "invalid_request")
            log.warning("refused unstorable input on %s: %s", request.url.path, exc.orig)
            return JSONResponse(
                error_body(code, "a value in the request cannot be stored"), status_code=400
            )
        return await unexpected(request, exc)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RecursionError, too_deep)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
