"""`contract diff` exit codes: 0 nothing breaks, 1 something breaks, 2 a file cannot be read."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

from harness.contract import pinned_contract
from harness.gate import contract_diff_command


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_diff_of_a_contract_with_itself_is_clean(tmp_path: Path) -> None:
    old = _write(tmp_path / "old.json", pinned_contract())
    out = io.StringIO()
    assert contract_diff_command(old, old, out=out) == 0
    assert "no change a client can notice" in out.getvalue()


def test_diff_with_a_breaking_change_exits_one_and_lists_it(tmp_path: Path) -> None:
    changed = copy.deepcopy(pinned_contract())
    del changed["paths"]["/v1/usage"]
    old = _write(tmp_path / "old.json", pinned_contract())
    new = _write(tmp_path / "new.json", changed)
    out = io.StringIO()
    assert contract_diff_command(old, new, out=out) == 1
    assert "[BREAKING] POST /v1/usage: operation removed" in out.getvalue()
    assert "1 change(s), 1 breaking" in out.getvalue()


def test_diff_of_something_that_is_not_a_contract_could_not_run(tmp_path: Path) -> None:
    old = _write(tmp_path / "old.json", pinned_contract())
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    out = io.StringIO()
    assert contract_diff_command(old, bad, out=out) == 2
    assert "[contract_unreadable]" in out.getvalue()
    assert contract_diff_command(old, _write(tmp_path / "x.json", {"a": 1}), out=out) == 2
