"""Fault injection: rules that make a fake answer an error, answer late, time out, drop the connection, or
lose its answer after doing the work.

A :class:`Fault` selects requests (route name, path pattern, method) and says what happens to them (a status
with the processor's own error body, a latency, a timeout, a drop) and when (``first_k`` matching calls,
``every_nth`` matching call). The fake consults :meth:`FaultSet.match` before running the handler.

By default a fault models the network or the processor's edge failing *before* the API executes, so an
idempotent result is never saved for it and a client retry with the same key can succeed. A rule with
``during_execution=True`` instead fires inside the processor's execution (Stripe: after the idempotency key is
claimed), so its status is saved and replayed like a real Stripe 500 (PROCESSORS.md 1.5, S-IDEM), and its
latency keeps the key in flight (a concurrent retry gets 409).

A rule with ``lose_answer=True`` models the failure idempotency keys exist for: the processor executes the
request in full (the object is created, its result saved under its idempotency key, the journal records it)
and then the connection drops before the answer leaves. The client cannot tell whether anything happened; a
retry with the same key gets the saved result, a retry with another key creates a second object.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from fakes._common.errors import InvalidFakeArgument

__all__ = ["Fault", "FaultSet"]

_METHODS = frozenset({"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """One fault rule. Selectors left ``None`` match everything; effects combine as latency, then
    drop, timeout or status (first that is set, in that order); ``lose_answer`` instead lets the request
    execute and drops the connection afterwards (after any latency).

    ``path`` is a glob where ``*`` matches within one path segment and ``**`` across segments
    (``/v1/customers/*``); a trailing slash is not significant (``/v2/invoices`` also selects
    ``/v2/invoices/``, the path xendit-python sends, which the fake routes the same). ``timeout`` holds the request ``timeout_seconds`` (longer than the clients under
    test wait) and then answers 504, so a hung request always ends. ``body`` overrides the processor's error
    body for ``status``.
    """

    route: str | None = None
    path: str | None = None
    method: str | None = None
    status: int | None = None
    body: Mapping[str, Any] | None = None
    latency_seconds: float = 0.0
    timeout: bool = False
    timeout_seconds: float = 30.0
    drop: bool = False
    every_nth: int | None = None
    first_k: int | None = None
    during_execution: bool = False
    lose_answer: bool = False

    def __post_init__(self) -> None:
        if self.method is not None and self.method.upper() not in _METHODS:
            raise InvalidFakeArgument(f"fault method must be an HTTP method, got {self.method!r}")
        if self.status is not None and not 100 <= self.status <= 599:
            raise InvalidFakeArgument(f"fault status must be in 100..599, got {self.status}")
        if self.latency_seconds < 0:
            raise InvalidFakeArgument(
                f"fault latency_seconds must be >= 0, got {self.latency_seconds}"
            )
        if self.timeout_seconds <= 0:
            raise InvalidFakeArgument(
                f"fault timeout_seconds must be > 0, got {self.timeout_seconds}"
            )
        for name in ("every_nth", "first_k"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InvalidFakeArgument(f"fault {name} must be >= 1, got {value}")
        if self.lose_answer and (self.status is not None or self.timeout or self.drop):
            raise InvalidFakeArgument(
                "lose_answer executes the request: it cannot also answer a status, time out or drop"
            )
        if (
            self.status is None
            and not self.timeout
            and not self.drop
            and not self.lose_answer
            and self.latency_seconds == 0
        ):
            raise InvalidFakeArgument(
                "a fault needs an effect: status, latency_seconds, timeout, drop or lose_answer"
            )

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        """Build a rule from the control API's JSON body; unknown or mistyped fields raise
        :class:`InvalidFakeArgument` naming the field."""
        if not isinstance(data, dict):
            raise InvalidFakeArgument("a fault rule must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidFakeArgument(f"unknown fault fields: {', '.join(unknown)}")
        types: dict[str, tuple[type, ...]] = {
            "route": (str,),
            "path": (str,),
            "method": (str,),
            "status": (int,),
            "body": (dict,),
            "latency_seconds": (int, float),
            "timeout": (bool,),
            "timeout_seconds": (int, float),
            "drop": (bool,),
            "every_nth": (int,),
            "first_k": (int,),
            "during_execution": (bool,),
            "lose_answer": (bool,),
        }
        for name, value in data.items():
            allowed = types[name]
            is_bool_as_number = isinstance(value, bool) and bool not in allowed
            if value is not None and (not isinstance(value, allowed) or is_bool_as_number):
                raise InvalidFakeArgument(f"fault field {name} has the wrong type: {value!r}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        """The rule as JSON (the inverse of :meth:`from_json`)."""
        return asdict(self)


@dataclass(slots=True)
class _Rule:
    id: str
    fault: Fault
    method: str | None
    path_re: re.Pattern[str] | None
    matched: int = 0
    fired: int = 0

    def selects(self, method: str, path: str, route: str | None) -> bool:
        fault = self.fault
        if fault.route is not None and fault.route != route:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path_re is None or self.path_re.fullmatch(path) is not None


def _compile_path(pattern: str) -> re.Pattern[str]:
    # Compiled once when the rule is added, never per request.
    pieces = []
    for token in re.split(r"(\*\*|\*)", pattern):
        if token == "**":
            pieces.append(".*")
        elif token == "*":
            pieces.append("[^/]*")
        else:
            pieces.append(re.escape(token))
    return re.compile("".join(pieces).removesuffix("/") + "/?")


@dataclass(slots=True)
class FaultSet:
    """The active fault rules of one fake; thread-safe (rules are added from the test thread)."""

    _rules: dict[str, _Rule] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, fault: Fault) -> str:
        """Activate ``fault``; returns its rule id (``flt_1``, ``flt_2``, ...) for :meth:`remove`."""
        path_re = _compile_path(fault.path) if fault.path is not None else None
        method = fault.method.upper() if fault.method is not None else None
        with self._lock:
            rule_id = f"flt_{next(self._ids)}"
            self._rules[rule_id] = _Rule(rule_id, fault, method, path_re)
        return rule_id

    def remove(self, rule_id: str) -> bool:
        """Deactivate one rule; ``False`` if there was no such rule."""
        with self._lock:
            return self._rules.pop(rule_id, None) is not None

    def clear(self) -> None:
        """Deactivate every rule."""
        with self._lock:
            self._rules.clear()

    def rules(self) -> dict[str, Fault]:
        """The active rules by id."""
        with self._lock:
            return {rule_id: rule.fault for rule_id, rule in self._rules.items()}

    def stats(self) -> dict[str, dict[str, int]]:
        """Per rule: how many requests it selected (``matched``) and how many it fired on (``fired``)."""
        with self._lock:
            return {
                rule_id: {"matched": rule.matched, "fired": rule.fired}
                for rule_id, rule in self._rules.items()
            }

    def match(self, method: str, path: str, route: str | None) -> Fault | None:
        """The fault to apply to this request, if any, counting the call against every selecting rule.

        Rules are tried in the order they were added; the first that fires wins, but every selecting rule
        counts the call so ``every_nth``/``first_k`` stay true to "the Nth matching call".
        """
        if not self._rules:  # the common case: no faults, no lock
            return None
        chosen: Fault | None = None
        with self._lock:
            for rule in self._rules.values():
                if not rule.selects(method, path, route):
                    continue
                rule.matched += 1
                fault = rule.fault
                if fault.first_k is not None and rule.matched > fault.first_k:
                    continue
                if fault.every_nth is not None and rule.matched % fault.every_nth != 0:
                    continue
                if chosen is None:
                    rule.fired += 1
                    chosen = fault
        return chosen
