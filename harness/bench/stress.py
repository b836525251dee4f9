"""Money stress of the reference service: pay/webhook races, concurrent wallet sessions, forged x402 usage.

Reproduces issue 12's classes 1-3 at scale against the reference (in process, on SQLite or PostgreSQL), with
the fake CDP facilitator behind an in-process transport, and counts what a user loses:

* **races**: an x402 top-up paid at `/pay` while the facilitator's settlement webhook lands before `/pay`
  finishes (awaited inside the settle), beside it (concurrently), or after it. Every top-up must be
  credited exactly once: `lost_credits` (balance 0) and `double_credits` (more than paid) count the others,
  before and after `POST /admin/reconcile/cdp`.
* **sessions**: concurrent wallet usage sessions on one balance asking for more than it holds in total;
  `unpaid_micros` is what was served but never debited, `overdrawn_micros` how far the balance went below 0.
* **forged**: usage paid with a forged signature, an inflated value, a zero signature and an unfunded
  (underpaid) wallet; `forged_units_served` must stay 0. A genuine payment is served as the control.

`server_errors` counts every 5xx. Run the full size with
``python -m harness.bench.stress --database-url postgresql+asyncpg://... --races 1000 --sessions 100``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx

from fakes.cdp.app import CdpFakeApp
from fakes.cdp.app import create_app as create_fake_cdp
from fakes.cdp.config import CdpConfig, default_funded_accounts, derive_test_key
from fakes.cdp.payer import X402Payer
from fakes.cdp.webhooks import EventFactory
from fakes.signing import HOOK0_DEFAULT_SIGNED_HEADERS, Hook0Signer
from harness.reference import ReferenceSettings, close_app, create_app
from harness.reference.components import Components, default_adapter_factories
from harness.reference.rails.base import RailAdapter, RetryPolicy
from harness.reference.rails.cdp import CdpAdapter
from harness.reference.settings import CdpRail

__all__ = ["StressCounts", "X402World", "open_world", "run_stress"]

SECRET = "cdp-stress-hook0-secret"
ADMIN = "stress-admin-secret"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
WEBHOOK_ORDERS = ("before", "concurrent", "after")

SettleHook = Callable[[dict[str, Any]], Awaitable[None]]


#: runs with the facilitator's settle answer before the reference sees it (set per payment: the in-process
#: transports run the reference's call to the facilitator in the caller's task, so the context reaches it)
SETTLE_HOOK: ContextVar[SettleHook | None] = ContextVar("settle_hook", default=None)


class _Facilitator(httpx.AsyncBaseTransport):
    """The fake facilitator in process; the context's `SETTLE_HOOK` runs before a settle answer returns."""

    def __init__(self, fake: CdpFakeApp) -> None:
        self._inner = httpx.ASGITransport(app=fake)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        hook = SETTLE_HOOK.get()
        if hook is None or not request.url.path.endswith("/settle"):
            return response
        body = await response.aread()
        await hook(json.loads(body))
        return httpx.Response(response.status_code, headers=response.headers, content=body)


@dataclass(slots=True)
class X402World:
    """The reference (client `reference`) wired to a fake facilitator; `payer` holds funded USDC."""

    reference: httpx.AsyncClient
    fake: CdpFakeApp
    facilitator: _Facilitator
    payer: X402Payer
    statuses: list[int] = field(default_factory=list)
    _events: EventFactory = field(default_factory=lambda: EventFactory("stress"))

    async def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request to the reference, its status counted."""
        response = await self.reference.request(method, url, **kwargs)
        self.statuses.append(response.status_code)
        return response

    @property
    def server_errors(self) -> int:
        """5xx answers so far."""
        return sum(1 for s in self.statuses if s >= 500)

    def requirements(self, amount_micros: int, resource: str = "/v1/usage") -> dict[str, Any]:
        """x402 requirements for an amount, as the reference states them."""
        cdp = self.reference.app.state.service.cdp  # type: ignore[attr-defined]
        assert isinstance(cdp, CdpAdapter)
        return cdp.requirements(amount_micros=amount_micros, resource=resource, description="s")

    async def deliver_settlement(self, transaction: str) -> httpx.Response:
        """The facilitator's signed settlement webhook for `transaction`, delivered now."""
        settlement = next(
            s for s in self.fake.facilitator.settlements() if s.transaction == transaction
        )
        event_id, body = self._events.settlement_event(settlement)
        headers = {
            "content-type": "application/json",
            "x-event-id": event_id,
            "x-event-type": json.loads(body)["eventType"],
        }
        headers |= Hook0Signer(SECRET).sign(
            body, headers=headers, signed_header_names=HOOK0_DEFAULT_SIGNED_HEADERS
        )
        return await self.call("POST", "/v1/payments/webhook/cdp", content=body, headers=headers)

    async def new_account(self, balance_micros: int = 0) -> str:
        """A test-cohort account, optionally set to a balance by the admin route."""
        r = await self.call("POST", "/v1/accounts", json={"is_test_cohort": True})
        account: str = r.json()["id"]
        if balance_micros:
            await self.call(
                "POST",
                "/admin/balance-adjust",
                json={"account_id": account, "balance_micros": balance_micros, "reason": "stress"},
                headers={"X-Admin-Secret": ADMIN},
            )
        return account

    async def balance(self, account: str) -> int:
        """The account's balance in micro-USD."""
        r = await self.call("GET", f"/v1/accounts/{account}")
        return int(r.json()["balance_micros"])


