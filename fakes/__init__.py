"""Processor emulators (Stripe, Coinbase CDP/x402, Xendit) usable on their own.

Each processor is a package with ``create_app(config)`` returning a stateful ASGI app; the shared machinery
(journal, faults, webhook delivery, control API, loopback server) lives in :mod:`fakes._common`.
"""
