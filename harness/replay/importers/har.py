"""HAR files (HTTP Archive 1.2, from browser devtools, proxies, or Hookdeck/ngrok inspectors).

Only POST requests whose URL path matches ``ImportOptions.har_path_pattern`` (default: a ``webhook`` or
``webhooks`` path segment) are taken. The body is ``postData.text`` (HAR keeps request bodies as text;
a non-standard ``postData.encoding: "base64"`` is honoured), so bytes are exact for the UTF-8 bodies
processors send. Headers are kept as captured, except HTTP/2 pseudo-headers (``:authority``...). The
rail is the last path segment when it names one (``/webhook/stripe``), else the one signature header
present; ``received_at`` is the entry's ``startedDateTime``. Line numbers are those of the entries.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.replay.importers._json import JsonShapeError, iter_nested_array
from harness.replay.importers.base import (
    ImportOptions,
    Problems,
    build_delivery,
    received_at_from,
    result,
)
from harness.replay.rails import rail_from_headers, rail_from_path
from harness.replay.recording import Delivery, LoadResult

__all__ = ["HarImporter"]


def _body(post: Any) -> bytes | None:
    if not isinstance(post, dict) or not isinstance(post.get("text"), str):
        return None
    text: str = post["text"]
    if post.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            return None
    return text.encode("utf-8")


class HarImporter:
    """POSTs to a webhook path in a HAR file → deliveries (see the module docstring)."""

    name = "har"

    def sniff(self, first: Any, path: Path) -> bool:
        """A ``.har`` file, or an object with ``log.entries``."""
        if path.suffix.lower() == ".har":
            return True
        log = first.get("log") if isinstance(first, dict) else None
        return isinstance(log, dict) and isinstance(log.get("entries"), list)

    def parse(self, data: bytes, *, source: str, options: ImportOptions) -> LoadResult:
        """Every webhook POST in the archive; other requests are passed over silently."""
        problems = Problems(source)
        deliveries: list[Delivery] = []
        wanted = re.compile(options.har_path_pattern)
        try:
            for item in iter_nested_array(data, ("log", "entries")):
                request = item.value.get("request") if isinstance(item.value, dict) else None
                if not isinstance(request, dict) or not isinstance(request.get("url"), str):
                    problems.add(item.line, "invalid_har_entry", "entry has no request.url")
                    continue
                url = urlsplit(request["url"])
                if str(request.get("method", "")).upper() != "POST" or not wanted.search(url.path):
                    continue
                headers = [
                    (str(h.get("name")), str(h.get("value", "")))
                    for h in request.get("headers", [])
                    if isinstance(h, dict) and h.get("name") and not str(h["name"]).startswith(":")
                ]
                rail = rail_from_path(url.path) or rail_from_headers(headers)
                if rail is None:
                    problems.add(
                        item.line, "unknown_rail", f"cannot tell the rail of POST {url.path}"
                    )
                    continue
                body = _body(request.get("postData"))
                if body is None:
                    problems.add(item.line, "no_body", f"POST {url.path} has no readable postData")
                    continue
                path = url.path + (f"?{url.query}" if url.query else "")
                deliveries.append(
                    build_delivery(
                        rail=rail,
                        body=body,
                        headers=headers,
                        received_at=received_at_from(item.value.get("startedDateTime"), options),
                        options=options,
                        importer=self.name,
                        origin=f"{source}:{item.line}",
                        path=path or "/",
                    )
                )
        except JsonShapeError as exc:
            problems.add(exc.line, "invalid_har", str(exc))
        return result(deliveries, problems)
