"""The catch matrix reads the self-test's records: a suite failure is a catch, a crash is not, and the
verdict needs a clean pass plus one catch per defect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InvalidArgument
from harness.selftest import BEHAVIOUR_SUITES, selftest_command
from harness.selftest.catchers import CATCHERS, catchers
from harness.selftest.matrix import build_matrix, read_records
from harness.selftest.variants import CLEAN, VARIANTS, variant

SUITES = ("margin-math", "close-time-settle")
TWICE = variant("settle-twice")
FLOAT = variant("float-rounding")


def record(
    name: str, suite: str, outcome: str, test: str = "test_x", **extra: Any
) -> dict[str, Any]:
    return {
        "variant": name,
        "suite": suite,
        "test": test,
        "phase": "call",
        "outcome": outcome,
        "message": extra.get("message", ""),
        "seconds": 0.5,
    }


def test_a_clean_pass_and_two_catches_per_defect_passes() -> None:
    matrix = build_matrix(
        [CLEAN, TWICE],
        SUITES,
        [
            record("clean", "margin-math", "passed"),
            record("clean", "close-time-settle", "passed"),
            record("settle-twice", "margin-math", "passed"),
            record(
                "settle-twice",
                "close-time-settle",
                "caught",
                "test_sse",
                message="[wrong_settle] x",
            ),
            record("settle-twice", "close-time-settle", "caught", "test_buffered"),
        ],
    )
    assert matrix.passed and matrix.problems() == []
    assert matrix.caught_by("settle-twice") == ["close-time-settle"]
    assert matrix.catches("settle-twice") == [
        "close-time-settle::test_sse",
        "close-time-settle::test_buffered",
    ]
    assert matrix.cell("settle-twice", "close-time-settle").test == "test_sse"
    assert matrix.label(CLEAN, "margin-math") == "pass"
    assert matrix.label(TWICE, "close-time-settle") == "CAUGHT"


def test_an_error_is_not_a_catch_and_a_clean_failure_fails_the_verdict() -> None:
    matrix = build_matrix(
        [CLEAN, FLOAT],
        SUITES,
        [
            record("clean", "margin-math", "caught", "test_formula"),
            record("float-rounding", "margin-math", "error", "test_formula"),
            record("float-rounding", "close-time-settle", "passed"),
        ],
    )
    assert not matrix.passed
    assert matrix.problems() == [
        "the clean reference fails margin-math: caught in test_formula",
        "float-rounding is caught by no suite (errors in margin-math)",
    ]
    assert matrix.cell("clean", "close-time-settle").status == "not run"


def test_the_reports_carry_the_grid_and_each_catch() -> None:
    records = read_records(
        "\n".join(
            json.dumps(r)
            for r in (
                record("clean", "margin-math", "passed"),
                record("clean", "close-time-settle", "skipped", message="needs a socket"),
                record(
                    "settle-twice",
                    "close-time-settle",
                    "caught",
                    "test_sse",
                    message="[wrong_settle] twice",
                ),
            )
        )
    )
    matrix = build_matrix([CLEAN, TWICE], SUITES, records)
    markdown, data, text = matrix.to_markdown(), matrix.to_json(), matrix.to_text()
    assert "| **settle-twice** (`session_class`) | - | **caught** | 1 |" in markdown
    assert "close-time-settle: `test_sse`: [wrong_settle] twice" in markdown
    row = data["variants"][1]
    assert row["caught_by"] == ["close-time-settle"] and row["component"] == "session_class"
    assert data["variants"][0]["suites"]["close-time-settle"]["skipped"] == 1
    assert "CAUGHT" in text.splitlines()[2]


def test_a_defect_caught_by_a_single_test_fails_the_verdict() -> None:
    matrix = build_matrix(
        [CLEAN, TWICE],
        SUITES,
        [
            record("clean", "close-time-settle", "passed"),
            record("settle-twice", "close-time-settle", "caught", "test_sse"),
        ],
    )
    assert matrix.problems() == [
        "settle-twice is caught by only 1 test(s): close-time-settle::test_sse (at least 2 wanted)"
    ]
    assert matrix.to_json()["variants"][1]["catches"] == 1


def test_a_test_the_clean_reference_fails_catches_nothing() -> None:
    matrix = build_matrix(
        [CLEAN, TWICE],
        SUITES,
        [
            record("clean", "margin-math", "caught", "test_always_red"),
            record("settle-twice", "margin-math", "caught", "test_always_red"),
            record("settle-twice", "close-time-settle", "caught", "test_sse"),
            record("settle-twice", "close-time-settle", "caught", "test_buffered"),
        ],
    )
    assert matrix.catches("settle-twice") == [
        "close-time-settle::test_sse",
        "close-time-settle::test_buffered",
    ]
    assert matrix.problems() == ["the clean reference fails margin-math: caught in test_always_red"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"examples": 0}, "--examples must be at least 1"),
        ({"suites": ["contract"]}, "unknown suite"),
        ({"variants": ["nope"]}, "unknown variant"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"examples": 2, **kwargs}
    with pytest.raises(InvalidArgument, match=message):
        selftest_command(report_dir=tmp_path, seed=1, env={}, **arguments)
    assert list(tmp_path.iterdir()) == []


def _caught_twice_by_margin_math_then(declared_outcome: str) -> list[str]:
    """The problems when settle-twice is caught twice elsewhere and its declared catcher ends so."""
    assert "close-time-settle" in catchers("settle-twice")
    return build_matrix(
        [CLEAN, TWICE],
        SUITES,
        [
            record("clean", "close-time-settle", "passed"),
            record("settle-twice", "margin-math", "caught", "test_a"),
            record("settle-twice", "margin-math", "caught", "test_b"),
            record("settle-twice", "close-time-settle", declared_outcome, "test_sse"),
        ],
    ).problems()


def test_a_declared_catcher_that_runs_and_misses_its_variant_fails_the_verdict() -> None:
    assert _caught_twice_by_margin_math_then("passed") == [
        "settle-twice is declared caught by close-time-settle (harness/selftest/catchers.py), but "
        "close-time-settle ran and missed it"
    ]


def test_a_declared_catcher_skipped_whole_because_the_variant_was_already_caught_did_not_miss() -> (
    None
):
    assert _caught_twice_by_margin_math_then("skipped") == []


def test_every_defective_variant_declares_its_catchers_among_the_self_tests_suites() -> None:
    defective = {v.name for v in VARIANTS if not v.clean}
    assert set(CATCHERS) == defective
    assert all(CATCHERS[name] for name in defective)
    assert {s for suites in CATCHERS.values() for s in suites} <= set(BEHAVIOUR_SUITES)
    assert catchers("clean") == ()
