"""What every behaviour suite needs to talk to a target as a client would, and to say how to reproduce.

:class:`Api` is the payments API over the target's own HTTP client. It remembers every request of a test (its
*trail*), so a failure can list the exact requests that led to it; :meth:`Api.fail` raises a
:class:`~harness.suites.failures.SuiteFailure` with that trail, the event ids involved and the run's seed.

Capability guards say what a check cannot do with this target, and why. :func:`not_applicable` marks a
check the target's own profile rules out (a live-only check on a dormant service): reported as *not
applicable*, not against the gate. A plain skip (:meth:`Api.set_balance` when the target refuses the admin
secret) is a check that *did not run*: the gate says INCOMPLETE until it does.

The suites are black-box: everything here goes through HTTP (the target's API, the fakes' APIs and their
``/_fake/`` controls); nothing imports the reference service.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NoReturn, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.report import NOT_APPLICABLE, ruled_out_by_profile
from harness.suites.failures import SuiteFailure
from harness.target import Target

__all__ = [
    "SETTLE_OUTCOMES",
    "Api",
    "Grain",
    "error_code",
    "grain_of",
    "not_applicable",
    "require_live",
    "ruled_out",
    "settle_delta",
    "unique",
    "wait_until",
]

#: The outcomes of `payments_settle_at_close_total` (DESIGN.md, "PaymentSession and settle at close").
SETTLE_OUTCOMES = ("settled", "failed", "unconfirmed", "skipped")
#: How many of a test's last requests a failure lists (enough to replay, short enough to read).
TRAIL_IN_FAILURE = 10
_BODY_IN_TRAIL = 400
T = TypeVar("T")


def error_code(response: httpx.Response) -> str | None:
    """The `error.code` of an answer in the contract's error shape, else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return code if isinstance(code, str) else None
    return None


def unique(prefix: str) -> str:
    """A fresh identifier for objects a test creates (inference ids, idempotency keys)."""
    return f"{prefix}_{time.time_ns():x}{id(object()) & 0xFFFF:04x}"


def not_applicable(reason: str) -> NoReturn:
    """End this test as *not applicable* to the target (its profile rules the check out), saying why."""
    pytest.skip(f"{NOT_APPLICABLE}{reason}")


def ruled_out(response: httpx.Response) -> bool:
    """Whether the target's profile rules this operation out (a contract adapter's 501 not_applicable,
    carrying this run's token: a target's own 501 is judged like any answer)."""
    return ruled_out_by_profile(response) is not None


def _end_if_ruled_out(response: httpx.Response) -> None:
    """End the test as not applicable when the target's profile rules this operation out (harness.adapter)."""
    if ruled_out(response):
        not_applicable(str(response.json()["error"].get("message", "ruled out by the profile")))


def require_live(target: Target) -> None:
    """A dormant target cannot be asked to take payments: the check is not applicable to it."""
    if not target.capabilities.live:
        not_applicable(
            f"{target.name} is dormant (/v1/payments/status says live: false): this check needs a live "
            "target; the inertness suite's dormant checks cover a dormant one"
        )


