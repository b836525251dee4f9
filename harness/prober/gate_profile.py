"""The `[gate]` side of a profile: how the gate's suites reach a service that does not speak the contract.

A profile without `[gate]` describes a service that serves the payments contract itself (the reference): the
gate talks to it directly, as it always has. With `[gate]`, the gate puts a contract adapter
(:mod:`harness.adapter`) in front of the service, and this table says how each contract operation maps onto
it. The keys:

| table | key | meaning |
|---|---|---|
| `[gate]` | `status_path` (required), `live_field` | the service's status route; the dotted boolean meaning live |
| `[gate]` | `error_field` | the dotted field of an error answer holding the service's error code (default `error`) |
| `[gate]` | `lacks` | capabilities the service does not have (see `CAPABILITIES`): their checks are not applicable |
| `[gate]` | `account_metadata_key` | the metadata key naming the account in processor objects it makes |
| `[gate]` | `charges_when_dormant` | the service keeps charging credits while its billing is off (by design) |
| `[gate]` | `outbound_timeout_seconds` | how long the service waits for a processor before it retries (short enough, the suites fault a processor past it) |
| `[gate]` | `env` | variables the templates may read as `{env:NAME}` (test tokens; values only from the environment) |
| `[gate.webhooks]` | one path per rail | where the service takes each rail's webhooks |
| `[gate.errors]` | service code = contract code | which refusal of the service is which contract error |
| `[gate.money]` | `unit` (`micros`, `cents`), `margin_rounding` (`up`, `down`) | the service's minor unit and markup rounding |
| `[gate.money]` | `min_margin_bps`, `max_margin_bps`, `default_margin_bps`, `max_amount`, `min_topup` | clamp, default, limits |
| `[gate.operations.NAME]` | `method`, `path` (required), `body`, `headers`, `fields` | one operation (see `OPERATIONS`) |

`fields` maps each result the adapter needs (per operation, see `OPERATIONS`) to a dotted field of the
service's answer. Templates take `{name}` placeholders (typed when a string is exactly one placeholder).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._toml import REQUIRED
from ._toml import TomlTable as _Table
from .templates import placeholders_in

__all__ = [
    "CAPABILITIES",
    "CONTRACT_ERROR_CODES",
    "OPERATIONS",
    "GateSpec",
    "MoneySpec",
    "Operation",
    "parse_gate",
]

#: Capabilities a service may lack; a check needing one is *not applicable* to it.
CAPABILITIES: Mapping[str, str] = {
    "stripe": "Stripe top-ups and webhooks",
    "xendit": "Xendit top-ups and callbacks",
    "cdp": "x402 / CDP top-ups, payments and webhooks",
    "paid_usage": "paid, metered requests under a payment session (`/v1/usage`)",
    "reconcile": "reconciliation against the processor (`/admin/reconcile/{rail}`)",
    "metrics": "Prometheus metrics of the payments service",
    "invoices": "a list of paid subscription invoices",
    "cohort_reap": "deleting a test-cohort account",
    "checkout": "plan checkout (subscriptions)",
    "stripe_checkout": "plan checkout on Stripe",
    "xendit_checkout": "plan checkout on Xendit (recurring plans)",
}

#: Operation → (placeholders its templates may use, results its `fields` may name, results required).
OPERATIONS: Mapping[str, tuple[frozenset[str], frozenset[str], frozenset[str]]] = {
    "create_account": (frozenset({"cohort", "email"}), frozenset({"id"}), frozenset({"id"})),
    "read_account": (
        frozenset({"account_id"}),
        frozenset({"balance", "lifetime_paid", "plan_tier", "cohort", "email"}),
        frozenset({"balance", "plan_tier"}),
    ),
    "delete_account": (frozenset({"account_id"}), frozenset(), frozenset()),
    "ledger": (
        frozenset({"account_id"}),
        frozenset({"entries", "amount", "id", "reason", "reference"}),
        frozenset({"entries", "amount"}),
    ),
    "set_balance": (frozenset({"account_id", "balance"}), frozenset(), frozenset()),
    "charge": (
        frozenset({"account_id", "request_id", "cost", "margin_bps"}),
        frozenset({"charged", "margin_bps", "replayed"}),
        frozenset({"charged"}),
    ),
    "topup": (
        frozenset({"account_id", "amount", "rail", "idempotency_key"}),
        frozenset({"id", "ref", "url"}),
        frozenset({"id"}),
    ),
    "checkout": (
        frozenset({"account_id", "plan", "rail"}),
        frozenset({"ref", "url"}),
        frozenset({"ref"}),
    ),
    "billing": (frozenset({"account_id"}), frozenset({"plan_tier"}), frozenset({"plan_tier"})),
}

#: The contract's error codes a service's refusals may be mapped onto (contracts/payments.openapi.json).
CONTRACT_ERROR_CODES = frozenset(
    {
        "account_not_found",
        "not_test_cohort",
        "unknown_rail",
        "payments_not_live",
        "missing_signature_header",
        "webhook_signature_invalid",
        "invalid_payload",
        "duplicate_outcome",
        "outcome_not_found",
        "insufficient_credit",
        "idempotency_key_reused",
        "rail_not_configured",
        "processor_error",
        "unknown_plan",
        "invalid_request",
    }
)

_ENV_REF = re.compile(r"\{(env:[A-Za-z_][A-Za-z0-9_]*)\}")
#: a dotted field of a JSON answer: names without blanks, dots only between them (`user.credits_cents`)
_DOTTED = re.compile(r"[^.\s\[\]{}]+(\.[^.\s\[\]{}]+)*")
_UNITS = {"micros": 1, "cents": 10_000}
_ROUNDINGS = ("up", "down")


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """One request template of the service and where its answer holds each result."""

    name: str
    method: str
    path: str
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    #: (ledger only) the service's reasons that mark an entry as an adjustment, not a credit or debit
    adjustments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MoneySpec:
    """The service's money semantics: its minor unit, markup rounding, clamp and largest amount."""

    unit: str = "micros"
    micros_per_unit: int = 1
    margin_rounding: str = "up"
    min_margin_bps: int | None = None
    max_margin_bps: int | None = None
    default_margin_bps: int | None = None
    #: the largest amount the service takes, in its own unit (None: no declared limit)
    max_amount: int | None = None
    #: the smallest top-up the service sells, in its own unit (None: any positive amount)
    min_topup: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GateSpec:
    """How the gate's contract operations map onto one service."""

    status_path: str
    live_field: str
    error_field: str
    lacks: frozenset[str]
    env: tuple[str, ...]
    webhooks: Mapping[str, str]
    errors: Mapping[str, str]
    money: MoneySpec
    operations: Mapping[str, Operation]
    #: the service keeps charging credits while dormant (its "off" covers processors only), by design
    charges_when_dormant: bool = False
    #: the metadata key naming the account on processor objects the service makes (Stripe subscriptions)
    account_metadata_key: str = "account_id"
    #: how long the service waits for a processor before giving up on the attempt (None: not declared)
    outbound_timeout_seconds: float | None = None

    def has(self, capability: str) -> bool:
        """Whether the service has `capability` (not listed in `lacks`)."""
        return capability not in self.lacks


