"""Request and response bodies of the payments API (pydantic; they generate the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from ..inputs import MAX_PAYMENT_MICROS, UNSTORABLE_TEXT, text_problem

#: the contract's bound on every amount: the same one a processor's payment is held to, so a top-up the
#: contract lets a client open can be credited when it is paid
MAX_MICROS = MAX_PAYMENT_MICROS


class ErrorDetail(BaseModel):
    """The error object."""

    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    """Every non-2xx answer."""

    error: ErrorDetail


class Strict(BaseModel):
    """Bodies refuse unknown fields so a typo is an error, not silently dropped data."""

    # strict: the contract says integer and boolean, so "100" and 0 are refused rather than coerced
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="after")
    def _storable_text(self) -> Self:
        # a NUL or lone surrogate no database stores: answered 400 `invalid_json` (errors.py)
        for name, value in self:
            problem = text_problem(value) if isinstance(value, str) else None
            if problem:
                raise PydanticCustomError(UNSTORABLE_TEXT, f"{name} {problem}")
        return self


class AccountCreate(Strict):
    """Create an account."""

    email: str | None = Field(default=None, max_length=320)
    is_test_cohort: bool = False


class AccountOut(BaseModel):
    """An account as clients see it."""

    id: str
    email: str | None
    is_test_cohort: bool
    balance_micros: int
    lifetime_paid_micros: int
    plan_tier: str
    created_at: datetime


class LedgerEntryOut(BaseModel):
    """One ledger entry; `amount_micros` is > 0 and `kind`/`direction` give its sign."""

    id: int
    account_id: str
    kind: str
    direction: int
    amount_micros: int
    signed_amount_micros: int
    balance_after_micros: int
    source: str
    reference: str | None
    memo: str | None
    created_at: datetime


class LedgerOut(BaseModel):
    """Ledger envelope, newest first."""

    account_id: str
    balance_micros: int
    entries: list[LedgerEntryOut]


class RailStatus(BaseModel):
    """Whether a rail is configured."""

    configured: bool


class PaymentsStatus(BaseModel):
    """Whether payments are live, and each rail's state."""

    live: bool
    rails: dict[str, RailStatus]


class TopupCreate(Strict):
    """Start a top-up."""

    account_id: str = Field(min_length=1, max_length=64)
    amount_micros: int = Field(gt=0, le=MAX_MICROS)


class TopupOut(BaseModel):
    """A top-up."""

    id: str
    account_id: str
    rail: str
    amount_micros: int
    status: str
    processor_ref: str | None
    details: dict[str, Any]
    created_at: datetime


class PayResult(BaseModel):
    """A paid x402 top-up."""

    topup: TopupOut
    transaction: str | None
    credited_micros: int


class WebhookResult(BaseModel):
    """What a delivery did."""

    status: Literal["applied", "duplicate", "ignored", "not_credited"]
    rail: str
    event_id: str
    event_type: str
    reason: str | None = Field(
        default=None,
        description=(
            "Why the delivery changed nothing, as `<snake_case_code>: <detail>`; absent when applied. "
            "Codes: event_already_received, payment_already_recorded (duplicate); "
            "event_not_acted_on, subscription_link_only, subscription_not_active, "
            "subscription_not_found (ignored); currency_not_credited, amount_not_positive, "
            "payment_not_attributable (not_credited)."
        ),
        examples=["event_not_acted_on: customer.created moves no money and changes no plan"],
    )


class CheckoutCreate(Strict):
    """Start a plan subscription."""

    account_id: str = Field(min_length=1, max_length=64)
    plan: Literal["pro", "team"]
    rail: str = Field(default="stripe", max_length=32)


class SubscriptionOut(BaseModel):
    """A plan subscription."""

    id: str
    account_id: str
    rail: str
    plan: str
    status: str
    checkout_ref: str | None
    processor_subscription_id: str | None
    checkout_url: str | None = None


class BillingOut(BaseModel):
    """Billing state: the truth surface of a tier flip."""

    account_id: str
    plan_tier: str
    subscription_status: Literal["none", "pending", "active", "canceled"]
    subscriptions: list[SubscriptionOut]


class InvoiceOut(BaseModel):
    """A paid subscription invoice."""

    rail: str
    processor_ref: str
    subscription_id: str | None
    amount: str
    currency: str
    status: str
    created_at: datetime


class InvoicesOut(BaseModel):
    """Invoices of an account."""

    account_id: str
    invoices: list[InvoiceOut]


class OutcomeCreate(Strict):
    """A metered outcome: the provider cost of one inference."""

    inference_id: str = Field(min_length=1, max_length=256)
    account_id: str = Field(min_length=1, max_length=64)
    cost_micros: int = Field(ge=0, le=MAX_MICROS)


class OutcomeOut(BaseModel):
    """A recorded outcome."""

    inference_id: str
    account_id: str
    cost_micros: int
    created_at: datetime


class ChargeCreate(Strict):
    """Charge an outcome; the margin is clamped to the configured range."""

    inference_id: str = Field(min_length=1, max_length=256)
    margin_bps: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)


class ChargeResult(BaseModel):
    """The charge of one inference; `margin_bps` is the effective (clamped) margin."""

    inference_id: str
    account_id: str
    status: Literal["charged", "skipped_zero_cost"]
    cost_micros: int
    margin_bps: int
    margin_bps_requested: int | None
    charged_micros: int
    ledger_entry_id: int | None
    balance_micros: int
    replayed: bool


class UsageCreate(Strict):
    """A paid, metered request: each charge is taken from the session in order."""

    account_id: str | None = Field(default=None, max_length=64)
    charges_micros: list[int] = Field(default_factory=list, max_length=100)
    stream: bool = False
    chunk_delay_ms: int = Field(default=0, ge=0, le=1000)


class UsageOut(BaseModel):
    """The served (non-streamed) usage response."""

    request_id: str
    live: bool
    protocol: str | None
    cap_micros: int | None
    spent_micros: int
    output: list[str]


class BalanceAdjust(Strict):
    """Set an absolute balance (admin)."""

    account_id: str = Field(min_length=1, max_length=64)
    balance_micros: int = Field(ge=-MAX_MICROS, le=MAX_MICROS)
    reason: str = Field(min_length=1, max_length=500)


class BalanceAdjustOut(BaseModel):
    """Result of an adjustment (entry is null when the balance already had that value)."""

    account_id: str
    old_balance_micros: int
    new_balance_micros: int
    entry: LedgerEntryOut | None


class ReconcileMismatch(BaseModel):
    """One disagreement between our ledger and the processor."""

    kind: Literal["missing_in_ledger", "missing_at_processor", "amount_mismatch", "not_credited"]
    processor_ref: str
    processor_amount: str | None = None
    ledger_amount: str | None = None
    currency: str | None = None
    fixed: bool = False


class ReconcileResult(BaseModel):
    """Reconciliation of one rail; always an answer, never an exception."""

    rail: str
    dry_run: bool
    status: Literal["ok", "mismatch", "not_configured", "unsupported", "error"]
    checked: int
    ledger_credits: int
    mismatches: list[ReconcileMismatch]
    message: str | None = None
