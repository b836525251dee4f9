"""The self-test's pytest plugin: every suite runs once per variant, and each outcome is recorded.

Loaded with ``-p harness.selftest.plugin`` next to the payharness plugin. It replaces the `target` fixture by
one parametrized over the variants (``--selftest-variants``), all built on one
:class:`~harness.selftest.stack.VariantStack`, and writes one JSON line per test to ``--selftest-results``:
``{"variant", "suite", "test", "outcome", "message"}`` where outcome is ``passed``, ``caught`` (a suite
failure: an `AssertionError`, in the test or its fixtures), ``error`` (anything else: the suite could not
run) or ``skipped``.

Once :data:`CATCHES_PER_SUITE` tests of a suite (distinct test functions: the cases of one parametrized
test count once) have caught a variant, the rest of that suite's tests skip for
that variant ("already caught"): the catch matrix counts catches per variant up to that bound per suite, and
the self-test stays fast. The clean service runs everything.

With ``--selftest-quick`` a defective variant meets only the suites that declare they catch it
(:data:`~harness.selftest.catchers.CATCHERS`), and its tests stop at its :data:`MIN_CATCHES`-th catch: the
proof that every variant is caught at least twice, at a fraction of the full matrix's cost.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.target import Target

from .catchers import catchers
from .matrix import CATCHES_PER_SUITE, MIN_CATCHES
from .stack import VariantStack
from .variants import VARIANTS, variant

__all__ = ["CATCHES_PER_SUITE", "RESULT_KEY", "pytest_addoption", "pytest_configure"]

RESULT_KEY = "payharness_selftest"
_CAUGHT = pytest.StashKey[dict[tuple[str, str], set[str]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The self-test's options."""
    group = parser.getgroup("payharness-selftest", "payharness self-test")
    group.addoption(
        "--selftest-variants",
        default=",".join(v.name for v in VARIANTS),
        metavar="NAMES",
        help="comma-separated variants to run every suite against (default: all)",
    )
    group.addoption(
        "--selftest-results", default=None, metavar="PATH", help="where to write the JSON lines"
    )
    group.addoption(
        "--selftest-quick",
        action="store_true",
        help="each defective variant only against its declared catchers, until its second catch",
    )


class _Fixtures:
    """The fixtures the self-test puts in place of the payharness plugin's `target`."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    @pytest.fixture(scope="session")
    def variant_stack(self) -> Iterator[VariantStack]:
        """One set of fakes for every variant."""
        stack = VariantStack()
        try:
            yield stack
        finally:
            stack.close()

    @pytest.fixture(scope="session")
    def target(
        self, request: pytest.FixtureRequest, variant_stack: VariantStack
    ) -> Iterator[Target]:
        """The variant under test (parametrized over `--selftest-variants`)."""
        built = variant_stack.target(variant(str(request.param)))
        try:
            yield built
        finally:
            built.close()


def pytest_configure(config: pytest.Config) -> None:
    """Register the variant fixtures last, so they win over the payharness plugin's `target`."""
    names = [
        n.strip() for n in str(config.getoption("--selftest-variants")).split(",") if n.strip()
    ]
    for name in names:
        variant(name)  # an unknown name is a usage error now, not a confusing collection error
    config.stash[_CAUGHT] = {}
    config.pluginmanager.register(_Fixtures(names), "payharness-selftest-fixtures")
    results = config.getoption("--selftest-results")
    if results and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(Path(results)), "payharness-selftest-recorder")
    config.addinivalue_line("markers", "selftest_variant(name): the variant a test runs against")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `target` (indirectly, session-scoped) with the variants."""
    fixtures = metafunc.config.pluginmanager.get_plugin("payharness-selftest-fixtures")
    if "target" in metafunc.fixturenames and isinstance(fixtures, _Fixtures):
        metafunc.parametrize("target", fixtures.names, indirect=True, scope="session")


def _variant_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return str(callspec.params["target"]) if callspec and "target" in callspec.params else None


def _suite_of(item: pytest.Item) -> str:
    module = getattr(getattr(item, "module", None), "__name__", "")
    return module.rpartition(".")[2].removeprefix("test_").replace("_", "-")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each variant's tests on one xdist worker (`--dist loadgroup`), in suite order; with
    `--selftest-quick`, drop a defective variant's tests of suites that do not declare they catch it."""
    quick = bool(config.getoption("--selftest-quick"))
    kept, dropped = [], []
    for item in items:
        name = _variant_of(item)
        if name is not None:
            item.add_marker(pytest.mark.xdist_group(name))
        if quick and name not in (None, "clean") and _suite_of(item) not in catchers(str(name)):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip the rest of a suite for a variant that suite has already caught, and the other cases of a
    parametrized test that has (they would count nothing more)."""
    name = _variant_of(item)
    if name is None or name == "clean":
        return
    caught = item.config.stash[_CAUGHT]
    tests = caught.get((name, _suite_of(item)), set())
    if len(tests) >= CATCHES_PER_SUITE or getattr(item, "originalname", item.name) in tests:
        pytest.skip(f"already caught: {_suite_of(item)} found {name} wrong")
    if item.config.getoption("--selftest-quick"):
        total = sum(len(t) for (variant, _), t in caught.items() if variant == name)
        if total >= MIN_CATCHES:
            pytest.skip(f"already caught: {total} tests found {name} wrong")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Classify each phase's outcome and attach it to the report (it travels to the xdist controller)."""
    report = yield
    name = _variant_of(item)
    if name is None:
        return report
    if report.when != "call" and not report.failed and not report.skipped:
        return report
    suite = _suite_of(item)
    if report.skipped:
        outcome = "skipped"
    elif report.passed:
        outcome = "passed"
    elif call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
        outcome = "caught"
        test = getattr(item, "originalname", item.name)
        item.config.stash[_CAUGHT].setdefault((name, suite), set()).add(test)
    else:
        outcome = "error"
    message = ""
    if call.excinfo is not None:
        message = str(call.excinfo.value)[:2000] if outcome != "skipped" else _skip_reason(report)
    record = {
        "variant": name,
        "suite": suite,
        "test": getattr(item, "originalname", item.name),
        "phase": report.when,
        "outcome": outcome,
        "message": message,
        "seconds": round(report.duration, 3),
    }
    report.user_properties.append((RESULT_KEY, json.dumps(record)))
    return report


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


class _Recorder:
    """Appends each recorded outcome to the results file (on the xdist controller, or the only process)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Write the report's self-test records, one JSON line each."""
        lines = [value for key, value in report.user_properties if key == RESULT_KEY]
        if lines:
            with self.path.open("a", encoding="utf-8") as results:
                results.writelines(f"{line}\n" for line in lines)
