"""The Standard Webhooks (Svix-compatible) scheme (PROCESSORS.md 5)."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from fakes.signing._core import (
    DEFAULT_TOLERANCE_SECONDS,
    ClockedSigner,
    check_window,
    equal,
    find_header,
    hmac_sha256,
    parse_timestamp,
    require_header,
    signing_time,
    system_clock,
    utf8,
    without_headers,
)
from fakes.signing.errors import (
    InvalidSigningArgument,
    MalformedHeaderError,
    NoMatchingSignatureError,
)

__all__ = ["StandardWebhooksSigner"]

_MSG_ID = re.compile(r"[!-\-/-~]+")  # visible ASCII without "." (PROCESSORS.md 5, SW-SPEC)


def _new_msg_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class StandardWebhooksSigner(ClockedSigner):
    """``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64> ...`` (PROCESSORS.md 5).

    The secret is ``whsec_`` + base64; the HMAC key is the decoded bytes (unlike Stripe), decoded as
    SW-PY does (prefix stripped, ``==`` padding added). HMAC-SHA256 over ``f"{id}.{t}.{body}"``, base64.
    ``verify`` follows SW-PY's order: the three headers present, the timestamp within the tolerance in
    both directions, then any ``v1`` entry of the space-delimited list matching (other versions, such
    as ``v1a``, are skipped). Two deliberate differences from SW-PY, both stricter: the timestamp must
    be integer seconds (SW-PY also takes ``"1.5"``), and signatures are compared as base64 text, so a
    non-canonical spelling of the same bytes (which SW-PY decodes and accepts) is rejected.
    """

    __slots__ = ("_keys", "_new_msg_id")
    scheme: ClassVar[str] = "standard_webhooks"
    id_header: ClassVar[str] = "webhook-id"
    timestamp_header: ClassVar[str] = "webhook-timestamp"
    signature_header: ClassVar[str] = "webhook-signature"
    header_names: ClassVar[tuple[str, ...]] = (
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    )

    def __init__(
        self,
        secret: str | Sequence[str],
        *,
        tolerance_seconds: int | None = DEFAULT_TOLERANCE_SECONDS,
        now: Callable[[], float] = system_clock,
        new_msg_id: Callable[[], str] = _new_msg_id,
    ) -> None:
        super().__init__(secret, tolerance_seconds=tolerance_seconds, now=now)
        self._keys = tuple(self._decode(s) for s in self._secrets)
        self._new_msg_id = new_msg_id

    @staticmethod
    def _decode(secret: str) -> bytes:
        encoded = secret.removeprefix("whsec_")
        try:
            key = base64.b64decode(encoded + "==")
        except (binascii.Error, ValueError) as exc:
            raise InvalidSigningArgument("a whsec_ secret must be base64 after the prefix") from exc
        if not key:
            raise InvalidSigningArgument("a whsec_ secret must not decode to an empty key")
        return key

    def sign(
        self,
        body: bytes,
        *,
        msg_id: str | None = None,
        timestamp: int | None = None,
        all_secrets: bool = True,
    ) -> dict[str, str]:
        """The three headers for ``body``; ``msg_id`` is generated when not given.

        Keep ``msg_id`` stable across retries of one message: receivers deduplicate on it.
        """
        msg_id = self._new_msg_id() if msg_id is None else msg_id
        if not _MSG_ID.fullmatch(msg_id):
            raise InvalidSigningArgument(f"msg_id must be visible ASCII without '.': {msg_id!r}")
        t = str(signing_time(timestamp, self._now))
        keys = self._keys if all_secrets else self._keys[:1]
        signatures = " ".join(f"v1,{self._b64(key, msg_id, t, body)}" for key in keys)
        return {
            self.id_header: msg_id,
            self.timestamp_header: t,
            self.signature_header: signatures,
        }

    def verify(self, body: bytes, headers: Mapping[str, str]) -> int:
        """Check the three headers against ``body``; return the timestamp or raise `SignatureError`."""
        msg_id = require_header(headers, self.id_header)
        raw_t = require_header(headers, self.timestamp_header)
        listed = require_header(headers, self.signature_header)
        timestamp = parse_timestamp(raw_t, self.timestamp_header)
        check_window(
            self.timestamp_header, timestamp, self._now(), self._tolerance, future_too=True
        )
        candidates = []
        for entry in listed.split(" "):
            version, sep, signature = entry.partition(",")
            if not sep:
                raise MalformedHeaderError(
                    f"{self.signature_header} entry is not 'version,signature': {entry[:40]!r}",
                    header=self.signature_header,
                )
            if version == "v1":
                candidates.append(signature)
        # SW-PY signs the parsed integer, so leading zeros in the timestamp header do not count.
        expected = [self._b64(key, msg_id, str(timestamp), body) for key in self._keys]
        if not any(equal(e, c) for e in expected for c in candidates):
            raise NoMatchingSignatureError(
                f"no v1 signature in {self.signature_header} matches the payload",
                header=self.signature_header,
            )
        return timestamp

    def resign(self, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` re-signed with a fresh timestamp, keeping the recorded ``webhook-id``."""
        msg_id = find_header(headers, self.id_header)
        if msg_id is not None and not _MSG_ID.fullmatch(msg_id):
            msg_id = None
        return without_headers(headers, self.header_names) | self.sign(body, msg_id=msg_id)

    @staticmethod
    def _b64(key: bytes, msg_id: str, t: str, body: bytes) -> str:
        return base64.b64encode(hmac_sha256(key, utf8(f"{msg_id}.{t}.") + body)).decode("ascii")
