"""Fixtures shared by the live behaviour suites; a suite module imports the ones it uses.

(Fixtures imported into a test module are that module's fixtures; keeping them here rather than in the
pytest11 plugin keeps names like `api` out of every other pytest run in the environment.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.suites._processors import Processors
from harness.suites._support import Api, require_live
from harness.suites.plugin import PaymentsOptions
from harness.target import Target

__all__ = ["api", "processors"]


@pytest.fixture
def api(target: Target, payments_options: PaymentsOptions) -> Iterator[Api]:
    """The target's API for one test; the checks need a live target (a dormant one skips, saying so)."""
    require_live(target)
    with Api(target, seed=payments_options.seed) as client:
        yield client


@pytest.fixture
def processors(api: Api) -> Iterator[Processors]:
    """The fake processors of the target."""
    fakes = Processors(api)
    try:
        yield fakes
    finally:
        fakes.close()