def _path(t: _Table, key: str) -> str:
    value = str(t.text(key, REQUIRED))
    if not value.startswith("/"):
        raise t.error(f"`{key}` must start with /")
    return value


def _operation(name: str, t: _Table, env: frozenset[str]) -> Operation:
    allowed, results, required = OPERATIONS[name]
    method = str(t.text("method", "GET")).upper()
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        raise t.error(f"`method` {method!r} is not an HTTP method")
    path = _path(t, "path")
    body = t.mapping("body")
    headers = t.mapping("headers", {})
    if not all(isinstance(v, str) for v in headers.values()):
        raise t.error("`headers` values must be strings")
    used = placeholders_in([path, body, headers])
    env_used = {u.removeprefix("env:") for u in _env_refs([path, body, headers])}
    unknown = sorted(used - allowed)
    if unknown:
        raise t.error(f"uses {{{unknown[0]}}}; allowed here: {', '.join(sorted(allowed))}")
    if env_used - env:
        raise t.error(f"reads {{env:{sorted(env_used - env)[0]}}}, not listed in [gate] `env`")
    fields = t.mapping("fields", {})
    for key, value in fields.items():
        if key not in results:
            raise t.error(
                f"`fields.{key}` is not a result of {name}; known: {', '.join(sorted(results))}"
            )
        if not isinstance(value, str) or not _DOTTED.fullmatch(value):
            raise t.error(
                f"`fields.{key}` = {value!r} is not a dotted field name (like `user.credits_cents`)"
            )
    missing = sorted(required - set(fields))
    if missing:
        raise t.error(f"`fields.{missing[0]}` is required for {name}")
    adjustments: tuple[str, ...] = ()
    if name == "ledger" and "adjustment_reasons" in t:
        adjustments = t.names("adjustment_reasons")
        if "reason" not in fields:
            raise t.error("`adjustment_reasons` needs `fields.reason`")
    t.done()
    return Operation(
        name=name,
        method=method,
        path=path,
        body=body,
        headers=headers,
        fields=fields,
        adjustments=adjustments,
    )


