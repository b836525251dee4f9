"""One dormancy verdict per run: the service is `live`, `dormant` or `half_switched_off`.

A leg that got one of the profile's dormant answers (a `dormant:` reason) only says that *this* route is
switched off. Whether that is fine depends on the rest of the run:

* `dormant`: some leg was refused as switched off and no leg took money: the whole service is deliberately
  off (a staging with payments disabled). Its dormant legs stay degraded (outcome `dormant`) and nothing
  pages.
* `half_switched_off`: a leg took money (the checkout answered 2xx, or the signed upgrade event was
  accepted) while another said it is switched off (typically the webhook answering 503 "not configured"):
  paying customers would never be upgraded. Every dormant leg then fails with a `half switched off:`
  reason.
* `live`: no leg was refused as switched off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .results import LegResult

__all__ = ["SERVICE_STATES", "judge_service"]

SERVICE_STATES = ("live", "dormant", "half_switched_off")

#: Legs whose 2xx means the service takes (or credits) money.
_MONEY_LEGS = ("checkout_reachable", "upgrade_webhook_e2e")


def _took_money(result: LegResult) -> bool:
    ok = result.http_status is not None and 200 <= result.http_status < 300
    return result.leg in _MONEY_LEGS and ok and result.result in ("pass", "degraded", "fail")


def judge_service(results: Sequence[LegResult]) -> tuple[str, list[LegResult]]:
    """The service's state and the legs with the verdict applied (dormant legs failed when half off)."""
    dormant = [r for r in results if r.outcome == "dormant"]
    if not dormant:
        return "live", list(results)
    money = [r for r in results if _took_money(r) and r.outcome != "dormant"]
    if not money:
        return "dormant", list(results)
    took = ", ".join(f"{r.leg} answered {r.http_status}" for r in money)
    out = []
    for r in results:
        if r.outcome == "dormant":
            reason = (
                f"half switched off: {took} (taking money) while this leg was refused as {r.reason}"
            )
            r = replace(r, result="fail", reason=reason)
        out.append(r)
    return "half_switched_off", out
