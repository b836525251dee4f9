"""Xendit Recurring: plans (``repl_``), their schedule (``resc_``) and cycles (``recy_``), and callbacks.

Plan lifecycle in the fake:

* ``POST /recurring/plans`` with ``payment_methods`` → ``ACTIVE`` at once, ``recurring.plan.activated``;
  without → ``REQUIRES_ACTION`` with an ``AUTH`` action URL (the customer must link a payment method),
  until the test helper ``POST /_fake/recurring/plans/{id}/activate`` plays that part.
* ``POST /_fake/recurring/plans/{id}/cycle`` ``{"status"?, "failure_code"?, "force"?}`` runs one
  charge attempt of an ACTIVE plan. Without a cycle in retry, it opens a new one
  (``recurring.cycle.created``, status SCHEDULED). Then: success → ``recurring.cycle.succeeded`` (CASH
  balance credited); failure with retries left (``schedule.total_retry``, default 0) → status RETRYING,
  ``recurring.cycle.retrying`` with the attempt's ``next_retry_timestamp`` (``retry_interval`` x
  ``retry_interval_count`` ahead), and the next attempt goes to the same cycle; the last failure →
  ``recurring.cycle.failed``, and a plan with ``failed_cycle_action: "STOP"`` is inactivated too.
  ``force: true`` plays the merchant forcing an attempt on a RETRYING cycle: a failure sends
  ``recurring.cycle.force_attempt_failed`` and keeps the cycle's status and retry budget.
* ``POST /recurring/plans/{id}/deactivate`` → ``INACTIVE``, ``recurring.plan.inactivated``.
  Deactivating an INACTIVE plan returns it unchanged and sends nothing (the fake's choice).

Callbacks use the newer-products envelope ``{"event", "business_id", "created", "data", "api_version"}``
(PROCESSORS.md 2.1 "Envelope"); ``data`` is the plan or the cycle object. Field names follow Xendit's
Recurring API as known to the brief; ids, cycle fields and ``api_version`` are UNVERIFIED.
"""

from __future__ import annotations

import threading
from typing import Any

from fakes.xendit.amounts import check_amount, from_minor, to_minor
from fakes.xendit.balances import Balances
from fakes.xendit.config import XenditConfig
from fakes.xendit.customers import CustomerBook
from fakes.xendit.errors import XenditApiError, validation_error
from fakes.xendit.events import Callback, envelope
from fakes.xendit.ids import IdFactory, isoformat
from fakes.xendit.invoices import plain_json

__all__ = ["Callback", "RecurringBook"]

_INTERVALS = ("DAY", "WEEK", "MONTH")
_FAILED_CYCLE_ACTIONS = ("RESUME", "STOP")
_OPTIONAL_STRINGS = (
    "description",
    "immediate_action_type",
    "success_return_url",
    "failure_return_url",
)


