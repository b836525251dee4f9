"""The payharness pytest plugin: options, the `target` fixture, and how to reproduce each test.

Registered as the ``pytest11`` entry point ``payharness`` (and passed as ``-p harness.suites.plugin`` by the
gate when the entry point is not installed). Options:

* ``--payments-target URL``: the payments service under test; without it, the in-process reference service
  on SQLite, wired to in-process fakes on loopback ports.
* ``--payments-env-file FILE``: the file `payharness fakes --env-file FILE` wrote (``export NAME=value``
  lines): the fakes a URL target was started against (their ``/_fake/`` control API gives the suites
  journals, faults and delivery controls) and the secrets it was given (``ADMIN_SECRET`` included). Without
  it, the same variables are read from the environment (after ``set -a; . ./fakes.env; set +a``).
* ``--payments-fake RAIL=URL`` (repeatable): one fake's URL, overriding the env file and environment.
* ``--payments-examples N``: generated examples per API operation in the schemathesis stage.
* ``--payments-depth N``: the most steps in one generated sequence of the stateful suite.
* ``--payments-seed S``: the generation seed; printed in the header and in every reproduce line, so a failure
  can be replayed exactly. Without it a seed is drawn once and shared with every xdist worker.
"""

from __future__ import annotations

import os
import random
import shlex
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.redaction import redact_url
from harness.report import NOT_APPLICABLE
from harness.suites._ruled_out import verdict_of
from harness.suites.failures import SuiteFailure
from harness.target import FakeHandle, Target, fakes_from_env, reference_target, url_target

__all__ = ["DEFAULT_DEPTH", "DEFAULT_EXAMPLES", "PaymentsOptions", "payments_options", "target"]

#: Small enough that the whole gate on the embedded defaults stays well under a minute on two cores.
DEFAULT_EXAMPLES = 10
#: Steps per generated sequence of the stateful suite (with DEFAULT_EXAMPLES: ~10 s in the gate).
DEFAULT_DEPTH = 20
_SEED_KEY = "payharness_seed"
_OPTIONS = pytest.StashKey["PaymentsOptions"]()


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentsOptions:
    """The plugin's options, resolved once per pytest process."""

    target_url: str | None
    examples: int
    seed: int
    fakes: dict[str, str] = field(default_factory=dict)
    #: the service's settings for the fakes: the env file's lines, else this process's environment
    fakes_env: dict[str, str] = field(default_factory=dict)
    env_file: str | None = None
    #: the most steps in one sequence of the stateful suite
    depth: int = DEFAULT_DEPTH
    #: the plugin came in through its entry point, so a replay line must not add `-p` (double registration)
    entry_point: bool = False

    @property
    def target_label(self) -> str:
        """How reports name the target."""
        return self.target_url or "in-process reference"

    def gate_command(self, suite: str) -> str:
        """The `payharness gate` line that replays one suite with the same target, seed and examples."""
        parts = ["payharness", "gate", "--suite", suite, "--seed", str(self.seed)]
        parts += ["--examples", str(self.examples)]
        if self.depth != DEFAULT_DEPTH:
            parts += ["--depth", str(self.depth)]
        if self.target_url:
            parts += ["--target", redact_url(self.target_url)]
        return shlex.join(parts)

    def pytest_command(self, module: str, test: str) -> str:
        """The pytest line that replays one test of a suite module."""
        parts = ["pytest", "--pyargs", module]
        parts += [] if self.entry_point else ["-p", "harness.suites.plugin"]
        parts += ["-k", test]
        parts += ["--payments-seed", str(self.seed), "--payments-examples", str(self.examples)]
        if self.depth != DEFAULT_DEPTH:
            parts += ["--payments-depth", str(self.depth)]
        if self.target_url:
            parts += ["--payments-target", redact_url(self.target_url)]
        if self.env_file:
            parts += ["--payments-env-file", self.env_file]
        for rail, url in sorted(self.fakes.items()):
            parts += ["--payments-fake", f"{rail}={url}"]
        return shlex.join(parts)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the payharness options."""
    group = parser.getgroup("payharness", "payharness payments suites")
    group.addoption("--payments-target", default=None, metavar="URL", help="payments service URL")
    group.addoption(
        "--payments-env-file",
        default=None,
        metavar="FILE",
        help="the fakes' settings as `payharness fakes --env-file FILE` wrote them (default: the environment)",
    )
    group.addoption(
        "--payments-fake",
        action="append",
        default=[],
        metavar="RAIL=URL",
        help="a fake processor the target uses (stripe, cdp, xendit); repeatable",
    )
    group.addoption(
        "--payments-examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        metavar="N",
        help=f"generated examples per API operation (default {DEFAULT_EXAMPLES})",
    )
    group.addoption(
        "--payments-depth",
        type=int,
        default=DEFAULT_DEPTH,
        metavar="N",
        help=f"most steps per generated sequence of the stateful suite (default {DEFAULT_DEPTH})",
    )
    group.addoption("--payments-seed", type=int, default=None, metavar="S", help="generation seed")


def _parse_fakes(values: list[str]) -> dict[str, str]:
    fakes: dict[str, str] = {}
    for value in values:
        rail, sep, url = value.partition("=")
        if not sep or not url:
            raise pytest.UsageError(f"--payments-fake wants RAIL=URL, got {value!r}")
        fakes[rail.strip()] = url.strip()
    return fakes


def read_env_file(path: str) -> dict[str, str]:
    """``NAME=value`` lines (``export`` and quotes allowed, ``#`` comments skipped), as `payharness fakes`
    writes them."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise pytest.UsageError(
            f"--payments-env-file {path}: {exc.strerror or exc}; write it with "
            "`payharness fakes --env-file FILE`"
        ) from None
    env: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip().removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        if line.startswith("#") or not sep:
            continue
        env[name.strip()] = shlex.split(value)[0] if value.strip() else ""
    return env


