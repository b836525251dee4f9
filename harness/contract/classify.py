"""`contract diff OLD NEW`: which changes between two OpenAPI documents break existing clients.

No maintained Python library does this well (see the gate's report note): oasdiff is a Go binary, openapi-diff
and optic need Node, and the PyPI packages found are young single-author tools that compare schemas without
direction (a property removed from a *request* is not the same change as one removed from a *response*) and
ignore enums. So this is a small direction-aware classifier, modelled on oasdiff's rules:

* a **request** (what clients send) breaks clients when it accepts less: an operation, parameter, media type
  or enum value removed; something new required; a type changed; a bound tightened; unknown fields refused.
* a **response** (what clients read) breaks clients when it promises less or something new: a success status,
  property or media type removed; a required property made optional; a type changed; an enum value added
  (a client switching on `error.code` meets a code it does not know).
* documentation (descriptions, summaries, titles, tags, examples) never breaks anything.

`$ref`s are resolved against each document's components, so a change to a shared schema is reported at every
operation that uses it, in the direction it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Change", "classify_changes"]

Direction = Literal["request", "response"]
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_DOC_KEYS = frozenset(
    {
        "description",
        "summary",
        "title",
        "tags",
        "example",
        "examples",
        "operationId",
        "externalDocs",
    }
)
# bounds that accept more when they go up (maxima) or down (minima)
_MAXIMA = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_MINIMA = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One change between two contracts, and whether existing clients break on it."""

    where: str
    location: str
    breaking: bool
    reason: str

    def __str__(self) -> str:
        label = "BREAKING" if self.breaking else "non-breaking"
        location = f" {self.location}" if self.location else ""
        return f"[{label}] {self.where}:{location} {self.reason}"