class RecurringBook:
    """Recurring plans and cycles of one fake account (thread-safe)."""

    def __init__(
        self,
        config: XenditConfig,
        ids: IdFactory,
        customers: CustomerBook,
        balances: Balances,
    ) -> None:
        self._config = config
        self._ids = ids
        self._customers = customers
        self._balances = balances
        self._lock = threading.Lock()
        self._plans: dict[str, dict[str, Any]] = {}
        self._cycles: dict[str, list[dict[str, Any]]] = {}
        self._amounts_minor: dict[str, int] = {}

    def reset(self) -> None:
        """Forget every plan and cycle."""
        with self._lock:
            self._plans.clear()
            self._cycles.clear()
            self._amounts_minor.clear()

    # -- plans ---------------------------------------------------------------------------------------

    def create_plan(self, body: object) -> tuple[dict[str, Any], list[Callback]]:
        """Validate and store a plan; returns it and the callbacks to send."""
        if not isinstance(body, dict):
            raise validation_error("request body must be a JSON object")
        reference_id = _required_string(body, "reference_id")
        customer_id = _required_string(body, "customer_id")
        if body.get("recurring_action") != "PAYMENT":
            raise validation_error('"recurring_action" must be "PAYMENT"')
        currency = body.get("currency")
        if not isinstance(currency, str) or currency not in self._config.currencies:
            raise XenditApiError(
                400,
                "UNSUPPORTED_CURRENCY",
                f"currency {currency!r} is not activated on this account",
            )
        try:
            amount_minor = to_minor(body.get("amount"), currency)
        except ValueError as exc:
            raise validation_error(f'"amount" is invalid: {exc}') from exc
        check_amount(amount_minor, currency)
        for name in _OPTIONAL_STRINGS:
            if body.get(name) is not None and not isinstance(body[name], str):
                raise validation_error(f'"{name}" must be a string')
        for name in ("metadata", "notification_config"):
            if body.get(name) is not None and not isinstance(body[name], dict):
                raise validation_error(f'"{name}" must be an object')
        schedule = body.get("schedule")
        if not isinstance(schedule, dict):
            raise validation_error('"schedule" is required')
        interval = schedule.get("interval")
        if interval not in _INTERVALS:
            raise validation_error(f'"schedule.interval" must be one of {list(_INTERVALS)}')
        count = schedule.get("interval_count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise validation_error('"schedule.interval_count" must be a positive integer')
        retries = schedule.get("total_retry", 0)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise validation_error('"schedule.total_retry" must be an integer from 0 to 10')
        if schedule.get("retry_interval", "DAY") not in _INTERVALS:
            raise validation_error(f'"schedule.retry_interval" must be one of {list(_INTERVALS)}')
        payment_methods = body.get("payment_methods") or []
        if not isinstance(payment_methods, list):
            raise validation_error('"payment_methods" must be a list')
        failed_cycle_action = body.get("failed_cycle_action", "RESUME")
        if failed_cycle_action not in _FAILED_CYCLE_ACTIONS:
            raise validation_error(
                f'"failed_cycle_action" must be one of {list(_FAILED_CYCLE_ACTIONS)}'
            )
        if not self._customers.exists(customer_id):
            raise XenditApiError(404, "DATA_NOT_FOUND", f"customer {customer_id} was not found")

        now = isoformat(self._config.now())
        plan_id = self._ids.prefixed("repl_")
        schedule_id = self._ids.prefixed("resc_")
        active = bool(payment_methods)
        plan: dict[str, Any] = {
            "id": plan_id,
            "business_id": self._config.business_id,
            "reference_id": reference_id,
            "customer_id": customer_id,
            "recurring_action": "PAYMENT",
            "recurring_cycle_count": 0,
            "currency": currency,
            "amount": from_minor(amount_minor, currency),
            "status": "ACTIVE" if active else "REQUIRES_ACTION",
            "created": now,
            "updated": now,
            "payment_methods": plain_json(payment_methods),
            "schedule_id": schedule_id,
            "schedule": {
                **plain_json(schedule),
                "id": schedule_id,
                "business_id": self._config.business_id,
                "interval": interval,
                "interval_count": count,
                "created": now,
                "updated": now,
            },
            "immediate_action_type": body.get("immediate_action_type"),  # validated: str or None
            "notification_config": plain_json(body.get("notification_config")),
            "failed_cycle_action": failed_cycle_action,
            "metadata": plain_json(body.get("metadata")),
            "description": body.get("description"),
            "items": plain_json(body.get("items")),
            "success_return_url": body.get("success_return_url"),
            "failure_return_url": body.get("failure_return_url"),
            "actions": []
            if active
            else [
                {
                    "action": "AUTH",
                    "url": f"{self._config.checkout_base_url}/linking/{plan_id}",
                    "url_type": "WEB",
                    "method": "GET",
                }
            ],
        }
        with self._lock:
            self._plans[plan_id] = plan
            self._cycles[plan_id] = []
            self._amounts_minor[plan_id] = amount_minor
            callbacks = [self._callback("recurring.plan.activated", plan)] if active else []
            return dict(plan), callbacks

    def get_plan(self, plan_id: str) -> dict[str, Any]:
        """The plan ``plan_id``, or 404 ``DATA_NOT_FOUND``."""
        with self._lock:
            return dict(self._plan(plan_id))

    def activate_plan(self, plan_id: str) -> tuple[dict[str, Any], list[Callback]]:
        """Test helper: the customer linked a payment method; REQUIRES_ACTION → ACTIVE."""
        with self._lock:
            plan = self._plan(plan_id)
            if plan["status"] != "REQUIRES_ACTION":
                raise XenditApiError(
                    400,
                    "INVALID_STATUS_TRANSITION",
                    f"plan {plan_id} is {plan['status']}, not REQUIRES_ACTION",
                )
            plan["status"] = "ACTIVE"
            plan["actions"] = []
            plan["updated"] = isoformat(self._config.now())
            return dict(plan), [self._callback("recurring.plan.activated", plan)]

    def deactivate_plan(self, plan_id: str) -> tuple[dict[str, Any], list[Callback]]:
        """``POST /recurring/plans/{id}/deactivate``."""
        with self._lock:
            plan = self._plan(plan_id)
            if plan["status"] == "INACTIVE":
                return dict(plan), []
            plan["status"] = "INACTIVE"
            plan["updated"] = isoformat(self._config.now())
            return dict(plan), [self._callback("recurring.plan.inactivated", plan)]

    # -- cycles --------------------------------------------------------------------------------------

    def charge_cycle(
        self,
        plan_id: str,
        *,
        succeeded: bool = True,
        failure_code: str = "INSUFFICIENT_BALANCE",
        force: bool = False,
    ) -> tuple[dict[str, Any], list[Callback]]:
        """Test helper: run one charge attempt of an ACTIVE plan now (see the module docstring).

        The attempt goes to the plan's RETRYING cycle if it has one, else to a new cycle
        (``recurring.cycle.created`` first). ``force`` plays the merchant forcing an attempt: a
        failed forced attempt sends ``recurring.cycle.force_attempt_failed`` and leaves the cycle's
        status and retry budget as they were.
        """
        with self._lock:
            plan = self._plan(plan_id)
            if plan["status"] != "ACTIVE":
                raise XenditApiError(
                    400,
                    "INVALID_STATUS_TRANSITION",
                    f"plan {plan_id} is {plan['status']}; only an ACTIVE plan is charged",
                )
            now = isoformat(self._config.now())
            cycles = self._cycles[plan_id]
            callbacks: list[Callback] = []
            open_cycles = [c for c in cycles if c["status"] == "RETRYING"]
            if open_cycles:
                cycle = open_cycles[-1]
            elif force:
                raise XenditApiError(
                    400,
                    "INVALID_STATUS_TRANSITION",
                    f"plan {plan_id} has no RETRYING cycle to force an attempt on",
                )
            else:
                cycle = self._new_cycle(plan, len(cycles) + 1, now)
                cycles.append(cycle)
                callbacks.append(self._callback("recurring.cycle.created", cycle))
            attempt_number = len(cycle["attempt_details"]) + 1
            attempts_allowed = 1 + int(plan["schedule"].get("total_retry") or 0)
            retrying = (not succeeded) and (not force) and attempt_number < attempts_allowed
            cycle["attempt_details"].append(
                {
                    "attempt_number": attempt_number,
                    "action_id": self._ids.prefixed("pr-"),
                    "status": "SUCCEEDED" if succeeded else "FAILED",
                    "failure_code": None if succeeded else failure_code,
                    "next_retry_timestamp": self._next_retry(plan) if retrying else None,
                    "created": now,
                }
            )
            cycle["attempt_count"] = attempt_number
            cycle["updated"] = now
            plan["updated"] = now
            if succeeded:
                cycle["status"] = "SUCCEEDED"
                plan["recurring_cycle_count"] += 1
                callbacks.append(self._callback("recurring.cycle.succeeded", cycle))
            elif force:
                callbacks.append(self._callback("recurring.cycle.force_attempt_failed", cycle))
            elif retrying:
                cycle["status"] = "RETRYING"
                callbacks.append(self._callback("recurring.cycle.retrying", cycle))
            else:
                cycle["status"] = "FAILED"
                callbacks.append(self._callback("recurring.cycle.failed", cycle))
                if plan["failed_cycle_action"] == "STOP":
                    plan["status"] = "INACTIVE"
                    callbacks.append(self._callback("recurring.plan.inactivated", plan))
            amount_minor = self._amounts_minor[plan_id]
            snapshot = _copy_cycle(cycle)
        if succeeded:
            self._balances.credit("CASH", str(plan["currency"]), amount_minor)
        return snapshot, callbacks

    def _new_cycle(self, plan: dict[str, Any], number: int, now: str) -> dict[str, Any]:
        return {
            "id": self._ids.prefixed("recy_"),
            "business_id": self._config.business_id,
            "reference_id": plan["reference_id"],
            "plan_id": plan["id"],
            "customer_id": plan["customer_id"],
            "recurring_action": "PAYMENT",
            "cycle_number": number,
            "attempt_count": 0,
            "attempt_details": [],
            "status": "SCHEDULED",
            "type": "SCHEDULED",
            "currency": plan["currency"],
            "amount": plan["amount"],
            "scheduled_timestamp": now,
            "created": now,
            "updated": now,
            "metadata": plan["metadata"],
        }

    def _next_retry(self, plan: dict[str, Any]) -> str:
        """When the next retry is due: ``schedule.retry_interval`` x ``retry_interval_count``."""
        seconds = {"DAY": 86_400, "WEEK": 7 * 86_400, "MONTH": 30 * 86_400}
        schedule = plan["schedule"]
        unit = seconds.get(str(schedule.get("retry_interval") or "DAY"), 86_400)
        count = int(schedule.get("retry_interval_count") or 1)
        return isoformat(self._config.now() + unit * count)

    def cycles(self, plan_id: str) -> list[dict[str, Any]]:
        """Every cycle of ``plan_id``, newest first."""
        with self._lock:
            self._plan(plan_id)
            return [_copy_cycle(cycle) for cycle in reversed(self._cycles[plan_id])]

    # -- helpers -------------------------------------------------------------------------------------

    def _plan(self, plan_id: str) -> dict[str, Any]:
        # Caller holds the lock.
        plan = self._plans.get(plan_id)
        if plan is None:
            raise XenditApiError(404, "DATA_NOT_FOUND", f"recurring plan {plan_id} was not found")
        return plan

    def _callback(self, event: str, data: dict[str, Any]) -> Callback:
        return envelope(self._config, self._ids, event, data)


def _copy_cycle(cycle: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of ``cycle`` whose attempt list later attempts do not change."""
    return {**cycle, "attempt_details": [dict(a) for a in cycle["attempt_details"]]}


def _required_string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise validation_error(f'"{name}" is required and must be a non-empty string')
    return value
