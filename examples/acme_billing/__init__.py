"""Acme billing: a foreign-shaped SaaS billing service (Stripe + Xendit) for payharness to judge.

Run it with `python -m examples.acme_billing --port 8100` from the repository root, with the variables that
`payharness fakes` prints (plus `ACME_BILLING_ENABLED=1`, `ACME_TEST_TOKEN`, `ACME_DATABASE`).
"""

from .app import PLANS, AcmeSettings, create_app, settings_from_env

__all__ = ["PLANS", "AcmeSettings", "create_app", "settings_from_env"]
