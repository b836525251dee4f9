"""The `payharness` command: the only place that reads argv and the environment.

Every error a user can cause ends as one line, ``error [code] what happened: what to do``, and exit 2 (usage
and could-not-run alike); ``payharness --debug COMMAND`` shows the traceback instead.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import typer
import typer._click as click  # typer 0.29 vendors click: its exceptions are these
import typer.core
from rich.console import Console
from rich.markup import escape

from .errors import HarnessError, InvalidArgument, TargetUnreachable
from .preflight import os_error
from .redaction import redact_text, redact_url

__all__ = ["app", "main", "reference_app"]

app = typer.Typer(
    name="payharness",
    help="Contract tests, synthetic probes and webhook replay for payment rails.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


_DEBUG = {"on": False}


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("payharness")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed)"
        typer.echo(f"payharness {number}")
        raise typer.Exit(0)


@app.callback(epilog="Example: payharness --debug gate --target http://127.0.0.1:8000")
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="On an error, show the traceback instead of the one-line message."
    ),
) -> None:
    """Contract tests, synthetic probes and webhook replay for payment rails."""
    _DEBUG["on"] = debug


def _fail(exc: HarnessError | ValueError) -> None:
    code = getattr(exc, "code", "invalid_argument")
    console.print(
        f"[red]error[/red] {escape(f'[{code}]')} {escape(redact_text(str(exc)))}", soft_wrap=True
    )
    raise typer.Exit(2)


def _writable_dir(path: str | Path, option: str) -> None:
    """`path` is (or can become) a folder this process can write, else a one-line error."""
    import tempfile

    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise InvalidArgument(
            f"{option} {path}: {exc.strerror or exc}; pass {option} with a folder you can write"
        ) from None


def _writable_file(path: str, option: str) -> None:
    """`path` can be written (its folder exists and is writable), checked before anything is started and
    without creating it (a reader polling for the file must not find an empty one)."""
    target = Path(path)
    if not target.parent.is_dir():
        raise InvalidArgument(
            f"{option} {path}: the folder {target.parent} does not exist (or is a file); create it "
            f"or pass {option} under an existing folder"
        )
    writable = os.access(target, os.W_OK) if target.exists() else os.access(target.parent, os.W_OK)
    if target.is_dir() or not writable:
        raise InvalidArgument(f"{option} {path}: not a file this user can write; pass another path")


_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


@app.command(
    epilog="Example: payharness reference --port 8000 "
    "--database-url sqlite+aiosqlite:///./payments.sqlite3"
)
def reference(
    host: str = typer.Option("127.0.0.1", metavar="HOST", help="Interface to listen on."),
    port: int = typer.Option(
        8000, metavar="PORT", help="Port to listen on (1-65535).", min=0, max=65535
    ),
    database_url: str = typer.Option(
        None,
        "--database-url",
        metavar="URL",
        help="SQLAlchemy async URL: sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB "
        "(default: PAYHARNESS_DATABASE_URL, else a temporary SQLite file removed when it stops).",
    ),
    log_level: str = typer.Option(
        "info", metavar="LEVEL", help=f"uvicorn log level: {', '.join(_LOG_LEVELS)}."
    ),
    workers: int = typer.Option(
        1,
        metavar="N",
        min=1,
        help="Worker processes sharing the port (uvicorn workers); each has its own database pool "
        "and its own /metrics.",
    ),
) -> None:
    """Serve the reference payments service (settings from the environment: PAYMENTS_LIVE, rails, ...)."""
    import tempfile

    import uvicorn

    from .preflight import check_database, check_port, database_url_problem
    from .reference import create_app, create_schema, settings_from_env

    if log_level.lower() not in _LOG_LEVELS:
        raise InvalidArgument(f"--log-level is one of {', '.join(_LOG_LEVELS)}, not {log_level!r}")
    env = dict(os.environ)
    if database_url:
        env["PAYHARNESS_DATABASE_URL"] = database_url
    with tempfile.TemporaryDirectory(prefix="payharness-reference-") as scratch:
        kept = bool(env.get("PAYHARNESS_DATABASE_URL"))
        if not kept:
            env["PAYHARNESS_DATABASE_URL"] = (
                f"sqlite+aiosqlite:///{Path(scratch) / 'reference.sqlite3'}"
            )
        problem = database_url_problem(env["PAYHARNESS_DATABASE_URL"])
        if problem:
            raise InvalidArgument(problem)
        try:
            settings = settings_from_env(env)
        except ValueError as exc:
            _fail(exc)
            return
        check_database(settings.database_url)
        check_port(host, port)
        where = (
            redact_url(settings.database_url) if kept else f"{settings.database_url} (temporary)"
        )
        console.print(
            f"reference payments service on http://{host}:{port} "
            f"(live={settings.payments_live}, db={where})"
        )
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level.lower())
            return
        # each worker builds its app from the environment it inherits; the schema is created once here,
        # before they start, so that no two processes race to create one SQLite file's tables
        asyncio.run(create_schema(settings.database_url))
        os.environ.update(env)
        uvicorn.run(
            "harness.cli:reference_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level=log_level.lower(),
        )


def reference_app() -> Any:
    """The app of one `payharness reference --workers N` worker, from the environment the command set."""
    from .reference import create_app, settings_from_env

    return create_app(settings_from_env(os.environ))


@app.command(
    epilog="Example: payharness fakes --webhook-target http://127.0.0.1:8000 --env-file fakes.env "
    "(a service of its own shape: add --profile its-profile.toml)"
)
def fakes(
    host: str = typer.Option("127.0.0.1", metavar="HOST", help="Loopback interface to listen on."),
    stripe_port: int = typer.Option(
        0, metavar="PORT", help="Port of the fake Stripe (0: any free port).", min=0, max=65535
    ),
    cdp_port: int = typer.Option(
        0,
        metavar="PORT",
        help="Port of the fake CDP x402 facilitator (0: any free port).",
        min=0,
        max=65535,
    ),
    xendit_port: int = typer.Option(
        0, metavar="PORT", help="Port of the fake Xendit (0: any free port).", min=0, max=65535
    ),
    webhook_target: str | None = typer.Option(
        None,
        metavar="URL",
        help="Base URL of your payments service; webhooks go to /v1/payments/webhook/{rail}.",
    ),
    webhook_url: list[str] = typer.Option(
        [],
        "--webhook-url",
        metavar="RAIL=URL",
        help="One rail's full webhook URL, for a service whose webhook paths are its own "
        "(repeatable; wins over --webhook-target and --profile for that rail).",
    ),
    profile: str | None = typer.Option(
        None,
        metavar="FILE",
        help="The service's profile (TOML): webhooks go to its [gate.webhooks] paths on "
        "--webhook-target, for the rails it names.",
    ),
    env_file: str = typer.Option(
        None,
        metavar="FILE",
        help="Also write the environment lines to this file (for `set -a; . FILE`), once complete.",
    ),
) -> None:
    """Start fake Stripe, CDP (x402) and Xendit on loopback and print the settings a service needs.

    ADMIN_SECRET is among them (a new one per run unless it is set): give the same environment to the
    service and to `payharness gate`."""
    import secrets
    import signal
    import threading

    from fakes.cdp import CdpConfig
    from fakes.stack import FakeStack, StackConfig
    from fakes.stripe import StripeConfig
    from fakes.xendit import XenditConfig

    from .target import new_admin_secret

    if host not in ("127.0.0.1", "localhost", "::1"):
        _fail(ValueError(f"fakes listen on loopback only, not {host!r}"))
    if env_file:
        _writable_file(env_file, "--env-file")
    per_rail: dict[str, str] = {}
    for item in webhook_url:
        rail, sep, url = item.partition("=")
        if (
            not sep
            or rail not in ("stripe", "cdp", "xendit")
            or not url.startswith(("http://", "https://"))
        ):
            _fail(
                ValueError(
                    f"--webhook-url wants RAIL=URL with RAIL stripe, cdp or xendit, not {item!r}"
                )
            )
        per_rail[rail] = url
    if profile:
        from .gate.profiled import profile_webhook_urls

        try:
            per_rail = {**profile_webhook_urls(profile, webhook_target), **per_rail}
        except HarnessError as exc:
            _fail(exc)
        webhook_target = None  # a rail the profile does not name has no webhook path on the service
    # ids never repeat across runs (as a processor's do not): a service restarted on a kept database
    # must not meet yesterday's object ids for new objects
    run = secrets.token_hex(8)
    stack = FakeStack(
        StackConfig(
            host=host,
            stripe_port=stripe_port,
            cdp_port=cdp_port,
            xendit_port=xendit_port,
            webhook_target=webhook_target,
            webhook_urls=per_rail,
            stripe=StripeConfig(seed=int(run, 16)),
            xendit=XenditConfig(seed=f"payharness-xendit-{run}"),
            cdp=CdpConfig(seed=f"payharness-cdp-{run}"),
        )
    )
    try:
        stack.start()
    except OSError as exc:
        _fail(ValueError(f"could not start the fakes: {os_error(exc)}: pick other ports"))
    out = Console()
    settings = {**stack.env(), "ADMIN_SECRET": os.environ.get("ADMIN_SECRET") or new_admin_secret()}
    lines = [f"export {name}={value}" for name, value in settings.items()]
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True, markup=False)
    if env_file:
        # whole or absent: a reader polling `[ -s FILE ]` never sees half of it
        partial = Path(f"{env_file}.partial")
        partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
        partial.replace(env_file)
    for address, key, balance in stack.test_wallets():
        out.print(
            f"# x402 test wallet {address} key {key} balance {balance} atomic USDC",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    target = ", ".join(f"{r}={u}" for r, u in stack.webhook_urls(webhook_target).items()) or (
        "(none: pass --webhook-target URL or --webhook-url RAIL=URL to receive webhooks)"
    )
    console.print(f"fakes running; webhooks to {target}; Ctrl-C stops them")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        if env_file:  # the settings die with the fakes: a later reader must not find stale URLs
            Path(env_file).unlink(missing_ok=True)


@app.command(epilog="Example: payharness probe --target http://127.0.0.1:8000 --once")
def probe(
    target: str = typer.Option(
        None, help="Base URL of the payments service (default PAYMENT_PROBE_BASE_URL, else :8000)."
    ),
    profile: str = typer.Option(
        "reference", help="A shipped profile (reference, razorpay-subscriptions) or a .toml file."
    ),
    once: bool = typer.Option(
        False, "--once", help="One run: print a table; exit 1 if a leg failed."
    ),
    interval: float = typer.Option(None, help="Daemon: one run every SECONDS, serving /metrics."),
    metrics_port: int = typer.Option(
        9469, metavar="PORT", help="The daemon's /metrics port.", min=0, max=65535
    ),
    metrics_host: str = typer.Option("127.0.0.1", help="The daemon's /metrics interface."),
    pushgateway: str = typer.Option(None, help="With --once: push the run's metrics here."),
    audit_path: str = typer.Option(
        "reports/payment-probe-audit.jsonl", help="JSONL audit trail of failed and degraded legs."
    ),
    no_audit: bool = typer.Option(False, "--no-audit", help="Write no audit trail."),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="Print what the profile needs (variables, routes, test-cohort API) and exit.",
    ),
) -> None:
    """Run the synthetic money legs against a service (once, as a daemon, or pushed to a Pushgateway).

    Environment the shipped profiles read (secrets only from the environment, never from flags):
    reference: STRIPE_WEBHOOK_SECRET (upgrade leg), optional PAYMENT_PROBE_TOKEN,
    PAYMENT_PROBE_ACCOUNT_ID, PAYMENT_PROBE_GUARD_ACCOUNT_ID.
    razorpay-subscriptions: PAYMENT_PROBE_TOKEN, RAZORPAY_TEST_WEBHOOK_SECRET (or
    E2E_RAZORPAY_WEBHOOK_SECRET), PAYMENT_PROBE_TEST_PLAN_ID_PRO, optional PAYMENT_PROBE_GUARD_TEAM_ID.
    Both: PAYMENT_PROBE_BASE_URL, PAYMENT_PROBE_ENABLED (0/false/no/off: inert).

    The target must also offer a test-cohort API (mint, read, guarded delete): see
    `payharness probe --profile NAME --explain` for a profile's full checklist.

    Exit 0: no leg failed; 1: a leg failed (SECURITY included) or a test account leaked;
    2: misconfigured (the reason names the variable to set) or could not run.

    Example: payharness probe --profile razorpay-subscriptions --target https://staging.example --once
    """
    from .preflight import check_port
    from .prober.command import probe_command

    if interval is not None:
        check_port(metrics_host, metrics_port)
    if not no_audit:
        _writable_dir(Path(audit_path).parent, "--audit-path")

    code = probe_command(
        target=target,
        profile=profile,
        once=once,
        interval=interval,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        pushgateway=pushgateway,
        audit_path=None if no_audit else Path(audit_path),
        env=dict(os.environ),
        explain=explain,
    )
    raise typer.Exit(code)


@app.command(
    epilog="Examples: payharness gate  |  payharness gate --target http://127.0.0.1:8000 "
    "--wait-for-target 30  |  payharness gate --self-test"
)
def gate(
    target: str = typer.Option(
        None,
        "--target",
        metavar="URL",
        help="Payments service URL (default: the in-process reference service).",
    ),
    suite: list[str] = typer.Option(
        [], "--suite", metavar="NAME", help="A suite to run (repeatable; default: all)."
    ),
    report_dir: str = typer.Option(
        "reports", "--report-dir", metavar="DIR", help="Where <timestamp>-gate/ is written."
    ),
    examples: int = typer.Option(
        None,
        "--examples",
        metavar="N",
        help="Generated examples per API operation (gate 10, self-test 3).",
    ),
    seed: int = typer.Option(
        None, "--seed", metavar="N", help="Generation seed (replays a failure)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        metavar="N",
        help="Spread the suites over N processes (default: one per core, up to 2, on the in-process "
        "reference; 1 with --target).",
        show_default=False,
    ),
    wait_for_target: float = typer.Option(
        30.0,
        "--wait-for-target",
        metavar="SECONDS",
        help="With --target: wait this long for the service to answer before giving up (0: no wait).",
    ),
    expect: str = typer.Option(
        None,
        "--expect",
        metavar="live|dormant",
        help="Fail unless /v1/payments/status says this (default: take what it says, shown in the "
        "header; a dormant service gets the dormant checks, live-only ones are not applicable).",
    ),
    allow_skips: bool = typer.Option(
        False,
        "--allow-skips",
        help="Exit 0 although some selected tests did not run (the verdict still lists them).",
    ),
    depth: int = typer.Option(
        None,
        "--depth",
        metavar="N",
        help="Most steps per generated sequence of the stateful suite (default 20).",
    ),
    self_test: bool = typer.Option(
        False,
        "--self-test",
        help="Run the suites against defective variants of the reference and print the catch matrix.",
    ),
    variant: list[str] = typer.Option(
        [],
        "--variant",
        metavar="NAME",
        help="With --self-test: a variant to build (repeatable; default: all; the clean one always).",
    ),
    quick: bool = typer.Option(
        False,
        "--quick",
        help="With --self-test: each variant only against the suites declared to catch it, until its "
        "second catch (the clean one against all).",
    ),
    profile: str = typer.Option(
        None,
        "--profile",
        metavar="NAME|FILE",
        help="The service's profile (TOML); one with a [gate] table reaches a service of its own shape "
        "through the contract adapter (default: the reference's contract, spoken directly).",
    ),
) -> None:
    """Run the gate suites against a payments service; exit 0 only when every selected test passed.

    Exit 1 a test failed, 2 the gate could not run, 3 incomplete (tests not run; --allow-skips accepts
    that). ADMIN_SECRET in the environment is the admin secret the service was started with
    (`payharness fakes` prints one)."""
    try:
        if self_test:
            if target:
                raise InvalidArgument("--self-test builds its own variants; it takes no --target")
            from .selftest.command import selftest_command

            code = selftest_command(
                report_dir=Path(report_dir),
                examples=examples,
                seed=seed,
                env=dict(os.environ),
                suites=suite,
                variants=variant,
                workers=workers,
                quick=quick,
            )
            raise typer.Exit(code)
        if variant or quick:
            raise InvalidArgument("--variant and --quick choose self-test builds; add --self-test")
        from .gate import gate_command

        code = gate_command(
            target=target,
            suites=suite,
            report_dir=Path(report_dir),
            examples=10 if examples is None else examples,
            seed=seed,
            workers=workers,
            env=dict(os.environ),
            wait_seconds=wait_for_target,
            expect=expect,
            allow_skips=allow_skips,
            depth=depth,
            profile=profile,
        )
    except (HarnessError, ValueError) as exc:
        _fail(exc)
        return
    raise typer.Exit(code)


profile_app = typer.Typer(
    help="Service profiles: how the gate and the prober reach a service of its own shape.",
    no_args_is_help=True,
)
app.add_typer(profile_app, name="profile")


@profile_app.command(
    "check",
    epilog="Example: payharness profile check examples/acme_billing/profile.toml --target http://127.0.0.1:8100",
)
def profile_check(
    profile: str = typer.Argument(..., help="The profile (a shipped name or a .toml file)."),
    target: str = typer.Option(..., "--target", metavar="URL", help="The running service."),
) -> None:
    """Send each operation the profile maps to the service and read its answer as the gate would
    (0 every route answers in the shape the profile says, 1 something does not, 2 could not run)."""
    from .adapter.check import check_profile
    from .adapter.starter import refuse_gaps
    from .prober import load_profile

    try:
        refuse_gaps(profile)
        spec = load_profile(profile).gate
        if spec is None:
            raise InvalidArgument(
                f"{profile} has no [gate] table: the gate talks to that service as the contract says"
            )
        lines = check_profile(spec, target, dict(os.environ))
    except (HarnessError, ValueError) as exc:
        _fail(exc)
        return
    except httpx.HTTPError as exc:
        _fail(TargetUnreachable(f"{target} does not answer: {exc.__class__.__name__}"))
        return
    for line in lines:
        console.print(escape(line.text), soft_wrap=True, highlight=False)
    failed = sum(not line.ok for line in lines)
    console.print(f"{failed} problem(s)" if failed else "the profile matches the service")
    raise typer.Exit(1 if failed else 0)


@app.command(
    "init",
    epilog="Example: payharness init --openapi http://127.0.0.1:8100/openapi.json --out my.toml",
)
def init(
    openapi: str = typer.Option(
        ..., "--openapi", metavar="URL|FILE", help="The service's OpenAPI document."
    ),
    out: str = typer.Option("profile.toml", "--out", metavar="FILE", help="Where to write it."),
    name: str = typer.Option("my-service", "--name", help="The profile's name."),
) -> None:
    """Write a starter profile guessed from an OpenAPI document; every `GAP:` value is left for you
    (the profile loads only once none is left), then `payharness profile check` tries it."""
    from .adapter.starter import read_openapi, starter_profile

    try:
        text = starter_profile(read_openapi(openapi), name=name)
        if Path(out).exists():
            raise InvalidArgument(f"{out} exists already: pass another --out")
        Path(out).write_text(text, encoding="utf-8")
    except (HarnessError, ValueError) as exc:
        _fail(exc)
        return
    gaps = text.count("GAP: ")
    console.print(f"wrote {out}: {gaps} gap(s) to fill in (search for GAP:)")


contract_app = typer.Typer(
    help="The pinned payments contract: exact match and breaking changes.", no_args_is_help=True
)
app.add_typer(contract_app, name="contract")


@contract_app.command(
    "check", epilog="Example: payharness contract check --target http://127.0.0.1:8000"
)
def contract_check(
    target: str = typer.Option(
        None,
        "--target",
        metavar="URL",
        help="Payments service URL (default: the in-process reference service).",
    ),
) -> None:
    """Compare the served /openapi.json with the pinned contract (0 match, 1 differs, 2 could not run)."""
    from .gate import contract_check_command

    raise typer.Exit(contract_check_command(target, dict(os.environ)))


@contract_app.command(
    "diff", epilog="Example: payharness contract diff contracts/payments.openapi.json new.json"
)
def contract_diff(
    old: str = typer.Argument(..., help="The contract clients were written against."),
    new: str = typer.Argument(..., help="The proposed contract."),
) -> None:
    """Classify the changes from OLD to NEW (0 nothing breaks, 1 something breaks, 2 could not run)."""
    from pathlib import Path

    from .gate import contract_diff_command

    raise typer.Exit(contract_diff_command(Path(old), Path(new)))


@app.command(
    epilog="Example: payharness replay recorded.jsonl --target http://127.0.0.1:8000 "
    "--secrets-file secrets.env --order shuffled --duplicate 1"
)
def replay(
    files: list[str] = typer.Argument(
        ..., help="Recordings (JSONL, Stripe event exports, HAR, ...)."
    ),
    target: str = typer.Option(..., "--target", help="Base URL of the payments service."),
    order: str = typer.Option("recorded", help="recorded | shuffled | reversed (seeded)."),
    seed: int = typer.Option(
        None, help="Seed for --order shuffled (printed, so a run can be replayed)."
    ),
    duplicate: int = typer.Option(0, help="Send every event N extra times."),
    concurrency: int = typer.Option(1, help="Deliveries in flight at once."),
    rate: float = typer.Option(None, help="At most this many deliveries per second."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Parse, re-sign and report; send nothing."
    ),
    yes_non_loopback: bool = typer.Option(
        False, "--yes-non-loopback", help="Confirm a target that is not on this machine."
    ),
    secrets_file: str = typer.Option(
        None, help="NAME=value lines (STRIPE_WEBHOOK_SECRET, ...); secrets never come from argv."
    ),
    report_dir: str = typer.Option("reports", help="Where <timestamp>-replay/ is written."),
    account: list[str] = typer.Option(
        [], help="Account ids whose ledger the exactly-once check reads."
    ),
    source_format: str = typer.Option(
        None, "--format", help="Force an importer (default: sniffed)."
    ),
    passes: int = typer.Option(
        2, help="Replay passes; every pass after the first must change nothing."
    ),
) -> None:
    """Re-sign recorded processor webhooks under the target's test secret and replay them, exactly once."""
    from .replay.command import replay_command

    if not dry_run:
        _writable_dir(report_dir, "--report-dir")  # before anything is sent

    code = replay_command(
        files=files,
        target=target,
        order=order,
        seed=seed,
        duplicate=duplicate,
        concurrency=concurrency,
        rate=rate,
        dry_run=dry_run,
        confirm_non_loopback=yes_non_loopback,
        secrets_file=secrets_file,
        report_dir=report_dir,
        env=dict(os.environ),
        interactive=sys.stdin.isatty(),
        accounts=account,
        source_format=source_format,
        passes=passes,
    )
    raise typer.Exit(code)


