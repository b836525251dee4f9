"""Xendit fake ids never repeat across instances or resets (issue 12.6), unless asked to be reproducible."""

from __future__ import annotations

from fakes.xendit.ids import IdFactory


def test_two_instances_with_the_same_seed_mint_different_ids() -> None:
    first, second = IdFactory("payharness-xendit"), IdFactory("payharness-xendit")
    assert first.object_id("invoice", 0) != second.object_id("invoice", 0)
    assert first.prefixed("cust-") != second.prefixed("cust-")


def test_a_reset_never_reissues_an_id() -> None:
    ids = IdFactory("seed")
    before = {ids.uuid("payment") for _ in range(5)}
    ids.reset()
    assert before.isdisjoint({ids.uuid("payment") for _ in range(5)})


def test_reproducible_factories_with_one_seed_agree() -> None:
    first, second = IdFactory("s", reproducible=True), IdFactory("s", reproducible=True)
    assert [first.uuid("k") for _ in range(3)] == [second.uuid("k") for _ in range(3)]
