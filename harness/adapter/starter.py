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
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from harness.contract import ContractUnreadable
from harness.errors import TargetUnreachable
from harness.prober._toml import GAP
from harness.prober.errors import ProfileError

from .guess import GUESSES, guess_operations, guess_status, guess_webhooks

__all__ = ["GAP", "gaps_in", "read_openapi", "refuse_gaps", "starter_profile"]


def read_openapi(source: str) -> dict[str, Any]:
    """The OpenAPI document at a URL or in a file: TargetUnreachable when nothing answers at the URL,
    ContractUnreadable when what is there is not an OpenAPI document."""
    if source.startswith(("http://", "https://")):
        try:
            response = httpx.get(source, timeout=15)
        except httpx.HTTPError as exc:
            raise TargetUnreachable(
                f"{source} does not answer ({exc.__class__.__name__}): start the service first"
            ) from exc
        if response.status_code != 200:
            raise ContractUnreadable(
                f"GET {source} answered {response.status_code}, not an OpenAPI document"
            )
        text = response.text
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ContractUnreadable(f"cannot read {source}: {exc.strerror or exc}") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ContractUnreadable(
            f"{source} is not JSON, so not an OpenAPI document: {exc}"
        ) from exc
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise ContractUnreadable(f"{source} is not an OpenAPI document (no `paths` object)")
    return document


def gaps_in(text: str) -> list[str]:
    """The dotted keys of every `GAP:` value a starter profile still holds, in file order."""
    found: list[str] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, str) and value.startswith(GAP):
            found.append(where)
        elif isinstance(value, Mapping):
            for key, inner in value.items():
                walk(inner, f"{where}.{key}" if where else key)
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                walk(inner, f"{where}[{i}]")

    try:
        walk(tomllib.loads(text), "")
    except tomllib.TOMLDecodeError:
        return []  # the loader says what is wrong with the file
    return found


def refuse_gaps(profile: str) -> None:
    """ProfileError listing every gap when the profile file still holds `GAP:` values (the loader
    would name only the first)."""
    path = Path(profile)
    if not profile.endswith(".toml") or not path.is_file():
        return  # a shipped name, or a file the loader reports unreadable
    gaps = gaps_in(path.read_text(encoding="utf-8"))
    if gaps:
        shown = ", ".join(gaps[:6]) + (f" and {len(gaps) - 6} more" if len(gaps) > 6 else "")
        raise ProfileError(
            f"profile {profile}: {len(gaps)} gap(s) the starter left to fill in: {shown} "
            "(search the file for GAP:)"
        )


def _q(value: str) -> str:
    return json.dumps(value)


def starter_profile(document: Mapping[str, Any], *, name: str) -> str:
    """The TOML text of a starter profile for the service `document` describes."""
    paths: Mapping[str, Any] = document["paths"]
    guessed = guess_operations(paths)
    webhooks = guess_webhooks(paths)
    status = guess_status(paths)
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
    for op, method, _, _ in GUESSES:
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
