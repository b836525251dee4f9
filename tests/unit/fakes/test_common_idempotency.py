"""The shared idempotency store follows Stripe's v1 rules (PROCESSORS.md 1.5)."""

from __future__ import annotations

from fakes._common import FakeResponse, IdempotencyStore, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def claim(
    store: IdempotencyStore,
    key: str = "k1",
    *,
    endpoint: str = "POST /v1/customers",
    params: object = (("email", "a@b.c"),),
) -> Verdict:
    return store.claim(scope="sk_test", key=key, endpoint=endpoint, fingerprint=params).verdict


def test_first_use_executes_and_a_retry_replays_the_saved_response() -> None:
    store = IdempotencyStore()
    assert claim(store) is Verdict.EXECUTE
    store.complete(scope="sk_test", key="k1", response=FakeResponse(status=500, body=b"boom"))

    again = store.claim(
        scope="sk_test", key="k1", endpoint="POST /v1/customers", fingerprint=(("email", "a@b.c"),)
    )
    assert again.verdict is Verdict.REPLAY
    assert again.response is not None and (again.response.status, again.response.body) == (
        500,
        b"boom",
    )


def test_a_retry_while_the_first_is_executing_is_in_flight() -> None:
    store = IdempotencyStore()
    assert claim(store) is Verdict.EXECUTE
    assert claim(store) is Verdict.IN_FLIGHT


def test_other_parameters_or_another_endpoint_are_mismatches() -> None:
    store = IdempotencyStore()
    claim(store)
    assert claim(store, params=(("email", "x@y.z"),)) is Verdict.PARAMS_MISMATCH
    assert claim(store, endpoint="POST /v1/invoices") is Verdict.ENDPOINT_MISMATCH


def test_an_abandoned_claim_is_not_saved_so_the_key_can_be_retried() -> None:
    store = IdempotencyStore()
    claim(store)
    store.abandon(scope="sk_test", key="k1")
    assert claim(store, params=(("email", "fixed@b.c"),)) is Verdict.EXECUTE


def test_keys_are_scoped_by_owner() -> None:
    store = IdempotencyStore()
    assert (
        store.claim(scope="a", key="k", endpoint="POST /x", fingerprint=1).verdict
        is Verdict.EXECUTE
    )
    assert (
        store.claim(scope="b", key="k", endpoint="POST /x", fingerprint=1).verdict
        is Verdict.EXECUTE
    )


def test_keys_live_for_the_retention_window_on_the_injected_clock() -> None:
    clock = Clock()
    store = IdempotencyStore(now=clock, retention_seconds=24 * 3600)
    claim(store)
    store.complete(scope="sk_test", key="k1", response=FakeResponse(status=200))

    clock.now += 24 * 3600 - 1
    assert claim(store, params=(("email", "other@b.c"),)) is Verdict.PARAMS_MISMATCH
    clock.now += 1
    assert claim(store, params=(("email", "other@b.c"),)) is Verdict.EXECUTE


def test_the_store_is_bounded() -> None:
    store = IdempotencyStore(max_keys=2)
    for key in ("a", "b", "c"):
        claim(store, key)
        store.complete(scope="sk_test", key=key, response=FakeResponse(status=200))
    assert len(store) == 2
