"""`payharness profile check PROFILE --target URL`: does the running service answer as its profile says?

Each operation the profile maps is sent once, in an order that makes its inputs (a fresh test account, a
balance set through the state hook, a charge of one unit), and its answer is read the way the adapter reads
it: the route answers, a 2xx carries every field the profile names, a refusal carries a code in the profile's
error field (and whether the profile maps it onto a contract code). Each line says what was sent, what came
back and, when wrong, which key of the profile to look at. Processor-facing operations (top-up, checkout)
are sent too: a refusal there (no processor configured) is reported, not failed; a missing route is failed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from harness.prober.gate_profile import OPERATIONS, GateSpec

from .service import Service, ServiceRefusal, dotted

__all__ = ["CheckLine", "check_profile"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckLine:
    """One checked step: ok or not, and a line a person can act on."""

    ok: bool
    text: str


def _fields(service: Service, name: str, body: Any) -> list[str]:
    op = service.spec.operations[name]
    required = OPERATIONS[name][2]
    missing = []
    for result, field in op.fields.items():
        # the ledger's entry fields are read per entry; an optional result may be absent
        if name == "ledger" or result not in required:
            continue
        try:
            dotted(body, field)
        except KeyError:
            missing.append(f"`{field}` (fields.{result})")
    return missing


async def _run(spec: GateSpec, target: str, env: Mapping[str, str]) -> list[CheckLine]:
    lines: list[CheckLine] = []
    async with httpx.AsyncClient(base_url=target.rstrip("/"), timeout=15.0) as client:
        service = Service(spec, client, env)

        def say(ok: bool, text: str) -> None:
            lines.append(CheckLine(ok=ok, text=text))

        async def step(name: str, values: Mapping[str, Any], *, may_refuse: bool = False) -> Any:
            op = spec.operations.get(name)
            if op is None:
                say(True, f"--   {name}: not mapped by the profile")
                return None
            where = f"{name} ({op.method} {op.path})"
            try:
                status, body = await service.call(name, values)
            except httpx.HTTPError as exc:
                say(False, f"FAIL {where}: no answer ({exc.__class__.__name__})")
                return None
            except ServiceRefusal as refusal:
                route_missing = refusal.status in (404, 405) and refusal.service_code.startswith(
                    "http_"
                )
                mapped = spec.errors.get(refusal.service_code)
                shape = (
                    f"code {refusal.service_code!r} → contract {mapped!r}"
                    if mapped
                    else f"code {refusal.service_code!r} (not in [gate.errors])"
                )
                ok = may_refuse and not route_missing
                verdict = "ok  " if ok else "FAIL"
                hint = " (the route does not exist: check its `path`)" if route_missing else ""
                say(ok, f"{verdict} {where}: refused HTTP {refusal.status}, {shape}{hint}")
                return None
            missing = _fields(service, name, body)
            if missing:
                say(
                    False, f"FAIL {where}: HTTP {status} but the answer has no {', '.join(missing)}"
                )
                return None
            say(True, f"ok   {where}: HTTP {status}, every required field present")
            return body

        for name in spec.env:
            if not env.get(name):
                say(
                    False,
                    f"FAIL env {name}: not set; the profile's templates send {{env:{name}}} "
                    "([gate] env): export it as the service expects it",
                )
        status = await client.get(spec.status_path)
        try:
            live = dotted(status.json(), spec.live_field)
            say(
                isinstance(live, bool),
                f"ok   status ({spec.status_path}): {spec.live_field} = {live}",
            )
        except (ValueError, KeyError):
            say(
                False,
                f"FAIL status ({spec.status_path}): HTTP {status.status_code}, no boolean `{spec.live_field}` (live_field)",
            )
        made = await step("create_account", {"cohort": True, "email": "profile-check@example.test"})
        if made is None:
            return lines
        account = str(service.result("create_account", made, "id"))
        run = f"check_{time.time_ns():x}"
        await step("set_balance", {"account_id": account, "balance": 100})
        read = await step("read_account", {"account_id": account})
        if read is not None and service.result("read_account", read, "balance") != 100:
            say(False, "FAIL set_balance: the balance read back is not the 100 units set")
        ledger = await step("ledger", {"account_id": account})
        if ledger is not None:
            entries = service.result("ledger", ledger, "entries")
            if not isinstance(entries, list):
                say(False, "FAIL ledger: `fields.entries` is not a list")
            elif entries and "amount" in spec.operations["ledger"].fields:
                try:
                    service.result("ledger", entries[0], "amount")
                except Exception:
                    say(False, "FAIL ledger: an entry has no `fields.amount`")
        await step("charge", {"account_id": account, "request_id": run, "cost": 1, "margin_bps": 0})
        await step("billing", {"account_id": account})
        await step(
            "topup",
            {"account_id": account, "amount": 100, "rail": "stripe", "idempotency_key": run},
            may_refuse=True,
        )
        await step(
            "checkout", {"account_id": account, "plan": "pro", "rail": "stripe"}, may_refuse=True
        )
        for rail, path in sorted(spec.webhooks.items()):
            answer = await client.post(path, content=b"{}")
            try:
                code = str(dotted(answer.json(), spec.error_field))
            except (ValueError, KeyError):
                code = ""
            ok = answer.status_code != 404 and bool(code) and answer.is_client_error
            mapped = spec.errors.get(code)
            say(
                ok,
                f"{'ok  ' if ok else 'FAIL'} webhook {rail} ({path}): an unsigned delivery got HTTP "
                f"{answer.status_code} code {code or 'none'!r}"
                + (f" → contract {mapped!r}" if mapped else " (not in [gate.errors])"),
            )
        await step("delete_account", {"account_id": account}, may_refuse=True)
    return lines


def check_profile(spec: GateSpec, target: str, env: Mapping[str, str]) -> list[CheckLine]:
    """Check every mapped operation of `spec` against the service at `target`."""
    return asyncio.run(_run(spec, target, env))
