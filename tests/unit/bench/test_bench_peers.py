"""Peers are found at run time; a missing one is reported as unavailable, never replaced by a guess."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from harness.bench.errors import Unavailable
from harness.bench.peers import localstripe_launch, prism_document, prism_launch, stripe_contract

CUSTOMER = {"id": "cus_1", "object": "customer", "balance": 0}


def test_prism_serves_the_fakes_own_answers_as_examples() -> None:
    document = prism_document(stripe_contract(), {("GET", "/v1/customers/{customer}"): CUSTOMER})
    content = document["paths"]["/v1/customers/{customer}"]["get"]["responses"]["200"]["content"]
    assert content == {"application/json": {"example": CUSTOMER}}


def test_the_shipped_description_is_left_untouched() -> None:
    base = stripe_contract()
    prism_document(base, {("GET", "/v1/customers/{customer}"): CUSTOMER})
    assert "content" not in base["paths"]["/v1/customers/{customer}"]["get"]["responses"]["200"]


def test_an_operation_the_description_lacks_is_unavailable_for_prism() -> None:
    with pytest.raises(Unavailable, match="no DELETE /v1/balance"):
        prism_document(stripe_contract(), {("DELETE", "/v1/balance"): {}})


def test_without_prism_installed_it_is_unavailable_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(Unavailable, match="npm install -g @stoplight/prism-cli@5"):
        prism_launch(4010, tmp_path / "doc.json", {})


def test_without_localstripe_installed_it_is_unavailable_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(Unavailable, match="pip install localstripe"):
        localstripe_launch(8420, {})


def test_an_importable_localstripe_runs_bound_to_loopback_through_the_bench_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    launch = localstripe_launch(8420, {})
    assert launch.argv[1:] == ("-m", "harness.bench.child", "localstripe", "--port", "8420")
    assert launch.ready_url == "http://127.0.0.1:8420/v1/customers"


def test_a_forced_localstripe_command_is_run_as_is_and_the_report_says_how_it_listens() -> None:
    launch = localstripe_launch(8420, {"PAYHARNESS_BENCH_LOCALSTRIPE": "/opt/ls/bin/localstripe"})
    assert launch.argv == ("/opt/ls/bin/localstripe", "--port", "8420", "--from-scratch")
    assert "[::]" in launch.note


def test_the_stripe_description_is_the_one_the_fake_ships() -> None:
    assert "/v1/customers/{customer}/balance_transactions" in stripe_contract()["paths"]
