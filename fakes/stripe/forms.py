"""Stripe's form encoding (PROCESSORS.md 1.7) and strict parameter reading.

v1 requests are ``application/x-www-form-urlencoded`` with nesting in brackets: ``metadata[k]=v`` is a hash,
``expand[0]=a`` (what stripe-python sends) and ``expand[]=a`` are arrays, and they compose
(``line_items[0][price_data][recurring][interval]=month``). :func:`decode_form` turns the pairs into nested
dicts and lists; :class:`Params` reads them with Stripe's error codes (``parameter_missing``,
``parameter_unknown``, ``parameter_invalid_integer``, ``parameter_invalid_empty``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from fakes.stripe.errors import StripeApiError, missing

__all__ = ["Params", "decode_form", "merge_metadata", "parse_pairs"]

Form = dict[str, Any]

# Stripe's integers are signed 64-bit: ASCII digits only (``²`` and ``--5`` are not integers), and the
# length bound keeps ``int()`` away from Python's 4,300-digit conversion limit.
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_INDEX = re.compile(r"[0-9]{1,9}")
_INT64 = range(-(2**63), 2**63)


def _as_int64(text: str) -> int | None:
    """``text`` as a signed 64-bit integer, or None when Stripe would not read it as one."""
    if _INTEGER.fullmatch(text) is None:
        return None
    number = int(text)
    return number if number in _INT64 else None


def parse_pairs(raw: str) -> list[tuple[str, str]]:
    """``a=1&b[c]=2`` as ordered pairs, blank values kept (an empty value means "unset" to Stripe)."""
    if not raw:  # most GETs: skip parse_qsl's set-up (the customer GET is the benchmark's hot path)
        return []
    return parse_qsl(raw, keep_blank_values=True)


def _split_key(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    parts = [head]
    while rest:
        inner, closing, rest = rest.partition("]")
        if not closing:
            raise _invalid(key)
        parts.append(inner)
        if rest:
            if not rest.startswith("["):
                raise _invalid(key)
            rest = rest[1:]
    return parts


def _invalid(key: str) -> StripeApiError:
    return StripeApiError(400, f"Invalid parameter name: {key}", param=key)


def decode_form(pairs: Iterable[tuple[str, str]]) -> Form:
    """Nest bracketed keys; hashes whose keys are all indexes become lists, in index order."""
    root: Form = {}
    for key, value in pairs:
        parts = _split_key(key)
        node = root
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise StripeApiError(400, "Invalid hash", param="[".join(parts[: depth + 1]))
            node = child
        leaf = parts[-1]
        if leaf == "":  # a[]=x appends
            leaf = str(len(node))
        if isinstance(node.get(leaf), dict):
            raise StripeApiError(400, "Invalid hash", param=key)
        node[leaf] = value
    return _listify(root)


def _listify(node: Form) -> Form:
    for key, value in node.items():
        if isinstance(value, dict):
            node[key] = _as_list_or_dict(_listify(value))
    return node


def _as_list_or_dict(node: Form) -> Any:
    if node and all(_INDEX.fullmatch(key) for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node


class Params:
    """Reads one request's (or one nested hash's) parameters the way Stripe validates them."""

    def __init__(self, data: Mapping[str, Any], *, prefix: str = "") -> None:
        self._data = data
        self._prefix = prefix

    @property
    def data(self) -> Mapping[str, Any]:
        """The raw decoded parameters."""
        return self._data

    def name(self, key: str) -> str:
        """The parameter's full name as Stripe reports it (``line_items[0][price]``)."""
        return f"{self._prefix}[{key}]" if self._prefix else key

    def has(self, key: str) -> bool:
        """Whether the parameter was sent at all."""
        return key in self._data

    def only(self, allowed: Iterable[str]) -> Params:
        """Refuse any parameter not in ``allowed`` (``expand`` is always allowed at the top level)."""
        permitted = set(allowed)
        if not self._prefix:
            permitted.add("expand")
        for key in self._data:
            if key not in permitted:
                raise StripeApiError(
                    400,
                    f"Received unknown parameter: {self.name(key)}",
                    code="parameter_unknown",
                    param=self.name(key),
                )
        return self

    def text(
        self,
        key: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        choices: Iterable[str] | None = None,
    ) -> str | None:
        """A string parameter; ``""`` counts as absent for optional ones."""
        value = self._data.get(key)
        if value is None or value == "":
            if value == "" and required:
                raise self._empty(key)
            if required:
                raise missing(self.name(key))
            return None
        if not isinstance(value, str):
            raise StripeApiError(400, f"Invalid string: {self.name(key)}", param=self.name(key))
        if max_length is not None and len(value) > max_length:
            raise StripeApiError(
                400,
                f"{self.name(key)} must be at most {max_length} characters.",
                param=self.name(key),
            )
        if choices is not None:
            options = tuple(choices)
            if value not in options:
                raise StripeApiError(
                    400,
                    f"Invalid {self.name(key)}: must be one of {', '.join(options)}",
                    param=self.name(key),
                )
        return value

    def required_text(self, key: str, **kwargs: Any) -> str:
        """A string parameter that must be present."""
        value = self.text(key, required=True, **kwargs)
        assert value is not None  # text(required=True) raised otherwise
        return value

    def integer(
        self, key: str, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        """An integer parameter (``parameter_invalid_integer`` when it is not one)."""
        value = self._data.get(key)
        if value is None:
            if required:
                raise missing(self.name(key))
            return None
        if value == "":
            raise self._empty(key)
        number = _as_int64(value) if isinstance(value, str) else None
        if number is None:
            shown = value[:40] if isinstance(value, str) else "a hash or array"
            raise StripeApiError(
                400,
                f"Invalid integer: {shown}",
                code="parameter_invalid_integer",
                param=self.name(key),
            )
        if minimum is not None and number < minimum:
            raise StripeApiError(
                400,
                f"Invalid {self.name(key)}: must be greater than or equal to {minimum}",
                code="parameter_invalid_integer",
                param=self.name(key),
            )
        return number

    def required_integer(self, key: str, *, minimum: int | None = None) -> int:
        """An integer parameter that must be present."""
        value = self.integer(key, required=True, minimum=minimum)
        assert value is not None  # integer(required=True) raised otherwise
        return value

    def boolean(self, key: str) -> bool | None:
        """A ``true``/``false`` parameter."""
        value = self._data.get(key)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise StripeApiError(400, f"Invalid boolean: {value}", param=self.name(key))
        return bool(value == "true")

    def currency(self, key: str = "currency", *, required: bool = True) -> str | None:
        """A three-letter ISO currency, lowercased as Stripe stores it."""
        value = self.text(key, required=required)
        if value is None:
            return None
        if len(value) != 3 or not value.isalpha():
            raise StripeApiError(400, f"Invalid currency: {value}", param=self.name(key))
        return value.lower()

    def nested(self, key: str, *, required: bool = False) -> Params | None:
        """A nested hash, as :class:`Params` for further reading."""
        value = self._data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return None
        if not isinstance(value, dict):
            raise StripeApiError(400, "Invalid hash", param=self.name(key))
        return Params(value, prefix=self.name(key))

    def array(self, key: str, *, required: bool = False) -> list[Any] | None:
        """An array (``a[0]=x`` or ``a[]=x``)."""
        value = self._data.get(key)
        if value is None or value == "":
            if required:
                raise missing(self.name(key))
            return None
        if not isinstance(value, list):
            raise StripeApiError(400, "Invalid array", param=self.name(key))
        return value

    def metadata(self, key: str = "metadata") -> dict[str, str] | None:
        """``metadata[k]=v`` pairs; ``metadata=`` (empty) means "clear all", returned as ``{}``;
        an empty value for one key unsets that key (returned as ``""`` for :func:`merge_metadata`)."""
        value = self._data.get(key)
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise StripeApiError(400, "Invalid hash", param=self.name(key))
        if len(value) > 50:
            raise StripeApiError(400, "Metadata can have at most 50 keys.", param=self.name(key))
        return dict(value)

    def expand(self) -> list[str]:
        """The ``expand`` paths requested."""
        value = self._data.get("expand")
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise StripeApiError(400, "Invalid array", param="expand")
        return list(value)

    def _empty(self, key: str) -> StripeApiError:
        name = self.name(key)
        return StripeApiError(
            400,
            f"You passed an empty string for '{name}'. We assume empty values are an attempt to unset "
            f"a parameter; however '{name}' cannot be unset. You should remove '{name}' from your "
            "request or supply a non-empty value.",
            code="parameter_invalid_empty",
            param=name,
        )


def merge_metadata(current: Mapping[str, str], update: Mapping[str, str] | None) -> dict[str, str]:
    """Stripe's metadata update: keys merge, an empty value removes a key, ``{}`` clears all."""
    if update is None:
        return dict(current)
    if not update:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
