"""Exact match of two OpenAPI documents, reported by path, method and location.

Normalisation is formatting only: key order and number spelling (`1e6` and `1000000.0` are one number) never
count; anything else does, down to a description. Each difference names where it is, the way a reviewer reads
a contract: ``POST /v1/charges: responses.402 missing in served``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Difference", "diff_documents", "normalise"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Kind = Literal["missing_in_served", "extra_in_served", "changed"]


def normalise(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document with sorted keys (a canonical JSON round trip); lists keep their order."""
    result: dict[str, Any] = json.loads(json.dumps(document, sort_keys=True))
    return result


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """One place where the served document and the pinned one disagree."""

    where: str
    location: str
    kind: Kind
    pinned: Any = None
    served: Any = None

    def __str__(self) -> str:
        if self.kind == "missing_in_served":
            return f"{self.where}: {self.location} missing in served"
        if self.kind == "extra_in_served":
            return f"{self.where}: {self.location} extra in served (not in the pinned contract)"
        return (
            f"{self.where}: {self.location} differs: pinned {_short(self.pinned)}, "
            f"served {_short(self.served)}"
        )


def _same_scalar(a: Any, b: Any) -> bool:
    # `True == 1` in Python, but `{"const": true}` and `{"const": 1}` are different contracts
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _keyed(value: Any) -> Any:
    """Parameters are a list in OpenAPI but a set in meaning: key them by location and name."""
    if isinstance(value, list) and all(isinstance(p, dict) and "name" in p for p in value):
        return {f"{p.get('in', '?')}.{p['name']}": p for p in value}
    return value


def _join(location: str, key: str) -> str:
    return f"{location}.{key}" if location else key


def _walk(pinned: Any, served: Any, where: str, location: str, out: list[Difference]) -> None:
    if isinstance(pinned, dict) and isinstance(served, dict):
        for key in sorted(pinned.keys() | served.keys()):
            here = _join(location, key)
            if key not in served:
                out.append(
                    Difference(
                        where=where, location=here, kind="missing_in_served", pinned=pinned[key]
                    )
                )
            elif key not in pinned:
                out.append(
                    Difference(
                        where=where, location=here, kind="extra_in_served", served=served[key]
                    )
                )
            elif key == "parameters":
                _walk(_keyed(pinned[key]), _keyed(served[key]), where, here, out)
            else:
                _walk(pinned[key], served[key], where, here, out)
        return
    if isinstance(pinned, list) and isinstance(served, list) and len(pinned) == len(served):
        if all(isinstance(p, dict) for p in pinned) and all(isinstance(s, dict) for s in served):
            for index, (p, s) in enumerate(zip(pinned, served, strict=True)):
                _walk(p, s, where, f"{location}[{index}]", out)
            return
        if all(_same_scalar(p, s) for p, s in zip(pinned, served, strict=True)):
            return
    elif (
        not isinstance(pinned, dict | list)
        and not isinstance(served, dict | list)
        and _same_scalar(pinned, served)
    ):
        return
    out.append(
        Difference(
            where=where,
            location=location or "(value)",
            kind="changed",
            pinned=pinned,
            served=served,
        )
    )


def _operations(document: Mapping[str, Any]) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method in _METHODS:
                ops[f"{method.upper()} {path}"] = operation
        shared = {k: v for k, v in item.items() if k not in _METHODS}
        if shared:
            ops[f"{path} (path item)"] = shared
    return ops


def diff_documents(pinned: Mapping[str, Any], served: Mapping[str, Any]) -> list[Difference]:
    """Every difference between the pinned and the served document, operations first, then components."""
    out: list[Difference] = []
    pinned_ops, served_ops = _operations(pinned), _operations(served)
    for name in sorted(
        pinned_ops.keys() | served_ops.keys(), key=lambda n: (n.split(" ", 1)[-1], n)
    ):
        if name not in served_ops:
            out.append(Difference(where=name, location="operation", kind="missing_in_served"))
        elif name not in pinned_ops:
            out.append(Difference(where=name, location="operation", kind="extra_in_served"))
        else:
            _walk(pinned_ops[name], served_ops[name], name, "", out)
    pinned_components = pinned.get("components") or {}
    served_components = served.get("components") or {}
    for section in sorted(pinned_components.keys() | served_components.keys()):
        p_section = pinned_components.get(section) or {}
        s_section = served_components.get(section) or {}
        for name in sorted(p_section.keys() | s_section.keys()):
            where = f"components.{section}.{name}"
            if name not in s_section:
                out.append(Difference(where=where, location="definition", kind="missing_in_served"))
            elif name not in p_section:
                out.append(Difference(where=where, location="definition", kind="extra_in_served"))
            else:
                _walk(p_section[name], s_section[name], where, "", out)
    rest_pinned = {k: v for k, v in pinned.items() if k not in ("paths", "components")}
    rest_served = {k: v for k, v in served.items() if k not in ("paths", "components")}
    _walk(rest_pinned, rest_served, "document", "", out)
    return out
