"""Checks Stripe objects against the pinned ``stripe.objects.schema.json`` (see ``stripe_objects.py``).

:func:`violations` returns one :class:`Violation` per defect, classified the way issue 15 counts them:
``absent`` (a field Stripe always sends, as ``null`` when it has no value, that the object omits) or
``extra`` (a field the API version does not declare: Stripe's OpenAPI spec does not forbid them, so
issue 15's count leaves them out, but a field a later version added misleads a reader of the fake) or
``hard`` (anything else: a missing non-nullable field, a wrong type, a value outside an enum).
"""

from __future__ import annotations

import ast
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft7Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]

__all__ = ["Violation", "schema_names", "violations"]

PINNED = Path(__file__).with_name("stripe.objects.schema.json")


@dataclass(frozen=True, slots=True)
class Violation:
    """One defect: where (a JSON path), what kind, and jsonschema's message."""

    kind: Literal["hard", "absent", "extra"]
    where: str
    message: str


@functools.cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(PINNED.read_text())
    return document


@functools.cache
def _validator(name: str) -> Draft7Validator:
    document = _document()
    root = document["x-roots"][name]
    return Draft7Validator({**root, "definitions": document["definitions"]})


def schema_names() -> frozenset[str]:
    """The ``object`` values the pinned file has a schema for."""
    return frozenset(_document()["x-roots"])


def _allows_null(schema: Mapping[str, Any]) -> bool:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/definitions/")
        return _allows_null(_document()["definitions"][name])
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_allows_null(option) for option in schema.get("anyOf", ()))


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    if error.validator == "anyOf" and error.context:
        chosen = best_match(error.context)
        if chosen is not None and chosen.validator != "type":
            yield from _leaves(chosen)
            return
    yield error


def _classify(error: ValidationError) -> list[Violation]:
    where = "$" + "".join(
        f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.absolute_path
    )
    if error.validator == "required":
        # jsonschema reports each missing property on its own: "'name' is a required property".
        field = ast.literal_eval(error.message.removesuffix(" is a required property"))
        properties = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        nullable = _allows_null(properties.get(field, {}))
        kind: Literal["hard", "absent", "extra"] = "absent" if nullable else "hard"
        return [
            Violation(
                kind,
                f"{where}.{field}",
                f"missing {'nullable' if nullable else 'non-nullable'} field",
            )
        ]
    if error.validator == "additionalProperties":
        return [Violation("extra", where, error.message[:300])]
    return [Violation("hard", where, error.message[:300])]


def violations(obj: Mapping[str, Any], name: str | None = None) -> list[Violation]:
    """Every violation of ``obj`` against the schema ``name`` (default: its ``object`` member)."""
    chosen = name if name is not None else str(obj.get("object"))
    if chosen not in schema_names():
        return [Violation("hard", "$.object", f"no pinned schema for object {chosen!r}")]
    found: list[Violation] = []
    for error in _validator(chosen).iter_errors(obj):
        for leaf in _leaves(error):
            found.extend(_classify(leaf))
    return found
