"""Schemathesis sends with `requests`; targets are reached with `httpx`. This adapter joins the two.

A `requests.Session` whose every request goes through a target's `httpx.Client`, so the schemathesis stage
reaches the in-process reference through ASGI (no socket) and a URL target over HTTP, with one code path.
Modelled on schemathesis's own ASGI adapter (`schemathesis/python/asgi.py`): the response is rebuilt as a
`urllib3.HTTPResponse` so `requests` (and schemathesis's checks) read headers and body as from a socket.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import requests
import requests.adapters
import urllib3

__all__ = ["requests_session"]


class _HttpxAdapter(requests.adapters.BaseAdapter):
    def __init__(self, client: httpx.Client) -> None:
        super().__init__()
        self._client = client

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        body: Any = request.body
        if isinstance(body, str):
            content = body.encode("utf-8")
        elif isinstance(body, bytes | None):
            content = body or b""
        else:  # a streamed body: schemathesis sends none, but a hook might
            content = b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in body)
        headers = {
            k: v.decode("latin-1") if isinstance(v, bytes) else v
            for k, v in request.headers.items()
        }
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        try:
            answer = self._client.request(
                request.method or "GET",
                request.url or "/",
                headers=headers,
                content=content,
                timeout=read_timeout if read_timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            raise requests.exceptions.ReadTimeout(str(exc), request=request) from exc
        except httpx.TransportError as exc:
            raise requests.exceptions.ConnectionError(str(exc), request=request) from exc
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(answer.content),
            # repeated headers (Set-Cookie) stay separate, as from a socket
            headers=urllib3.HTTPHeaderDict(answer.headers.multi_items()),
            status=answer.status_code,
            reason=answer.reason_phrase,
            version=11,
            preload_content=False,
            request_method=request.method,
        )
        response: requests.Response = self.build_response(request, raw)
        return response

    def build_response(self, request: requests.PreparedRequest, raw: Any) -> requests.Response:
        return requests.adapters.HTTPAdapter.build_response(
            requests.adapters.HTTPAdapter(), request, raw
        )

    def close(self) -> None:
        """The httpx client belongs to the caller."""


def requests_session(client: httpx.Client) -> requests.Session:
    """A `requests.Session` that sends everything through `client` (closing it leaves `client` open)."""
    session = requests.Session()
    adapter = _HttpxAdapter(client)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
