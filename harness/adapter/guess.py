"""Which route of a service's OpenAPI document is which profile operation, guessed from paths and methods.

A guess is made only from what the document says plainly: the method, the words of the path (`users`,
`credits`, `charges`), whether it ends in a parameter (an item) and the parameters it takes. A path's
account parameter becomes `{account_id}`, a rail or provider parameter `{rail}` where the operation takes
one; an item read through a required query parameter (`GET /v1/billing?account_id=`) is guessed with it.
What cannot be guessed is None: the starter marks it as a gap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from typing import Any

from harness.prober.gate_profile import OPERATIONS

__all__ = ["GUESSES", "guess_operations", "guess_status", "guess_webhooks"]

#: (operation, method, words one of which the path holds (earlier words first), whether it reads one item)
GUESSES: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("create_account", "post", ("users", "accounts", "customers", "teams"), False),
    ("read_account", "get", ("users", "accounts", "customers", "teams"), True),
    ("delete_account", "delete", ("users", "accounts", "customers", "teams"), True),
    ("ledger", "get", ("ledger", "credits", "transactions", "history", "balance"), False),
    ("charge", "post", ("charge", "usage", "debit"), False),
    ("topup", "post", ("topup", "top-up", "purchase", "credits", "deposit"), False),
    ("checkout", "post", ("checkout", "subscribe"), False),
    ("billing", "get", ("billing", "subscription", "plan"), True),
)
_RAILS = ("stripe", "xendit", "cdp")
_RAIL_PARAMS = frozenset({"rail", "provider", "processor", "gateway"})
_ACCOUNT_QUERY = re.compile(r"^(account|user|customer|team)(_?id)?$", re.I)
_PARAM = re.compile(r"\{([^}]+)\}")


def _words(path: str) -> list[str]:
    return [p for p in re.split(r"[/_.]", path.lower()) if p and not p.startswith("{")]


def _rank(path: str, words: tuple[str, ...]) -> int | None:
    """The first of `words` the path holds (a plural counts: `charges` holds `charge`)."""
    held = _words(path)
    return next((i for i, w in enumerate(words) if w in held or f"{w}s" in held), None)


def _is_rail(name: str) -> bool:
    return name.lower() in _RAIL_PARAMS


def _template(path: str, operation: str) -> str:
    takes_rail = "rail" in OPERATIONS[operation][0]
    return _PARAM.sub(
        lambda m: "{rail}" if takes_rail and _is_rail(m.group(1)) else "{account_id}",
        path.rstrip("/"),
    )


def _account_query(definition: Mapping[str, Any]) -> str | None:
    for parameter in definition.get("parameters", []) or []:
        if (
            isinstance(parameter, Mapping)
            and parameter.get("in") == "query"
            and parameter.get("required")
            and _ACCOUNT_QUERY.match(str(parameter.get("name", "")))
        ):
            return str(parameter["name"])
    return None


def _guess(paths: Mapping[str, Any], operation: str, method: str, words: tuple[str, ...],
           item: bool) -> str | None:  # fmt: skip
    found: list[tuple[int, int, str]] = []
    for path, ops in paths.items():
        if not isinstance(ops, Mapping) or method not in ops:
            continue
        rank = _rank(path, words)
        if rank is None:
            continue
        last = path.rstrip("/").rsplit("/", 1)[-1]
        ends_in_item = last.startswith("{") and not _is_rail(last.strip("{}"))
        query = _account_query(ops[method]) if item and not ends_in_item else None
        if ends_in_item != item and query is None:
            continue
        guessed = _template(path, operation)
        found.append((rank, len(path), f"{guessed}?{query}={{account_id}}" if query else guessed))
    return min(found)[2] if found else None


def guess_operations(paths: Mapping[str, Any]) -> dict[str, str | None]:
    """Each operation of `GUESSES` → its guessed path template, or None."""
    return {op: _guess(paths, op, method, words, item) for op, method, words, item in GUESSES}


def guess_webhooks(paths: Mapping[str, Any]) -> dict[str, str | None]:
    """Each rail → its webhook path: one naming the rail, else a webhook path with a rail parameter."""
    hooks = sorted(p for p in paths if "webhook" in p.lower() and "post" in (paths[p] or {}))
    per_rail = [p for p in hooks if any(_is_rail(n) for n in _PARAM.findall(p))]
    found: dict[str, str | None] = {}
    for rail in _RAILS:
        named = next((p for p in hooks if rail in p.lower()), None)
        if named is None and per_rail:
            named = _PARAM.sub(partial(_rail_for, rail), per_rail[0])
        found[rail] = named
    return found


def _rail_for(rail: str, m: re.Match[str]) -> str:
    return rail if _is_rail(m.group(1)) else m.group(0)


def guess_status(paths: Mapping[str, Any]) -> str | None:
    """The route saying whether billing is live (a `status` route before a mere `health` one)."""
    candidates = [
        p
        for p in paths
        if re.search(r"status|health", p.lower()) and "get" in (paths[p] or {}) and "{" not in p
    ]
    return min(candidates, key=lambda p: ("status" not in p.lower(), len(p)), default=None)