def pytest_configure(config: pytest.Config) -> None:
    """Resolve the options once; a worker takes the controller's seed so all workers generate alike."""
    examples = int(config.getoption("--payments-examples"))
    if examples < 1:
        raise pytest.UsageError("--payments-examples must be at least 1")
    depth = int(config.getoption("--payments-depth"))
    if depth < 1:
        raise pytest.UsageError("--payments-depth must be at least 1")
    seed = config.getoption("--payments-seed")
    workerinput = getattr(config, "workerinput", None)
    if seed is None and workerinput is not None:
        seed = workerinput.get(_SEED_KEY)
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    env_file = config.getoption("--payments-env-file")
    config.stash[_OPTIONS] = PaymentsOptions(
        target_url=config.getoption("--payments-target"),
        examples=examples,
        depth=depth,
        seed=int(seed),
        fakes=_parse_fakes(list(config.getoption("--payments-fake"))),
        fakes_env=read_env_file(env_file) if env_file else dict(os.environ),
        env_file=env_file,
        entry_point=config.pluginmanager.has_plugin("payharness"),
    )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """pytest-xdist: hand the controller's seed to each worker."""
    config: pytest.Config = node.config  # type: ignore[attr-defined]
    node.workerinput[_SEED_KEY] = config.stash[_OPTIONS].seed  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str:
    """Say what is tested, with which seed."""
    options = config.stash[_OPTIONS]
    return (
        f"payharness: target={options.target_label} seed={options.seed} examples={options.examples} "
        f"depth={options.depth}"
    )


def _suite_of(module: str) -> str | None:
    package, _, name = module.rpartition(".")
    if package == "harness.suites" and name.startswith("test_"):
        return name.removeprefix("test_").replace("_", "-")
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Attach to every suite test how to replay it (JUnit `reproduce` and `suite` properties)."""
    options = config.stash[_OPTIONS]
    for item in items:
        module = getattr(getattr(item, "module", None), "__name__", "")
        suite = _suite_of(module)
        if suite is None:
            continue
        test = getattr(item, "originalname", item.name)
        item.user_properties.append(("suite", suite))
        item.user_properties.append(("seed", str(options.seed)))
        item.user_properties.append(("reproduce", options.gate_command(suite)))
        item.user_properties.append(("reproduce_pytest", options.pytest_command(module, test)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    """A suite failure reads as its own observed / expected / reproduce lines, not as a traceback of the
    harness's internals (`--tb` still applies to every other error). A contract operation whose every
    case the target's profile ruled out ends *not applicable* (harness.suites._ruled_out)."""
    if call.when == "call" and call.excinfo is None and (reason := verdict_of(item)) is not None:
        try:
            pytest.skip(f"{NOT_APPLICABLE}{reason}")
        except pytest.skip.Exception as exc:
            call.excinfo = pytest.ExceptionInfo.from_exception(exc)
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    excinfo = call.excinfo
    if report.failed and excinfo is not None and isinstance(excinfo.value, SuiteFailure):
        entry = excinfo.traceback[-1] if excinfo.traceback else None
        where = f"\n(raised in {entry.path}:{entry.lineno + 1})" if entry is not None else ""
        report.longrepr = f"{excinfo.value}{where}"


@pytest.fixture(scope="session")
def payments_options(pytestconfig: pytest.Config) -> PaymentsOptions:
    """The resolved payharness options (target URL, examples, seed, fakes)."""
    return pytestconfig.stash[_OPTIONS]


@pytest.fixture(scope="session")
def target(payments_options: PaymentsOptions) -> Iterator[Target]:
    """The payments service under test, shared by the session and closed at its end."""
    if payments_options.target_url is None:
        built = reference_target()
    else:
        fakes = fakes_from_env(payments_options.fakes_env)
        for rail, url in payments_options.fakes.items():
            fakes.handles[rail] = FakeHandle(rail, url)
            fakes.missing.pop(rail, None)
        built = url_target(payments_options.target_url, fakes=fakes)
    try:
        yield built
    finally:
        built.close()
