"""Errors of `fakes.signing`: a verdict on a request (`SignatureError`) or a caller's mistake."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "InvalidSigningArgument",
    "MalformedHeaderError",
    "MissingHeaderError",
    "NoMatchingSignatureError",
    "SignatureError",
    "TimestampOutsideToleranceError",
]


class SignatureError(ValueError):
    """A request failed signature verification; ``code`` says why and ``header`` names the header."""

    code: ClassVar[str] = "signature_error"

    def __init__(self, message: str, *, header: str | None = None) -> None:
        super().__init__(message)
        self.header = header


class MissingHeaderError(SignatureError):
    """A required signature header is absent or empty."""

    code: ClassVar[str] = "missing_header"


class MalformedHeaderError(SignatureError):
    """A signature header is present but cannot be parsed (bad layout, no timestamp, non-digit time)."""

    code: ClassVar[str] = "malformed_header"


class NoMatchingSignatureError(SignatureError):
    """No signature of the expected scheme matches the body under any configured secret."""

    code: ClassVar[str] = "no_matching_signature"


class TimestampOutsideToleranceError(SignatureError):
    """The signature matches but its timestamp lies outside the replay window."""

    code: ClassVar[str] = "timestamp_outside_tolerance"


class InvalidSigningArgument(ValueError):
    """A signer was built or called with unusable input (empty secret, bad tolerance, bad id).

    Not a `SignatureError`: it is a mistake of the caller, never a verdict on a request.
    """

    code: ClassVar[str] = "invalid_argument"
