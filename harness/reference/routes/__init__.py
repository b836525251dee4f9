"""Routes of the reference service, one module per resource."""

from __future__ import annotations

from . import accounts, admin, billing, charges, health, payments, usage, webhooks

__all__ = ["accounts", "admin", "billing", "charges", "health", "payments", "usage", "webhooks"]