@app.command(
    epilog="Example: payharness record --listen 127.0.0.1:8765 "
    "--forward-to http://127.0.0.1:8000/v1/payments/webhook/stripe --out deliveries.jsonl"
)
def record(
    listen: str = typer.Option("127.0.0.1:8765", help="HOST:PORT to receive webhooks on."),
    forward_to: str = typer.Option(..., help="Where each webhook is forwarded, unchanged."),
    out: str = typer.Option(..., help="JSONL file the deliveries are appended to."),
    mask_header: list[str] = typer.Option(
        [], help="A header to mask in the recording (repeatable)."
    ),
) -> None:
    """Record inbound webhooks byte for byte and forward them (e.g. behind `stripe listen`)."""
    from .replay.command import record_command

    _writable_file(out, "--out")

    raise typer.Exit(
        record_command(listen=listen, forward_to=forward_to, out=out, mask_headers=mask_header)
    )


@app.command(epilog="Example: payharness bench fakes webhooks --quick --report-dir reports")
def bench(
    which: list[str] = typer.Argument(
        None, help="fakes, webhooks, gate, replay, memory (default: all)."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="Smoke check: tiny loads, numbers not meaningful."
    ),
    report_dir: str = typer.Option(
        None, "--report-dir", help="Where <timestamp>-bench/ goes (default: reports)."
    ),
) -> None:
    """Benchmark the fakes, the webhook path, the gate, the replayer and memory against limits and peers."""
    from .bench import bench_command

    _writable_dir(report_dir or "reports", "--report-dir")
    raise typer.Exit(
        bench_command(which=which or [], quick=quick, report_dir=report_dir, env=dict(os.environ))
    )


