"""`payharness init --openapi URL`: a starter profile guessed from a service's OpenAPI document.

The obvious mappings are guessed from the paths and methods (an account or user collection, its item, a
ledger or credit history, a charge, a purchase or top-up, a checkout, a billing read, a webhook per rail, a
status route). Everything that cannot be read from paths alone (answer fields, money unit, error codes, how a
test balance is set) is left as a gap: a `GAP:` value the loader refuses, naming the key, so the starter
cannot be used before a person has filled it in; `payharness profile check` then tries it against the
running service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from harness.errors import InvalidArgument
from harness.prober._toml import GAP

__all__ = ["GAP", "read_openapi", "starter_profile"]

#: (operation, method, words one of which the path holds, whether the path ends in a parameter)
_GUESSES: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("create_account", "post", ("users", "accounts", "customers", "teams"), False),
    ("read_account", "get", ("users", "accounts", "customers", "teams"), True),
    ("delete_account", "delete", ("users", "accounts", "customers", "teams"), True),
    ("ledger", "get", ("ledger", "credits", "transactions", "history", "balance"), False),
    ("charge", "post", ("charge", "usage", "debit"), False),
    ("topup", "post", ("topup", "top-up", "purchase", "credits", "deposit"), False),
    ("checkout", "post", ("checkout", "subscribe"), False),
    ("billing", "get", ("billing", "subscription", "plan"), True),
)


def read_openapi(source: str) -> dict[str, Any]:
    """The OpenAPI document at a URL or in a file."""
    try:
        if source.startswith(("http://", "https://")):
            text = httpx.get(source, timeout=15).raise_for_status().text
        else:
            text = Path(source).read_text(encoding="utf-8")
        document = json.loads(text)
    except (httpx.HTTPError, OSError, ValueError) as exc:
        raise InvalidArgument(f"cannot read an OpenAPI document from {source}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise InvalidArgument(f"{source} is not an OpenAPI document (no `paths`)")
    return document


def _words(path: str) -> list[str]:
    return [p for p in re.split(r"[/_.]", path.lower()) if p and not p.startswith("{")]


def _guess(paths: Mapping[str, Any], method: str, words: Iterable[str], item: bool) -> str | None:
    for path in sorted(paths, key=len):
        ops = paths[path]
        if not isinstance(ops, dict) or method not in ops:
            continue
        if path.rstrip("/").endswith("}") != item:
            continue
        if any(w in _words(path) for w in words):
            return re.sub(r"\{[^}]+\}", "{account_id}", path.rstrip("/"))
    return None


def _q(value: str) -> str:
    return json.dumps(value)


def starter_profile(document: Mapping[str, Any], *, name: str) -> str:
    """The TOML text of a starter profile for the service `document` describes."""
    paths: Mapping[str, Any] = document["paths"]
    guessed = {op: _guess(paths, m, w, item) for op, m, w, item in _GUESSES}
    webhooks = {
        rail: next((p for p in sorted(paths) if "webhook" in p.lower() and rail in p.lower()), None)
        for rail in ("stripe", "xendit", "cdp")
    }
    status = next(
        (p for p in sorted(paths, key=len) if re.search(r"status|health", p) and "get" in paths[p]),
        None,
    )
    gap = _q(GAP + "fill in")
    out = [
        f"# A starter profile for {document.get('info', {}).get('title', name)}, guessed from its OpenAPI",
        "# document by `payharness init`. Every `GAP:` value is something the paths alone do not say:",
        "# fill each in (the loader refuses the file until none is left), then run",
        "# `payharness profile check THIS_FILE --target URL` against the running service.",
        f"name = {_q(name)}",
        "",
        "# --- the prober's tables (payharness probe) ---",
        "[cohort]",
        f"create_path = {_q(guessed['create_account'] or GAP + 'the route that creates a test account')}",
        f"id_field = {gap}",
        f"delete_path = {_q(guessed['delete_account'] or guessed['read_account'] or GAP + 'the reap route, with {account_id}')}",
        "",
        "[checkout]",
        f"path = {_q(guessed['checkout'] or GAP + 'the plan checkout route')}",
        "",
        "[billing]",
        f"path = {_q(guessed['billing'] or GAP + 'the route that reads the plan, with {account_id}')}",
        "",
        "[invoices]",
        f"path = {_q(GAP + 'the route listing paid invoices')}",
        "",
        "[webhook]",
        f"path = {_q(webhooks['stripe'] or GAP + 'the Stripe webhook route')}",
        'scheme = "stripe"',
        'secret_env = ["STRIPE_WEBHOOK_SECRET"]',
        'unsigned_body = { type = "invoice.paid" }',
        "",
        "[webhook.rejection]",
        "status = 400",
        f"code = {gap}",
        "",
        "# --- the gate's table (payharness gate --profile) ---",
        "[gate]",
        f"status_path = {_q(status or GAP + 'a route saying whether billing is live')}",
        f"live_field = {gap}",
        f"error_field = {_q(GAP + 'the field of an error answer holding its code')}",
        "# capabilities the service does not have at all (see harness/prober/gate_profile.py CAPABILITIES)",
        "lacks = []",
        "",
        "[gate.webhooks]",
    ]
    out += [f"{rail} = {_q(path)}" for rail, path in webhooks.items() if path]
    out += [
        "",
        "[gate.errors]  # the service's error code = the contract's code it means",
        "",
        "[gate.money]",
        f"unit = {_q(GAP + 'micros or cents')}",
        "",
        "[gate.operations.set_balance]",
        "# how a test puts a balance on an account: a provider-state hook or an admin route",
        'method = "POST"',
        f"path = {_q(GAP + 'the state hook or admin route')}",
        f'body = {{ account = "{{account_id}}", balance = "{{balance}}", todo = {gap} }}',
    ]
    for op, method, _, _ in _GUESSES:
        path = guessed[op]
        out += ["", f"[gate.operations.{op}]", f"method = {_q(method.upper())}"]
        out.append(f"path = {_q(path or GAP + 'no route looked like ' + op)}")
        if method in ("post",) and op != "create_account":
            out.append(f'body = {{ account = "{{account_id}}", todo = {gap} }}')
        results = {
            "create_account": ("id",),
            "read_account": ("balance", "plan_tier"),
            "ledger": ("entries", "amount"),
            "charge": ("charged",),
            "topup": ("id",),
            "checkout": ("ref",),
            "billing": ("plan_tier",),
        }.get(op, ())
        if results:
            out.append("fields = { " + ", ".join(f"{r} = {gap}" for r in results) + " }")
    return "\n".join(out) + "\n"
