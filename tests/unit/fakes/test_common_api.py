"""The public API of fakes._common is pinned: the other fakes build on it."""

from __future__ import annotations

import fakes._common as common


def test_the_public_names_of_the_shared_machinery_are_stable() -> None:
    assert sorted(common.__all__) == [
        "Claim",
        "ConnectionDropped",
        "DeliveryAttempt",
        "DeliveryMode",
        "DeliverySettings",
        "FakeApp",
        "FakeError",
        "FakeNotFound",
        "FakeRequest",
        "FakeResponse",
        "Fault",
        "FaultSet",
        "Handler",
        "IdempotencyStore",
        "InvalidFakeArgument",
        "Journal",
        "JournalEntry",
        "LoopbackServer",
        "Processor",
        "Route",
        "Router",
        "Run",
        "Signer",
        "Verdict",
        "WebhookDelivery",
        "WebhookEndpoint",
        "endpoint_json",
        "json_body",
        "json_response",
    ]
    for name in common.__all__:
        assert getattr(common, name) is not None


def test_every_error_carries_a_snake_case_code() -> None:
    for error in (
        common.FakeError,
        common.InvalidFakeArgument,
        common.FakeNotFound,
        common.ConnectionDropped,
    ):
        assert error.code.islower() and " " not in error.code
