"""Credentials out of everything the harness prints or writes: one `redact_url`, one `redact_text`.

A URL given on the command line may carry a credential: ``http://user:secret@host`` (a target behind
basic auth), ``postgresql://app:secret@db/payments`` (the reference's database), or a query parameter
such as ``?token=...``. Reports, logs, audit lines, metrics labels and startup lines show such a URL
only through `redact_url`, which keeps everything a reader needs (scheme, user, host, port, path) and
replaces the secret parts with `REDACTED`. `redact_text` does the same to every URL inside free text
(an error message, a log line).

The reference service does not import ``harness`` (it is the code users copy); it hides its database
password with SQLAlchemy's ``make_url(...).render_as_string(hide_password=True)`` instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "SECRET_QUERY_KEYS", "redact_file", "redact_text", "redact_url"]

REDACTED = "***"

#: Query parameter names (lower case, ``-`` read as ``_``) whose values are credentials.
SECRET_QUERY_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "api_key",
        "apikey",
        "key",
        "auth",
        "authorization",
        "signature",
        "sig",
        "x_callback_token",
    }
)

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`|]+")


def _secret_key(name: str) -> bool:
    return name.lower().replace("-", "_") in SECRET_QUERY_KEYS


def redact_url(url: str) -> str:
    """``url`` with its password and secret query values replaced by `REDACTED`.

    A string that is not a URL (or cannot be parsed) comes back unchanged; so does a URL without
    credentials, byte for byte.
    """
    try:
        parts = urlsplit(url)
        password = parts.password
        username = parts.username
        port = parts.port
    except ValueError:
        # an unparsable netloc: drop everything before the last '@' rather than guess
        head, sep, rest = url.partition("://")
        if sep and "@" in rest.split("/", 1)[0]:
            return f"{head}://{REDACTED}@{rest.split('@', 1)[1]}"
        return url
    netloc = parts.netloc
    if password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{username or ''}:{REDACTED}@{host}" + (f":{port}" if port else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_secret_key(k) for k, _ in pairs):
            query = urlencode([(k, REDACTED if _secret_key(k) else v) for k, v in pairs], safe="*")
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """``text`` with every URL in it passed through `redact_url`."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def redact_file(path: Path) -> None:
    """Rewrite a text file another program wrote (pytest's ``junit.xml``, its output log) with every
    URL redacted; a missing file is left missing."""
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        return
    shown = redact_text(text)
    if shown != text:
        path.write_text(shown, encoding="utf-8", errors="surrogateescape")
