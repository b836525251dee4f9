"""Validation of recording lines against ``contracts/webhook-recording.schema.json`` (jsonschema)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from contracts import contract_path

__all__ = ["SCHEMA_FILE", "recording_schema", "schema_errors"]

SCHEMA_FILE = "webhook-recording.schema.json"


@cache
def _validator() -> Any:
    # Cached per process: the schema is read-only data shipped in the wheel, so sharing it is safe.
    schema = json.loads(contract_path(SCHEMA_FILE).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def recording_schema() -> dict[str, Any]:
    """The recording line schema as a dict."""
    schema: dict[str, Any] = json.loads(contract_path(SCHEMA_FILE).read_text(encoding="utf-8"))
    return schema


def schema_errors(obj: Any, *, limit: int = 3) -> list[str]:
    """Readable schema violations of one line (``at <path>: <message>``), at most ``limit``; [] when valid."""
    errors = sorted(_validator().iter_errors(obj), key=lambda e: list(e.absolute_path))
    messages = []
    for error in errors[:limit]:
        where = "/".join(str(p) for p in error.absolute_path) or "(line)"
        messages.append(f"at {where}: {error.message[:200]}")
    return messages