@asynccontextmanager
async def open_world(database_url: str, **settings: Any) -> AsyncIterator[X402World]:
    """The reference on `database_url` with the cdp rail on a fake facilitator, closed afterwards."""
    fake = create_fake_cdp(
        CdpConfig(
            webhook_secret=SECRET,
            funded_accounts=default_funded_accounts(1, balance_atomic=10**15, seed="stress"),
        )
    )
    facilitator = _Facilitator(fake)

    def cdp(config: Any, timeout: float, retry: RetryPolicy) -> RailAdapter:
        client = httpx.AsyncClient(transport=facilitator, timeout=timeout)
        return CdpAdapter(config, timeout_seconds=timeout, retry=retry, http_client=client)

    base = ReferenceSettings(
        database_url=database_url,
        admin_secret=ADMIN,
        payments_live=True,
        cdp=CdpRail(
            facilitator_url="http://facilitator.invalid", webhook_secret=SECRET, pay_to=PAY_TO
        ),
    )
    app = create_app(
        dataclasses.replace(base, **settings),
        components=Components(adapter_factories={**default_adapter_factories(), "cdp": cdp}),
    )
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://reference.test",
    )
    client.app = app  # type: ignore[attr-defined]
    payer = X402Payer(private_key=fake.config.funded_accounts[0].private_key)
    try:
        yield X402World(reference=client, fake=fake, facilitator=facilitator, payer=payer)
    finally:
        await client.aclose()
        await close_app(app)


# ---------------------------------------------------------------- class 2: pay/webhook races


async def pay_topup(world: X402World, account: str, amount: int, order: str) -> httpx.Response:
    """Start an x402 top-up and pay it, the settlement webhook landing in `order` relative to `/pay`."""
    r = await world.call(
        "POST", "/v1/payments/topup/cdp", json={"account_id": account, "amount_micros": amount}
    )
    topup = r.json()
    requirements = topup["details"]["payment_requirements"]["accepts"][0]
    header = world.payer.x_payment(requirements)
    pending: list[asyncio.Task[httpx.Response]] = []
    transactions: list[str] = []

    async def land(answer: dict[str, Any]) -> None:
        tx = str(answer.get("transaction") or "")
        if not tx:
            return
        transactions.append(tx)
        if order == "before":
            await world.deliver_settlement(tx)
        elif order == "concurrent":
            pending.append(asyncio.ensure_future(world.deliver_settlement(tx)))

    token = SETTLE_HOOK.set(land)
    try:
        paid = await world.call(
            "POST", f"/v1/payments/topup/cdp/{topup['id']}/pay", headers={"X-PAYMENT": header}
        )
    finally:
        SETTLE_HOOK.reset(token)
    await asyncio.gather(*pending)
    if order == "after" and paid.status_code == 200:
        await world.deliver_settlement(paid.json()["transaction"])
    return paid


async def races(world: X402World, count: int, *, parallel: int = 8) -> dict[str, int]:
    """`count` top-ups of 1 USDC, the webhook order cycling through WEBHOOK_ORDERS, `parallel` at once;
    lost and double credits counted before and after CDP reconcile."""
    amount = 1_000_000
    accounts = [await world.new_account() for _ in range(count)]
    gate = asyncio.Semaphore(parallel)

    async def one(i: int) -> None:
        async with gate:
            await pay_topup(world, accounts[i], amount, WEBHOOK_ORDERS[i % len(WEBHOOK_ORDERS)])

    await asyncio.gather(*(one(i) for i in range(count)))

    async def tally() -> tuple[int, int]:
        balances = [await world.balance(a) for a in accounts]
        return sum(1 for b in balances if b < amount), sum(1 for b in balances if b > amount)

    lost, double = await tally()
    await world.call(
        "POST", "/admin/reconcile/cdp?dry_run=false", headers={"X-Admin-Secret": ADMIN}
    )
    lost_after, double_after = await tally()
    return {
        "races": count,
        "lost_credits": lost,
        "double_credits": double,
        "lost_credits_after_reconcile": lost_after,
        "double_credits_after_reconcile": double_after,
    }