def wait_until(
    predicate: Callable[[], T | None],
    *,
    timeout_seconds: float = 5.0,
    interval_seconds: float = 0.02,
) -> T | None:
    """Poll `predicate` until it returns something truthy or the bound passes; returns the last value.

    For effects a target applies after the response has gone (a settle after a client disconnected): this
    waits for the target to act, never for time to pass, and the bound keeps a missing effect from hanging.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_seconds)


@dataclass(frozen=True, slots=True, kw_only=True)
class Grain:
    """The target's money grain, as its status declares it (a service behind a profile's adapter).

    The contract keeps micro-USD; a service keeping whole cents holds only multiples of 10,000 micro-USD and
    rounds a markup up to its own unit. The reference declares nothing: a grain of 1 micro-USD, no limit, so
    every expectation is the contract's own formula."""

    step_micros: int = 1
    #: the largest amount the target takes (None: no declared limit)
    max_micros: int | None = None
    #: the smallest top-up the target sells (0: any positive amount)
    min_topup_micros: int = 0

    def charge(self, cost_micros: int, margin_bps: int) -> int:
        """``cost + ceil(cost * margin / 10_000)`` computed in the target's unit (exact when the unit is
        the micro-USD)."""
        units = cost_micros // self.step_micros
        return self.step_micros * (units + -((-units * margin_bps) // 10_000))

    def cap(self, micros: int) -> int:
        """`micros`, or the target's largest amount when that is smaller."""
        return micros if self.max_micros is None else min(micros, self.max_micros)

    def up(self, micros: int) -> int:
        """The smallest amount at or above `micros` the target can hold (a whole number of its unit)."""
        return -(-micros // self.step_micros) * self.step_micros

    def amount(self, micros: int) -> int:
        """The nearest amount at or below `micros` the target can hold (a whole number of its unit)."""
        return self.cap(micros) // self.step_micros * self.step_micros


def grain_of(status: Mapping[str, Any]) -> Grain:
    """The grain a status document declares under `money` (absent: the contract's micro-USD)."""
    money = status.get("money")
    if not isinstance(money, Mapping):
        return Grain()
    return Grain(
        step_micros=int(money.get("micros_per_unit", 1)),
        max_micros=int(money["max_amount_micros"]) if money.get("max_amount_micros") else None,
        min_topup_micros=int(money.get("min_topup_micros") or 0),
    )


def _short(content: bytes | str | None) -> str:
    if content is None:
        return ""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    return text if len(text) <= _BODY_IN_TRAIL else text[:_BODY_IN_TRAIL] + "…"


class Api:
    """The target's payments API, as a client sees it, with a trail of every request for reproduce lines."""

    def __init__(self, target: Target, *, seed: int) -> None:
        self.target = target
        self.seed = seed
        self.client = target.client(timeout_seconds=30.0)
        self.trail: list[str] = []
        self._status: dict[str, Any] | None = None

    def __enter__(self) -> Api:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    # -- requests and the trail --------------------------------------------------------------------------

    def note(self, step: str) -> None:
        """Record a step that is not a request to the target (a processor test helper, a fault)."""
        self.trail.append(step)

    def record(self, request: httpx.Request, response: httpx.Response | None) -> None:
        """Record one request to the target and its status."""
        path = request.url.raw_path.decode("ascii", "replace")
        shown = {k: v for k, v in request.headers.items() if k.lower() in _SHOWN_HEADERS}
        parts = [f"{request.method} {path}"]
        if shown:
            parts.append(json.dumps(shown))
        body = _short(request.content) if request.content else ""
        if body:
            parts.append(body)
        parts.append(f"→ {response.status_code if response is not None else 'no answer'}")
        self.trail.append(" ".join(parts))

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        optional: bool = False,
    ) -> httpx.Response:
        """One request to the target, recorded in the trail.

        An operation the target's profile rules out ends the test as not applicable, unless `optional`:
        then the answer comes back for the caller to leave that one step out (:func:`ruled_out`)."""
        request = self.client.build_request(
            method,
            path,
            json=json_body,
            content=content,
            headers=dict(headers or {}),
            params=dict(params or {}),
        )
        try:
            response = self.client.send(request)
        except httpx.HTTPError:
            self.record(request, None)
            raise
        self.record(request, response)
        if not optional:
            _end_if_ruled_out(response)
        return response

    def concurrently(self, requests: Sequence[httpx.Request]) -> list[httpx.Response]:
        """Send `requests` all at once (one connection each) and return the answers in order."""

        async def send_all() -> list[httpx.Response]:
            async with self.target.async_client(timeout_seconds=30.0) as client:
                return list(await asyncio.gather(*(client.send(r) for r in requests)))

        responses = asyncio.run(send_all())
        for request, response in zip(requests, responses, strict=True):
            self.record(request, response)
        for response in responses:
            _end_if_ruled_out(response)
        return responses

    def build(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        """A request to send later (with :meth:`concurrently`)."""
        return httpx.Request(
            method,
            f"{self.target.base_url}{path}",
            json=json_body,
            content=content,
            headers=dict(headers or {}),
        )

    def reproduce(self) -> list[str]:
        """The last requests of this test, oldest first."""
        return self.trail[-TRAIL_IN_FAILURE:]

    def fail(
        self,
        failure: type[SuiteFailure],
        *,
        observed: str,
        expected: str,
        event_ids: Sequence[str] = (),
    ) -> NoReturn:
        """Raise `failure` with this test's trail and seed."""
        raise failure(
            observed=observed,
            expected=expected,
            reproduce=self.reproduce(),
            event_ids=event_ids,
            seed=self.seed,
        )

    def expect(
        self,
        response: httpx.Response,
        statuses: int | Sequence[int],
        failure: type[SuiteFailure],
        what: str,
        *,
        code: str | None = None,
    ) -> Any:
        """The JSON body of `response` when its status (and error code) are as expected, else `failure`."""
        wanted = (statuses,) if isinstance(statuses, int) else tuple(statuses)
        got_code = error_code(response)
        if response.status_code not in wanted or (code is not None and got_code != code):
            expected = f"{what}: HTTP {' or '.join(map(str, wanted))}"
            if code is not None:
                expected += f" with error code {code!r}"
            self.fail(
                failure,
                observed=f"HTTP {response.status_code} {_short(response.text)}",
                expected=expected,
            )
        try:
            return response.json()
        except ValueError:
            return None

    # -- the contract's resources --------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """`GET /v1/payments/status`."""
        return dict(self._ok(self.call("GET", "/v1/payments/status"), "payments status"))

    def grain(self) -> Grain:
        """The target's money grain (read once per Api from its status)."""
        return grain_of(self._declared())

    def account_key(self) -> str:
        """The metadata key naming the account in processor objects the target made (`account_id` for the
        reference; a service behind a profile declares its own, e.g. `acme_user`)."""
        declared = self._declared().get("processor_metadata")
        key = declared.get("account_key") if isinstance(declared, Mapping) else None
        return str(key) if key else "account_id"

    def outbound_timeout(self) -> float | None:
        """How long the target waits for a processor before it gives up on an attempt, when it declares it
        (a service behind its profile: `outbound_timeout_seconds`)."""
        declared = self._declared().get("processor_metadata")
        value = declared.get("outbound_timeout_seconds") if isinstance(declared, Mapping) else None
        return float(value) if isinstance(value, int | float) else None

    def lacked(self) -> frozenset[str]:
        """The capabilities the target's profile says it lacks (its status lists them under `lacks`; the
        reference lacks nothing)."""
        lacks = self._declared().get("lacks")
        return frozenset(map(str, lacks)) if isinstance(lacks, list) else frozenset()

    def lacking(self, capability: str, what: str) -> None:
        """End the test as not applicable when the target's profile says it lacks `capability`, saying
        `what` needs it."""
        if capability in self.lacked():
            not_applicable(f"the service's profile says it lacks {capability} ({what})")

    def _declared(self) -> dict[str, Any]:
        if self._status is None:
            self._status = self.status()
        return self._status

    def new_account(self, *, cohort: bool = False) -> str:
        """Create an account (a test-cohort one with `cohort`) and return its id."""
        body = self._ok(
            self.call("POST", "/v1/accounts", json_body={"is_test_cohort": cohort}),
            "create an account",
            status=201,
        )
        return str(body["id"])

    def account(self, account_id: str) -> dict[str, Any]:
        """`GET /v1/accounts/{id}`: balance_micros, lifetime_paid_micros, plan_tier."""
        return dict(self._ok(self.call("GET", f"/v1/accounts/{account_id}"), "read the account"))

    def entries(
        self, account_id: str, *, limit: int = 1000, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """Ledger entries of an account (of one `kind`: credit, debit, adjustment), newest first."""
        body = self._ok(
            self.call("GET", f"/v1/accounts/{account_id}/ledger", params={"limit": limit}),
            "read the ledger",
        )
        return [e for e in body["entries"] if kind is None or e.get("kind") == kind]

    def billing(self, account_id: str) -> dict[str, Any]:
        """`GET /v1/billing`: plan_tier and subscription status (the truth surface of a tier flip)."""
        return dict(
            self._ok(
                self.call("GET", "/v1/billing", params={"account_id": account_id}), "read billing"
            )
        )

    def invoices(self, account_id: str) -> list[dict[str, Any]]:
        """Paid subscription invoices of an account."""
        body = self._ok(
            self.call("GET", "/v1/billing/invoices", params={"account_id": account_id}),
            "read invoices",
        )
        return list(body["invoices"])

    def admin_headers(self) -> dict[str, str]:
        """The admin header with the harness's admin secret (ADMIN_SECRET in its environment or env file,
        as `payharness fakes` prints it; one per run for the in-process reference)."""
        return {"X-Admin-Secret": self.target.fakes.credentials.admin_secret}

    def set_balance(self, account_id: str, balance_micros: int) -> None:
        """Set a wallet balance through `POST /admin/balance-adjust` (skips when the target refuses the
        harness's admin secret: it cannot be funded without a processor round trip then)."""
        response = self.call(
            "POST",
            "/admin/balance-adjust",
            json_body={
                "account_id": account_id,
                "balance_micros": balance_micros,
                "reason": "payharness suite set-up",
            },
            headers=self.admin_headers(),
        )
        if response.status_code in (401, 403):
            pytest.skip(
                f"{self.target.name} refuses the admin secret the harness sends (X-Admin-Secret), so "
                "wallets cannot be funded for this check: start the service and the gate with the same "
                "ADMIN_SECRET (`payharness fakes` prints one; `set -a; . ./fakes.env` gives it to both)"
            )
        self._ok(response, "fund the wallet through the admin balance adjustment")

    def funded_account(self, balance_micros: int, *, cohort: bool = False) -> str:
        """A new account holding `balance_micros`."""
        account_id = self.new_account(cohort=cohort)
        if balance_micros:
            self.set_balance(account_id, balance_micros)
        return account_id

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of `GET /metrics`, keyed by (name, sorted labels)."""
        response = self.call("GET", "/metrics")
        self._ok(response, "read /metrics", parse=False)
        samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
        return samples

    def settle_counts(self) -> dict[str, float]:
        """`payments_settle_at_close_total` by outcome (0 for an outcome not exposed yet)."""
        samples = self.metrics()
        return {
            outcome: samples.get(("payments_settle_at_close_total", (("outcome", outcome),)), 0.0)
            for outcome in SETTLE_OUTCOMES
        }

    def _ok(
        self, response: httpx.Response, what: str, *, status: int = 200, parse: bool = True
    ) -> Any:
        """The body of a set-up or read step; a target that cannot do it fails with what it answered."""
        if response.status_code != status:
            self.fail(
                SuiteFailure,
                observed=f"HTTP {response.status_code} {_short(response.text)}",
                expected=f"{what}: HTTP {status} (a step every payments target must support)",
            )
        return response.json() if parse else None


_SHOWN_HEADERS = frozenset(
    {
        "idempotency-key",
        "x-payment",
        "stripe-signature",
        "x-callback-token",
        "x-hook0-signature",
        "x-event-id",
        "x-event-type",
    }
)


@contextmanager
def settle_delta(api: Api) -> Iterator[dict[str, float]]:
    """Yields a dict filled, on exit, with how much each settle outcome grew inside the block."""
    before = api.settle_counts()
    delta: dict[str, float] = {}
    yield delta
    after = api.settle_counts()
    delta.update({outcome: after[outcome] - before[outcome] for outcome in SETTLE_OUTCOMES})