def _env_refs(value: object) -> set[str]:
    return set(_ENV_REF.findall(repr(value)))


def _money(t: _Table | None) -> MoneySpec:
    if t is None:
        return MoneySpec()
    unit = str(t.text("unit", "micros"))
    if unit not in _UNITS:
        raise t.error(f"`unit` {unit!r} is not one of {', '.join(_UNITS)}")
    rounding = str(t.text("margin_rounding", "up"))
    if rounding not in _ROUNDINGS:
        raise t.error(f"`margin_rounding` {rounding!r} is not one of {', '.join(_ROUNDINGS)}")
    bounds = {k: t.integer(k) for k in ("min_margin_bps", "max_margin_bps", "default_margin_bps")}
    low, high = bounds["min_margin_bps"], bounds["max_margin_bps"]
    if low is not None and high is not None and low > high:
        raise t.error("`min_margin_bps` is above `max_margin_bps`")
    max_amount = t.integer("max_amount")
    if max_amount is not None and max_amount < 1:
        raise t.error("`max_amount` must be at least 1")
    min_topup = t.integer("min_topup")
    if min_topup is not None and not 1 <= min_topup <= (max_amount or min_topup):
        raise t.error("`min_topup` must be at least 1 and at most `max_amount`")
    t.done()
    return MoneySpec(
        unit=unit,
        micros_per_unit=_UNITS[unit],
        margin_rounding=rounding,
        min_margin_bps=low,
        max_margin_bps=high,
        default_margin_bps=bounds["default_margin_bps"],
        max_amount=max_amount,
        min_topup=min_topup,
    )


def parse_gate(t: _Table) -> GateSpec:
    """Parse and check a profile's `[gate]` table."""
    status_path = _path(t, "status_path")
    live_field = str(t.text("live_field", "live"))
    error_field = str(t.text("error_field", "error"))
    for key, value in (("live_field", live_field), ("error_field", error_field)):
        if not _DOTTED.fullmatch(value):
            raise t.error(
                f"`{key}` = {value!r} is not a dotted field name (like `billing.enabled`)"
            )
    lacks = frozenset(t.names("lacks")) if "lacks" in t else frozenset()
    for capability in sorted(lacks):
        if capability not in CAPABILITIES:
            raise t.error(f"`lacks` names {capability!r}; known: {', '.join(CAPABILITIES)}")
    env = t.names("env") if "env" in t else ()
    charges_when_dormant = t.flag("charges_when_dormant", False)
    account_metadata_key = str(t.text("account_metadata_key", "account_id"))
    outbound_timeout = t.number("outbound_timeout_seconds")
    if outbound_timeout is not None and not 0 < outbound_timeout <= 300:
        raise t.error("`outbound_timeout_seconds` must be above 0 and at most 300")
    webhooks_table = t.table("webhooks", required=False)
    webhooks: dict[str, str] = {}
    if webhooks_table is not None:
        for rail in ("stripe", "xendit", "cdp"):
            if rail in webhooks_table:
                webhooks[rail] = _path(webhooks_table, rail)
        webhooks_table.done()
    errors = t.mapping("errors", {})
    for service_code, contract_code in errors.items():
        if contract_code not in CONTRACT_ERROR_CODES:
            raise t.error(
                f"`errors.{service_code}` maps onto {contract_code!r}, not a contract error code"
            )
    money = _money(t.table("money", required=False))
    ops_table = t.table("operations")
    assert ops_table is not None
    operations = {}
    for name in OPERATIONS:
        sub = ops_table.table(name, required=False)
        if sub is not None:
            operations[name] = _operation(name, sub, frozenset(env))
    ops_table.done()
    for name in ("create_account", "read_account", "ledger", "set_balance"):
        if name not in operations:
            raise ops_table.error(
                f"`{name}` is required: every suite creates, funds and reads accounts"
            )
    t.done()
    return GateSpec(
        status_path=status_path,
        live_field=live_field,
        error_field=error_field,
        lacks=lacks,
        env=env,
        webhooks=webhooks,
        errors=dict(errors),
        money=money,
        operations=operations,
        charges_when_dormant=charges_when_dormant,
        account_metadata_key=account_metadata_key,
        outbound_timeout_seconds=outbound_timeout,
    )