class _Walker:
    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def add(self, where: str, location: str, breaking: bool, reason: str) -> None:
        self.changes.append(
            Change(where=where, location=location, breaking=breaking, reason=reason)
        )

    @staticmethod
    def _resolve(document: Mapping[str, Any], schema: Any, depth: int = 0) -> Any:
        while isinstance(schema, dict) and "$ref" in schema and depth < 32:
            node: Any = document
            for part in str(schema["$ref"]).lstrip("#/").split("/"):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            schema, depth = node, depth + 1
        return schema

    def schema(
        self, old: Any, new: Any, where: str, loc: str, direction: Direction, depth: int = 0
    ) -> None:
        old, new = self._resolve(self.old, old), self._resolve(self.new, new)
        if not isinstance(old, dict) or not isinstance(new, dict) or depth > 24:
            return
        narrowing_breaks = direction == "request"
        if old.get("type") != new.get("type") and "type" in old and "type" in new:
            self.add(where, loc, True, f"type {old['type']} -> {new['type']}")
            return
        self._enum(old, new, where, loc, direction)
        for key in _MAXIMA + _MINIMA:
            if key in old or key in new:
                self._bound(key, old.get(key), new.get(key), where, loc, narrowing_breaks)
        for key in ("pattern", "format"):
            if old.get(key) != new.get(key):
                self.add(
                    where,
                    f"{loc}.{key}",
                    narrowing_breaks,
                    f"{key} {old.get(key)!r} -> {new.get(key)!r}",
                )
        self._properties(old, new, where, loc, direction, depth)
        if "items" in old and "items" in new:
            self.schema(old["items"], new["items"], where, f"{loc}.items", direction, depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            o_list, n_list = old.get(key) or [], new.get(key) or []
            for index, (o, n) in enumerate(zip(o_list, n_list, strict=False)):
                self.schema(o, n, where, f"{loc}.{key}[{index}]", direction, depth + 1)
            if len(o_list) != len(n_list) and key != "allOf":
                grew = len(n_list) > len(o_list)
                # more alternatives: a request accepts more (fine), a response may send more (breaks readers)
                breaking = grew != narrowing_breaks
                self.add(
                    where, f"{loc}.{key}", breaking, f"{len(o_list)} -> {len(n_list)} alternatives"
                )
            elif len(o_list) != len(n_list):
                self.add(where, f"{loc}.allOf", True, f"{len(o_list)} -> {len(n_list)} parts")

    def _enum(
        self, old: dict[str, Any], new: dict[str, Any], where: str, loc: str, direction: Direction
    ) -> None:
        o_enum = old.get("enum", [old["const"]] if "const" in old else None)
        n_enum = new.get("enum", [new["const"]] if "const" in new else None)
        if o_enum is None and n_enum is None:
            return
        if o_enum is None or n_enum is None:
            added = n_enum is not None
            self.add(
                where,
                f"{loc}.enum",
                added == (direction == "request"),
                "enum " + ("added" if added else "removed"),
            )
            return
        removed = [v for v in o_enum if v not in n_enum]
        added_values = [v for v in n_enum if v not in o_enum]
        if removed:
            self.add(where, f"{loc}.enum", direction == "request", f"values removed: {removed}")
        if added_values:
            self.add(where, f"{loc}.enum", direction == "response", f"values added: {added_values}")

    def _bound(
        self, key: str, old: Any, new: Any, where: str, loc: str, narrowing_breaks: bool
    ) -> None:
        if old == new or isinstance(old, bool) or isinstance(new, bool):
            return
        is_max = key in _MAXIMA
        if old is None or new is None:
            narrower = new is not None  # a bound added narrows, a bound dropped widens
        else:
            narrower = new < old if is_max else new > old
        self.add(where, f"{loc}.{key}", narrower == narrowing_breaks, f"{key} {old} -> {new}")

    def _properties(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        where: str,
        loc: str,
        direction: Direction,
        depth: int,
    ) -> None:
        o_props, n_props = old.get("properties") or {}, new.get("properties") or {}
        o_req, n_req = set(old.get("required") or []), set(new.get("required") or [])
        request = direction == "request"
        for name in sorted(o_props.keys() | n_props.keys()):
            here = f"{loc}.properties.{name}"
            if name not in n_props:
                self.add(where, here, True, "property removed")
            elif name not in o_props:
                self.add(
                    where,
                    here,
                    request and name in n_req,
                    "property added" + (" (required)" if name in n_req else ""),
                )
            else:
                self.schema(o_props[name], n_props[name], where, here, direction, depth + 1)
        for name in sorted((n_req - o_req) & o_props.keys()):
            self.add(where, f"{loc}.properties.{name}", request, "became required")
        for name in sorted((o_req - n_req) & n_props.keys()):
            self.add(where, f"{loc}.properties.{name}", not request, "became optional")
        o_extra, n_extra = (
            old.get("additionalProperties", True),
            new.get("additionalProperties", True),
        )
        if o_extra is not False and n_extra is False:
            self.add(where, f"{loc}.additionalProperties", request, "unknown fields now refused")
        elif o_extra is False and n_extra is not False:
            self.add(
                where, f"{loc}.additionalProperties", not request, "unknown fields now allowed"
            )

    def content(self, old: Any, new: Any, where: str, loc: str, direction: Direction) -> None:
        old, new = old or {}, new or {}
        for media in sorted(old.keys() | new.keys()):
            here = f"{loc}.{media}"
            if media not in new:
                self.add(where, here, True, "media type removed")
            elif media not in old:
                self.add(where, here, False, "media type added")
            else:
                self.schema(
                    old[media].get("schema"),
                    new[media].get("schema"),
                    where,
                    f"{here}.schema",
                    direction,
                )

    def operation(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        o_params = {
            f"{p.get('in')}.{p.get('name')}": p
            for p in map(self._param, old.get("parameters") or [])
        }
        n_params = {
            f"{p.get('in')}.{p.get('name')}": p
            for p in map(self._param, new.get("parameters") or [])
        }
        for key in sorted(o_params.keys() | n_params.keys()):
            here = f"parameters.{key}"
            if key not in n_params:
                self.add(where, here, True, "parameter removed")
            elif key not in o_params:
                required = bool(n_params[key].get("required"))
                self.add(
                    where,
                    here,
                    required,
                    "required parameter added" if required else "optional parameter added",
                )
            else:
                o, n = o_params[key], n_params[key]
                if bool(o.get("required")) != bool(n.get("required")):
                    self.add(
                        where,
                        here,
                        bool(n.get("required")),
                        "became " + ("required" if n.get("required") else "optional"),
                    )
                self.schema(o.get("schema"), n.get("schema"), where, f"{here}.schema", "request")
        o_body = self._resolve(self.old, old.get("requestBody"))
        n_body = self._resolve(self.new, new.get("requestBody"))
        if o_body and not n_body:
            self.add(where, "requestBody", True, "request body removed")
        elif n_body and not o_body:
            self.add(where, "requestBody", bool(n_body.get("required")), "request body added")
        elif o_body and n_body:
            if not o_body.get("required") and n_body.get("required"):
                self.add(where, "requestBody", True, "request body became required")
            self.content(
                o_body.get("content"),
                n_body.get("content"),
                where,
                "requestBody.content",
                "request",
            )
        o_resp, n_resp = old.get("responses") or {}, new.get("responses") or {}
        for status in sorted(o_resp.keys() | n_resp.keys()):
            here = f"responses.{status}"
            success = str(status).startswith("2")
            if status not in n_resp:
                self.add(
                    where,
                    here,
                    success,
                    "success response removed" if success else "error response removed",
                )
            elif status not in o_resp:
                self.add(where, here, False, "response added")
            else:
                o = self._resolve(self.old, o_resp[status])
                n = self._resolve(self.new, n_resp[status])
                self.content(
                    o.get("content"), n.get("content"), where, f"{here}.content", "response"
                )

    def _param(self, parameter: Any) -> dict[str, Any]:
        resolved = self._resolve(self.old, parameter) if "$ref" in parameter else parameter
        return dict(resolved) if isinstance(resolved, dict) else {}

    def documents(self) -> None:
        o_paths, n_paths = self.old.get("paths") or {}, self.new.get("paths") or {}
        for path in sorted(o_paths.keys() | n_paths.keys()):
            o_item, n_item = o_paths.get(path) or {}, n_paths.get(path) or {}
            for method in _METHODS:
                where = f"{method.upper()} {path}"
                if method in o_item and method not in n_item:
                    self.add(where, "", True, "operation removed")
                elif method in n_item and method not in o_item:
                    self.add(where, "", False, "operation added")
                elif method in o_item:
                    before = len(self.changes)
                    self.operation(o_item[method], n_item[method], where)
                    if len(self.changes) == before and o_item[method] != n_item[method]:
                        if _strip_docs(o_item[method]) == _strip_docs(n_item[method]):
                            self.add(where, "", False, "documentation changed")
                        else:
                            # fail safe: a change this classifier cannot rate is reviewed by a person
                            self.add(where, "", True, "changed in a way not classified; review it")


def _strip_docs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_docs(v) for k, v in value.items() if k not in _DOC_KEYS}
    if isinstance(value, list):
        return [_strip_docs(v) for v in value]
    return value


def classify_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from `old` to `new` that a client could notice, breaking ones first."""
    walker = _Walker(old, new)
    walker.documents()
    if (old.get("info") or {}).get("version") != (new.get("info") or {}).get("version"):
        walker.add("document", "info.version", False, "version changed")
    unique = {(c.where, c.location, c.breaking, c.reason): c for c in walker.changes}
    return sorted(unique.values(), key=lambda c: (not c.breaking, c.where, c.location))
