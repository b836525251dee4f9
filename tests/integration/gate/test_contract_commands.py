"""`contract check` against running services: 0 match, 1 mismatch with a readable diff, 2 could not run."""

from __future__ import annotations

import copy
import io
import os
from collections.abc import Callable
from typing import Any

from harness.contract import pinned_contract
from harness.gate import contract_check_command


def test_the_in_process_reference_matches_the_pinned_contract() -> None:
    out = io.StringIO()
    assert contract_check_command(None, dict(os.environ), out=out) == 0
    assert "matches the pinned contract exactly" in out.getvalue()


def test_a_served_reference_on_a_port_matches(serve_reference: Callable[..., str]) -> None:
    assert contract_check_command(serve_reference(), {}, out=io.StringIO()) == 0


def test_a_service_serving_a_changed_contract_fails_naming_each_difference(
    serve_reference: Callable[..., str],
) -> None:
    changed = copy.deepcopy(pinned_contract())
    del changed["paths"]["/v1/charges"]["post"]["responses"]["402"]
    changed["paths"]["/v1/refunds"] = {"post": {"responses": {"201": {"description": "ok"}}}}

    def serves_changed(app: Any) -> Any:
        app.openapi = lambda: changed
        return app

    out = io.StringIO()
    assert contract_check_command(serve_reference(wrap=serves_changed), {}, out=out) == 1
    assert "POST /v1/charges: responses.402 missing in served" in out.getvalue()
    assert "POST /v1/refunds: operation extra in served" in out.getvalue()


def test_an_unreachable_service_could_not_run() -> None:
    out = io.StringIO()
    assert contract_check_command("http://127.0.0.1:9", {}, out=out) == 2
    assert "[target_unreachable]" in out.getvalue()
