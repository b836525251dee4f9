"""How each contract route answers: in the contract's error shape, on a status the contract documents.

:func:`contract_route` wraps one handler of :mod:`.routes`: a capability the profile says the service lacks
answers `501 not_applicable` before anything else (the whole operation is ruled out); input the contract
does not allow is refused as the reference refuses it, before the service sees it; every refusal, the
service's or the adapter's own, leaves on a status and code the contract documents for the operation
(:func:`.conformance.documented_error`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable

import httpx
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.prober.gate_profile import GateSpec
from harness.report import NOT_APPLICABLE_CODE, RULED_OUT_HEADER

from .conformance import contract_operation, documented_error, refuse_input
from .service import NotRepresentable, ServiceRefusal, ShapeMismatch

__all__ = [
    "RULED_OUT_TOKEN",
    "Handler",
    "contract_route",
    "error",
    "http_refusal",
    "not_applicable",
]

Handler = Callable[[Request], Awaitable[Response]]

#: this process's proof on its `501 not_applicable` answers; the gate hands it to the suites
#: (`RULED_OUT_TOKEN_ENV`), so a target cannot excuse itself from a test by answering the same
RULED_OUT_TOKEN = secrets.token_hex(16)


def error(status: int, code: str, message: str) -> JSONResponse:
    """An answer in the contract's error shape."""
    return JSONResponse({"error": {"code": code, "message": message or code}}, status_code=status)


def not_applicable(reason: str) -> JSONResponse:
    """The answer the suites read as *not applicable*, with the reason and this process's token."""
    answer = error(501, NOT_APPLICABLE_CODE, reason)
    answer.headers[RULED_OUT_HEADER] = RULED_OUT_TOKEN
    return answer


def _lacked(spec: GateSpec, capability: str | None, what: str) -> JSONResponse | None:
    if capability is None or spec.has(capability):
        return None
    return not_applicable(f"the service's profile says it lacks {capability} ({what})")


async def _handled(handler: Handler, request: Request) -> Response:
    try:
        return await handler(request)
    except ServiceRefusal as refusal:
        return error(refusal.status, refusal.contract_code, f"the service answered {refusal}")
    except NotRepresentable as exc:
        return not_applicable(str(exc))
    except ShapeMismatch as exc:
        return error(502, "processor_error", str(exc))
    except httpx.HTTPError as exc:
        return error(502, "processor_error", f"the service did not answer: {exc!r}")


def _refusal(response: Response) -> tuple[str, str] | None:
    """(code, message) of an error answer the adapter made or passed on; None for not applicable."""
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        body = None
    found = body.get("error") if isinstance(body, dict) else None
    code = found.get("code") if isinstance(found, dict) else None
    if code == NOT_APPLICABLE_CODE and response.status_code == 501:
        return None
    message = found.get("message") if isinstance(found, dict) else None
    return str(code or f"http_{response.status_code}"), str(message or "")


def contract_route(
    spec: GateSpec,
    path: str,
    method: str,
    handler: Handler,
    *,
    capability: str | None = None,
    check_body: bool = True,
    guard: Callable[[Request], Response | None] | None = None,
) -> Route:
    """The route `method path` of the contract, served by `handler` and held to the contract's answers."""
    op = contract_operation(method, path)

    async def run(request: Request) -> Response:
        if (lacking := _lacked(spec, capability, f"{method} {path}")) is not None:
            return lacking
        if guard is not None and (denied := guard(request)) is not None:
            return denied  # an authorisation check comes before the input's, as on the reference
        refused = refuse_input(
            op,
            path_params=request.path_params,
            query=request.query_params,
            headers=request.headers,
            body=await request.body(),
            check_body=check_body,
        )
        if refused is not None:
            return error(*refused)
        response = await _handled(handler, request)
        if response.status_code < 300 or (found := _refusal(response)) is None:
            return response
        code, message = found
        status, documented = documented_error(op, response.status_code, code)
        if code != documented:
            message = f"{message} (the service's {code}, HTTP {response.status_code})".strip()
        return error(status, documented, message)

    return Route(path, run, methods=[method])


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def http_refusal(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, a method the path does not serve) in the error shape, as
    the reference answers them; a 405 names every method of the path (Starlette names only the first
    route's)."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        methods = set()
        for route in request.app.router.routes:
            regex = getattr(route, "path_regex", None)
            if regex is not None and regex.match(request.url.path):
                methods |= set(getattr(route, "methods", None) or ())
        headers["Allow"] = ", ".join(sorted(methods))
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else code
    response = error(exc.status_code, code, message)
    response.headers.update(headers)
    return response
