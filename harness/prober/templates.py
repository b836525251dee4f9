"""Placeholders in profile templates: `{account_id}` in a path, `{now}` in an event body.

A profile describes requests as TOML values whose strings may hold `{name}` placeholders. A string that is
exactly one placeholder takes the value with its type (so `created = "{now}"` becomes an integer, as the
processors send it); a placeholder inside a longer string is replaced by its text. In paths the text is
percent-encoded, so an identifier can never change the shape of a URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = [
    "PLACEHOLDERS",
    "TemplateValues",
    "placeholders_in",
    "render_path",
    "render_value",
]

#: Every placeholder a profile may use, and what it stands for.
PLACEHOLDERS: Mapping[str, str] = {
    "account_id": "the cohort account the leg minted (or the configured probe account)",
    "plan": "the plan the upgrade should reach (profile `upgrade.plan`)",
    "plan_id": "the processor's test plan id (from the environment), else the plan",
    "event_id": "a fresh event id, evt_payprobe_<32 hex>",
    "subscription_id": "a fresh subscription id, sub_payprobe_<12 hex>",
    "invoice_id": "a fresh invoice id, in_payprobe_<12 hex>",
    "payment_id": "a fresh payment id, pay_payprobe_<12 hex>",
    "run_id": "the run's id",
    "now": "the prober's clock, whole unix seconds (an integer)",
}

TemplateValues = Mapping[str, str | int]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders_in(value: object) -> set[str]:
    """Every `{name}` used anywhere in a template value (strings, lists, tables, keys excluded)."""
    if isinstance(value, str):
        return set(_PLACEHOLDER.findall(value))
    if isinstance(value, Mapping):
        found: set[str] = set()
        for item in value.values():
            found |= placeholders_in(item)
        return found
    if isinstance(value, list | tuple):
        found = set()
        for item in value:
            found |= placeholders_in(item)
        return found
    return set()


def _substitute(text: str, values: TemplateValues, encode: bool) -> str:
    def one(match: re.Match[str]) -> str:
        raw = str(values[match.group(1)])
        return quote(raw, safe="") if encode else raw

    return _PLACEHOLDER.sub(one, text)


def render_value(value: Any, values: TemplateValues) -> Any:
    """A copy of `value` with every placeholder filled in; a lone placeholder keeps its value's type."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole is not None:
            return values[whole.group(1)]
        return _substitute(value, values, encode=False)
    if isinstance(value, Mapping):
        return {key: render_value(item, values) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render_value(item, values) for item in value]
    return value


def render_path(path: str, values: TemplateValues) -> str:
    """A request path (query string included) with placeholders filled in and percent-encoded."""
    return _substitute(path, values, encode=True)