@app.command(
    epilog="Example: payharness trigger stripe invoice.paid   (after: set -a; . ./fakes.env; set +a)"
)
def trigger(
    rail: str = typer.Argument(None, help="stripe, xendit or cdp."),
    event_type: str = typer.Argument(None, help="The event to emit, e.g. invoice.paid."),
    list_only: bool = typer.Option(False, "--list", help="List what each rail can trigger."),
    url: str = typer.Option(
        None, "--url", help="The fake's base URL (default: from the environment)."
    ),
) -> None:
    """Make a running fake emit EVENT_TYPE, building the objects it needs (like `stripe trigger`)."""
    from .fakes_cli import trigger_command

    raise typer.Exit(
        trigger_command(rail, event_type, list_only=list_only, url=url, env=dict(os.environ))
    )


@app.command(epilog="Example: payharness resend evt_1Nq...   (an id `payharness trigger` printed)")
def resend(
    event_id: str = typer.Argument(..., help="An event id `payharness trigger` printed."),
    rail: str = typer.Option(
        None, "--rail", help="stripe, xendit or cdp (default: ask each fake)."
    ),
    url: str = typer.Option(
        None, "--url", help="The fake's base URL (default: from the environment)."
    ),
    webhook_endpoint: str = typer.Option(None, "--webhook-endpoint", help="Only this endpoint id."),
) -> None:
    """Deliver one sent event again, re-signed (like `stripe events resend`)."""
    from .fakes_cli import resend_command

    raise typer.Exit(
        resend_command(
            event_id, rail=rail, url=url, endpoint_id=webhook_endpoint, env=dict(os.environ)
        )
    )


