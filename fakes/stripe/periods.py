"""Billing periods: a timestamp moved on by calendar intervals, as subscriptions and coupons count them."""

from __future__ import annotations

import calendar
import datetime as dt

__all__ = ["add_interval"]


def add_interval(timestamp: int, interval: str, count: int = 1) -> int:
    """``timestamp`` moved on by ``count`` billing intervals (calendar months and years, UTC)."""
    if interval == "day":
        return timestamp + 86_400 * count
    if interval == "week":
        return timestamp + 7 * 86_400 * count
    start = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    months = count * (12 if interval == "year" else 1)
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return int(start.replace(year=year, month=month + 1, day=day).timestamp())