async def sessions(world: X402World, count: int, *, balance: int = 1_000_000) -> dict[str, int]:
    """`count` concurrent wallet sessions of 10 units x 10,000 µUSD on one `balance`."""
    account = await world.new_account(balance)
    charges = [10_000] * 10

    async def one() -> int:
        r = await world.call(
            "POST", "/v1/usage", json={"account_id": account, "charges_micros": charges}
        )
        if r.status_code == 200:
            return int(r.json()["spent_micros"])
        details = r.json().get("error", {}).get("details") or {}
        return int(
            details.get("spent_micros", 0)
        )  # a session refused mid-way settles what it served

    served = sum(await asyncio.gather(*(one() for _ in range(count))))
    left = await world.balance(account)
    debited = balance - left
    return {
        "sessions": count,
        "served_micros": served,
        "unpaid_micros": max(0, served - debited),
        "overdrawn_micros": max(0, -left),
    }


def _header(payload: dict[str, Any]) -> str:
    import base64

    return base64.b64encode(json.dumps(payload).encode()).decode()


async def forged(world: X402World, count: int) -> dict[str, int]:
    """Usage paid by `count` bad payments of each kind; units served by them, and the genuine control."""
    price = 50_000
    requirements = world.requirements(price)
    unfunded = X402Payer(private_key=derive_test_key("stress-unfunded", 0))

    def inflated() -> str:
        payload = world.payer.payment_payload(requirements)
        payload["payload"]["authorization"]["value"] = str(10**14)
        return _header(payload)

    def zero_signature() -> str:
        payload = world.payer.payment_payload(requirements, value_atomic=10**14)
        payload["payload"]["signature"] = "0x" + "00" * 65
        return _header(payload)

    def impostor() -> str:
        payload = unfunded.payment_payload(requirements)
        payload["payload"]["authorization"]["from"] = world.payer.address
        return _header(payload)

    kinds: dict[str, Callable[[], str]] = {
        "inflated_value": inflated,
        "zero_signature": zero_signature,
        "impostor_signature": impostor,
        "underpaid_unfunded_wallet": lambda: unfunded.x_payment(requirements),
    }
    served = 0
    refused = 0
    for make in kinds.values():
        for _ in range(count):
            r = await world.call(
                "POST",
                "/v1/usage",
                json={"charges_micros": [1_000] * 10},
                headers={"X-PAYMENT": make()},
            )
            if r.status_code == 200:
                served += len(r.json()["output"])
            elif r.status_code == 402:
                refused += 1
    genuine = await world.call(
        "POST",
        "/v1/usage",
        json={"charges_micros": [1_000] * 10},
        headers={"X-PAYMENT": world.payer.x_payment(requirements)},
    )
    return {
        "forged_requests": count * len(kinds),
        "forged_refused_402": refused,
        "forged_units_served": served,
        "genuine_units_served": len(genuine.json().get("output", []))
        if genuine.status_code == 200
        else 0,
    }


@dataclass(frozen=True, slots=True)
class StressCounts:
    """Every count of one stress run, and its wall time."""

    counts: dict[str, int]
    seconds: float

    @property
    def clean(self) -> bool:
        """No money lost or doubled, nothing unpaid served, no 5xx."""
        c = self.counts
        return not any(
            c.get(k, 0)
            for k in (
                "lost_credits",
                "double_credits",
                "lost_credits_after_reconcile",
                "double_credits_after_reconcile",
                "unpaid_micros",
                "overdrawn_micros",
                "forged_units_served",
                "server_errors",
            )
        )


async def run_stress(
    database_url: str, *, races_count: int, sessions_count: int, forged_count: int
) -> StressCounts:
    """All three scenarios on one database; the counts."""
    started = time.perf_counter()
    async with open_world(database_url) as world:
        counts = {
            **await races(world, races_count),
            **await sessions(world, sessions_count),
            **await forged(world, forged_count),
        }
        counts["requests"] = len(world.statuses)
        counts["server_errors"] = world.server_errors
    return StressCounts(counts=counts, seconds=time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    """Print the counts of one run; exit 1 when any money count is not 0."""
    parser = argparse.ArgumentParser(prog="python -m harness.bench.stress", description=__doc__)
    parser.add_argument(
        "--database-url", required=True, help="sqlite+aiosqlite:///... or postgresql+asyncpg://..."
    )
    parser.add_argument("--races", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--forged", type=int, default=25, help="bad payments of each kind")
    args = parser.parse_args(argv)
    result = asyncio.run(
        run_stress(
            args.database_url,
            races_count=args.races,
            sessions_count=args.sessions,
            forged_count=args.forged,
        )
    )
    for name, value in result.counts.items():
        print(f"{name:34} {value}")
    print(f"{'seconds':34} {result.seconds:.1f}")
    print("clean" if result.clean else "NOT CLEAN: money or 5xx counts above are not 0")
    return 0 if result.clean else 1


if __name__ == "__main__":
    sys.exit(main())