def _plain_help() -> None:
    """Help shows a word (or nothing, for a flag or an argument) where typer shows `<list[str]>`-style tags."""

    def option_type(self: typer.core.TyperOption, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar or None
        return None if self.is_flag else (self.name or "value").upper()

    typer.core.TyperOption.display_type_rich = option_type  # type: ignore[method-assign]
    typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]


_plain_help()


def _error_line(code: str, message: str) -> None:
    console.print(
        f"[red]error[/red] {escape(f'[{code}]')} {escape(redact_text(message))}", soft_wrap=True
    )


def main() -> None:
    """Console-script entry point: every error a user can cause is one line and exit 2."""
    command = typer.main.get_command(app)
    try:
        result: Any = command.main(args=sys.argv[1:], prog_name="payharness", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "payharness --help")
        sys.exit(2)
    except click.ClickException as exc:
        where = getattr(getattr(exc, "ctx", None), "command_path", "payharness")
        _error_line("usage", f"{exc.format_message()} (see `{where} --help`)")
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    except (HarnessError, OSError) as exc:
        if _DEBUG["on"]:
            raise
        if isinstance(exc, HarnessError):
            _error_line(exc.code, str(exc))
        else:
            _error_line(errno.errorcode.get(exc.errno or 0, "os_error").lower(), os_error(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if _DEBUG["on"]:
            raise
        _error_line(
            "internal_error",
            f"{exc.__class__.__name__}: {exc} (a payharness bug: `payharness --debug ...` shows the "
            "traceback to report)",
        )
        sys.exit(2)
    sys.exit(result if isinstance(result, int) else 0)
