"""The `payharness` command: the only place that reads argv and the environment."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from .errors import HarnessError, InvalidArgument

__all__ = ["app", "main"]

app = typer.Typer(
    name="payharness",
    help="Contract tests, synthetic probes and webhook replay for payment rails.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Contract tests, synthetic probes and webhook replay for payment rails."""


def _fail(exc: HarnessError | ValueError) -> None:
    code = getattr(exc, "code", "invalid_argument")
    console.print(f"[red]error[/red] {escape(f'[{code}]')} {escape(str(exc))}")
    raise typer.Exit(2)


@app.command()
def reference(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    database_url: str = typer.Option(
        None,
        "--database-url",
        help="SQLAlchemy async URL (default: PAYHARNESS_DATABASE_URL, else ./payharness-reference.sqlite3).",
    ),
    log_level: str = typer.Option("info", help="uvicorn log level."),
) -> None:
    """Serve the reference payments service (settings from the environment: PAYMENTS_LIVE, rails, ...)."""
    import uvicorn

    from .reference import create_app, settings_from_env

    env = dict(os.environ)
    if database_url:
        env["PAYHARNESS_DATABASE_URL"] = database_url
    try:
        settings = settings_from_env(env)
    except ValueError as exc:
        _fail(exc)
        return
    console.print(
        f"reference payments service on http://{host}:{port} "
        f"(live={settings.payments_live}, db={settings.database_url})"
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


@app.command()
def fakes(
    host: str = typer.Option("127.0.0.1", help="Loopback interface to listen on."),
    stripe_port: int = typer.Option(0, help="Port of the fake Stripe (0: any free port)."),
    cdp_port: int = typer.Option(
        0, help="Port of the fake CDP x402 facilitator (0: any free port)."
    ),
    xendit_port: int = typer.Option(0, help="Port of the fake Xendit (0: any free port)."),
    webhook_target: str = typer.Option(
        None, help="Base URL of your payments service; webhooks go to /v1/payments/webhook/{rail}."
    ),
    env_file: str = typer.Option(
        None, help="Also write the environment lines to this file (for `set -a; . FILE`)."
    ),
) -> None:
    """Start fake Stripe, CDP (x402) and Xendit on loopback and print the settings a service needs."""
    import signal
    import threading

    from fakes.stack import FakeStack, StackConfig

    if host not in ("127.0.0.1", "localhost", "::1"):
        _fail(ValueError(f"fakes listen on loopback only, not {host!r}"))
    stack = FakeStack(
        StackConfig(
            host=host,
            stripe_port=stripe_port,
            cdp_port=cdp_port,
            xendit_port=xendit_port,
            webhook_target=webhook_target,
        )
    )
    try:
        stack.start()
    except OSError as exc:
        _fail(ValueError(f"could not start the fakes: {exc}"))
    out = Console()
    lines = [f"export {name}={value}" for name, value in stack.env().items()]
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True, markup=False)
    if env_file:
        from pathlib import Path

        Path(env_file).write_text("\n".join(lines) + "\n")
    for address, key, balance in stack.test_wallets():
        out.print(
            f"# x402 test wallet {address} key {key} balance {balance} atomic USDC",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    target = webhook_target or "(none: pass --webhook-target URL to receive webhooks)"
    console.print(f"fakes running; webhooks to {target}; Ctrl-C stops them")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


@app.command()
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
    metrics_port: int = typer.Option(9469, help="The daemon's /metrics port."),
    metrics_host: str = typer.Option("127.0.0.1", help="The daemon's /metrics interface."),
    pushgateway: str = typer.Option(None, help="With --once: push the run's metrics here."),
    audit_path: str = typer.Option(
        "reports/payment-probe-audit.jsonl", help="JSONL audit trail of failed and degraded legs."
    ),
    no_audit: bool = typer.Option(False, "--no-audit", help="Write no audit trail."),
) -> None:
    """Run the synthetic money legs against a service (once, as a daemon, or pushed to a Pushgateway)."""
    from pathlib import Path

    from .prober.command import probe_command

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
    )
    raise typer.Exit(code)


@app.command()
def gate(
    target: str = typer.Option(
        None, "--target", help="Payments service URL (default: the in-process reference service)."
    ),
    suite: list[str] = typer.Option(
        [], "--suite", help="A suite to run (repeatable; default: all)."
    ),
    report_dir: str = typer.Option(
        "reports", "--report-dir", help="Where <timestamp>-gate/ is written."
    ),
    examples: int = typer.Option(
        None, "--examples", help="Generated examples per API operation (gate 10, self-test 3)."
    ),
    seed: int = typer.Option(None, "--seed", help="Generation seed (replays a failure)."),
    depth: int = typer.Option(
        None, "--depth", help="Most steps per generated sequence of the stateful suite (20)."
    ),
    workers: int = typer.Option(1, "--workers", help="Spread the suites over N processes."),
    self_test: bool = typer.Option(
        False,
        "--self-test",
        help="Run the suites against defective variants of the reference and print the catch matrix.",
    ),
) -> None:
    """Run the gate suites against a payments service; exit 0 only when everything passed."""
    from pathlib import Path

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
            )
            raise typer.Exit(code)
        from .gate import gate_command

        code = gate_command(
            target=target,
            suites=suite,
            report_dir=Path(report_dir),
            examples=10 if examples is None else examples,
            seed=seed,
            workers=workers,
            env=dict(os.environ),
            depth=depth,
        )
    except (HarnessError, ValueError) as exc:
        _fail(exc)
        return
    raise typer.Exit(code)


contract_app = typer.Typer(
    help="The pinned payments contract: exact match and breaking changes.", no_args_is_help=True
)
app.add_typer(contract_app, name="contract")


@contract_app.command("check")
def contract_check(
    target: str = typer.Option(
        None, "--target", help="Payments service URL (default: the in-process reference service)."
    ),
) -> None:
    """Compare the served /openapi.json with the pinned contract (0 match, 1 differs, 2 could not run)."""
    from .gate import contract_check_command

    raise typer.Exit(contract_check_command(target, dict(os.environ)))


@contract_app.command("diff")
def contract_diff(
    old: str = typer.Argument(..., help="The contract clients were written against."),
    new: str = typer.Argument(..., help="The proposed contract."),
) -> None:
    """Classify the changes from OLD to NEW (0 nothing breaks, 1 something breaks, 2 could not run)."""
    from pathlib import Path

    from .gate import contract_diff_command

    raise typer.Exit(contract_diff_command(Path(old), Path(new)))


@app.command()
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


@app.command()
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

    raise typer.Exit(
        record_command(listen=listen, forward_to=forward_to, out=out, mask_headers=mask_header)
    )


@app.command()
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

    raise typer.Exit(
        bench_command(which=which or [], quick=quick, report_dir=report_dir, env=dict(os.environ))
    )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except HarnessError as exc:
        console.print(f"[red]error[/red] {escape(f'[{exc.code}]')} {escape(str(exc))}")
        sys.exit(2)
