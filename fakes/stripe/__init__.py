"""A stateful fake of the Stripe v1 API subset payharness needs, accepted by stripe-python's StripeClient.

Implemented (PROCESSORS.md section 1): form-encoded params with ``a[b]=c`` / ``a[0]=x`` nesting; Basic or
Bearer auth with ``sk_test_`` keys; customers (create, retrieve, update, list, delete); customer balance
transactions (negative amount = credit, cumulative ``ending_balance``, only description/metadata mutable);
cash balance (retrieve, settings), cash balance transactions, funding instructions (create-or-retrieve) and
the ``fund_cash_balance`` test helper; products and prices (update, archive, delete a product without
prices); checkout sessions in subscription, payment and setup modes;
subscriptions (create, retrieve, list, update, cancel) and invoices, collected from the customer's test card
with failures, ``invoice.payment_failed`` and retries (:mod:`fakes.stripe.collection`); PaymentIntents,
charges, refunds, balance; PaymentMethods (test card numbers and tokens) and SetupIntents; disputes from
the dispute test cards; coupons and promotion codes, applied as discounts
(:mod:`fakes.stripe.discounts`); test clocks; events (every type
in :mod:`fakes.stripe.event_types`, each with a trigger recipe); webhook endpoints; Stripe idempotency;
Stripe's error shape; ``Request-Id`` on every response; ``livemode: false`` everywhere.

Fake-only helpers (control API and Python): ``POST /_fake/checkout/sessions/{id}/complete``
(:meth:`StripeFakeApp.complete_checkout_session`), ``POST /_fake/subscriptions/{id}/renew``
(:meth:`StripeFakeApp.renew_subscription`), plus the shared ``/_fake/`` routes of :mod:`fakes._common`.

Events are delivered to every registered endpoint, signed with ``Stripe-Signature`` at send time, retried
on Stripe's schedule (:data:`STRIPE_RETRY_SCHEDULE_SECONDS`, scaled by ``time_scale``).

Choices where PROCESSORS.md marks facts UNVERIFIED: API-created balance transactions are ``adjustment``;
their ids are ``cbtxn_``; unknown routes answer 404 ``resource_missing``; a concurrent idempotent retry gets
409 ``idempotency_error``/``idempotency_key_in_use``.
"""

from __future__ import annotations

from fakes.stripe.app import StripeFakeApp, create_app
from fakes.stripe.config import STRIPE_RETRY_SCHEDULE_SECONDS, StripeConfig

__all__ = ["STRIPE_RETRY_SCHEDULE_SECONDS", "StripeConfig", "StripeFakeApp", "create_app"]
