"""How the stateful suite sees a target: one request noted as a curl line, answers and wallets compared
with the model, and the margin clamp read from the money the target moves.

(This module and :mod:`.machine` talk HTTP; the model itself does not.)
"""

from __future__ import annotations

import shlex
from typing import Any

import httpx
from hypothesis import note
from hypothesis.control import currently_in_test_context

from harness.suites._support import Api, error_code
from harness.suites.failures import SuiteFailure

from .answers import Answer, Clamp
from .wallet import Wallet

__all__ = ["ModelDivergence", "Observer", "curl", "probe_clamp", "step_note"]

#: Headers a reproduction needs (the rest are client noise).
_REPRO_HEADERS = (
    "content-type",
    "idempotency-key",
    "x-admin-secret",
    "stripe-signature",
    "x-callback-token",
    "x-hook0-signature",
    "x-event-id",
    "x-event-type",
    "x-payment",
)
#: 1 USD: its charge at margin m is 1_000_000 + 100 * m exactly, so each clamp end reads to the bp.
_PROBE_COST = 1_000_000
_EXTREME_BPS = 1_000_000


def step_note(text: str) -> None:
    """A line of the printed reproduction (outside a hypothesis run, e.g. a pasted sequence: nothing)."""
    if currently_in_test_context():
        note(text)


class ModelDivergence(SuiteFailure):
    """The target and the independent model of the contract disagree after a step."""

    code = "model_divergence"


def curl(request: httpx.Request, response: httpx.Response | None) -> str:
    """The request as a curl line a person can paste, with the status it got as a comment."""
    parts = ["curl", "-sS", "-X", request.method, str(request.url)]
    for name in _REPRO_HEADERS:
        if name in request.headers:
            parts += ["-H", f"{name}: {request.headers[name]}"]
    body = request.content
    if body:
        parts += ["--data-raw", body.decode("utf-8", "replace")]
    answered = f"HTTP {response.status_code}" if response is not None else "no answer"
    return shlex.join(parts) + f"  # → {answered}"


class Observer:
    """Sends requests for the machine (each noted as a curl line) and compares what it sees."""

    def __init__(self, api: Api, divergences: list[ModelDivergence]) -> None:
        self.api = api
        self.divergences = divergences

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request to the target, noted for the reproduction hypothesis prints on failure."""
        response = self.api.call(method, path, **kwargs)
        step_note(curl(response.request, response))
        return response

    def diverged(self, observed: str, expected: str) -> ModelDivergence:
        """A failure carrying the last requests of this sequence (and noted in `divergences`)."""
        divergence = ModelDivergence(
            observed=observed,
            expected=expected,
            reproduce=self.api.reproduce(),
            seed=self.api.seed,
        )
        self.divergences.append(divergence)
        return divergence

    def answer(self, what: str, response: httpx.Response, allowed: list[Answer]) -> Answer:
        """The allowed answer `response` is; a divergence when it is none of them."""
        body = _json(response)
        code = error_code(response)
        for candidate in allowed:
            if response.status_code != candidate.status:
                continue
            if candidate.code is not None and code != candidate.code:
                continue
            if all(
                isinstance(body, dict) and body.get(k) == v for k, v in candidate.fields.items()
            ):
                return candidate
        shown = response.text if len(response.text) < 600 else response.text[:600] + "…"
        raise self.diverged(
            f"{what}: HTTP {response.status_code} {shown}",
            f"{what}: " + " or ".join(a.describe() for a in allowed),
        )

    def wallet(self, wallet: Wallet) -> None:
        """The account and its ledger against the model: balance, lifetime paid, tier, every entry."""
        where = f"account {wallet.account_id}"
        account = _json(self.api.call("GET", f"/v1/accounts/{wallet.account_id}"))
        ledger = _json(
            self.api.call("GET", f"/v1/accounts/{wallet.account_id}/ledger", params={"limit": 1000})
        )
        if not isinstance(account, dict) or not isinstance(ledger, dict):
            raise self.diverged(f"{where}: unreadable ({account!r})", "the account and its ledger")
        seen = {
            "balance_micros": account.get("balance_micros"),
            "lifetime_paid_micros": account.get("lifetime_paid_micros"),
            "plan_tier": account.get("plan_tier"),
        }
        wanted = {
            "balance_micros": wallet.balance_micros,
            "lifetime_paid_micros": wallet.lifetime_paid_micros,
            "plan_tier": wallet.plan_tier,
        }
        if seen != wanted:
            raise self.diverged(f"{where}: {seen}", f"{wanted} (the model of the contract)")
        entries = list(
            reversed(ledger.get("entries") or [])
        )  # oldest first, as the model keeps them
        got = [(e.get("kind"), e.get("direction"), e.get("amount_micros")) for e in entries]
        want = [(e.kind, e.direction, e.amount_micros) for e in wallet.entries]
        if got != want:
            raise self.diverged(
                f"{where}: ledger (kind, direction, amount), oldest first: {got}",
                f"{want} (the model of the contract)",
            )
        total = sum(int(e.get("signed_amount_micros", 0)) for e in entries)
        if total != account["balance_micros"] or account["balance_micros"] < 0:
            raise self.diverged(
                f"{where}: balance {account['balance_micros']}, sum of the ledger {total}",
                "balance == sum(ledger) and balance >= 0",
            )
        if any(int(e.get("amount_micros", 0)) <= 0 for e in entries):
            raise self.diverged(f"{where}: ledger {got}", "every ledger amount > 0")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def probe_clamp(api: Api) -> Clamp:
    """The clamp and default margin, read from three charges of 1 USD (below, above, default).

    The clamp is configuration, not contract; a target whose probe debits are not `1 USD + 100 * m` is
    reported as a divergence of its own."""
    account = api.funded_account(10 * _PROBE_COST)
    found: list[int] = []
    for index, margin in enumerate((-_EXTREME_BPS, _EXTREME_BPS, None)):
        inference = f"probe_{account}_{index}"
        api.call(
            "POST",
            "/v1/outcomes",
            json_body={
                "inference_id": inference,
                "account_id": account,
                "cost_micros": _PROBE_COST,
            },
        )
        body: dict[str, Any] = {"inference_id": inference}
        if margin is not None:
            body["margin_bps"] = margin
        result = _json(api.call("POST", "/v1/charges", json_body=body))
        charged = result.get("charged_micros") if isinstance(result, dict) else None
        if not isinstance(charged, int) or (charged - _PROBE_COST) % 100:
            raise ModelDivergence(
                observed=f"a 1 USD charge at margin {margin}: {result!r}",
                expected="charged_micros = 1_000_000 + 100 * effective margin (bps)",
                reproduce=api.reproduce(),
                seed=api.seed,
            )
        found.append((charged - _PROBE_COST) // 100)
    return Clamp(min_bps=found[0], max_bps=found[1], default_bps=found[2])
