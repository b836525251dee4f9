"""`payharness replay` and `payharness record` as plain functions; ``harness/cli.py`` wires them to typer.

Both receive everything explicitly: the environment arrives as a mapping (secrets are read from it or
from a secrets file, never from argv), and nothing here reads ``os.environ`` or ``sys.argv``.

Exit codes of `replay_command`: 0 when every event took effect at most once, later passes changed
nothing, no input was skipped and the input holds no anomaly; 1 when the report lists a mismatch, a
skipped line or an input anomaly; 2 when the target's answers could not be judged (not JSON: the
target is not a payments service, e.g. an HTML page), said in one line. A replay that cannot run at
all raises a `harness.errors.HarnessError` with a stable ``code`` (the CLI prints it and
exits 2), for instance ``non_loopback_target_unconfirmed`` or ``missing_webhook_secret``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from harness.redaction import redact_url
from harness.replay.errors import ListenNotLoopback, NonLoopbackTargetRefused
from harness.replay.importers import ImportOptions, load_files
from harness.replay.plan import Order
from harness.replay.rails import DEFAULT_WEBHOOK_PATH
from harness.replay.recorder import Recorder, RecorderConfig
from harness.replay.replayer import ReplayConfig
from harness.replay.report import not_json_line, report_folder, write_report
from harness.replay.runner import ReplayRun, run_replay
from harness.replay.webhook_secrets import WebhookSecrets, signers_for

__all__ = [
    "is_loopback_url",
    "parse_listen",
    "record_command",
    "replay_command",
    "replay_command_async",
]


def _is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (127.0.0.0/8, ::1 or localhost)."""
    return _is_loopback_host(urlsplit(url).hostname or "")


def _ask(console: Console) -> Callable[[str], bool]:
    def ask(question: str) -> bool:
        from rich.prompt import Confirm

        return bool(Confirm.ask(question, console=console, default=False))

    return ask


def _confirm_target(
    target: str,
    *,
    confirmed: bool,
    interactive: bool,
    confirm: Callable[[str], bool],
) -> None:
    if confirmed or is_loopback_url(target):
        return
    shown = redact_url(target)
    # Replaying real deliveries into a remote service moves its state: never by accident.
    if not interactive:
        raise NonLoopbackTargetRefused(
            f"{shown} is not on this machine; pass the confirmation flag (--yes-non-loopback) "
            "to replay into it from a non-interactive run"
        )
    if not confirm(
        f"Replay the recorded deliveries into {shown}? It changes that service's state."
    ):
        raise NonLoopbackTargetRefused(f"replay into {shown} was not confirmed")


async def replay_command_async(
    *,
    files: Sequence[str | Path],
    target: str,
    order: str = "recorded",
    seed: int | None = None,
    duplicate: int = 0,
    concurrency: int = 1,
    rate: float | None = None,
    dry_run: bool = False,
    confirm_non_loopback: bool = False,
    secrets_file: str | Path | None = None,
    report_dir: str | Path = "reports",
    env: Mapping[str, str],
    interactive: bool,
    accounts: Sequence[str] = (),
    source_format: str | None = None,
    webhook_path: str = DEFAULT_WEBHOOK_PATH,
    passes: int = 2,
    console: Console | None = None,
    confirm: Callable[[str], bool] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], float] = time.time,
) -> int:
    """`replay_command` for callers already inside an event loop (tests, other async tools)."""
    console = console or Console(stderr=True)
    chosen = Order.parse(order)
    if chosen is Order.SHUFFLED and seed is None:
        seed = random.SystemRandom().randrange(2**32)  # printed and reported, so it can be reused
    config = ReplayConfig(
        target=target,
        order=chosen,
        seed=seed,
        duplicate=duplicate,
        concurrency=concurrency,
        rate_per_second=rate,
        dry_run=dry_run,
        passes=1 if dry_run else passes,
        webhook_path=webhook_path,
        accounts=tuple(accounts),
        now=now,
    )
    if not dry_run:  # before reading anything: a refused run does no work
        _confirm_target(
            target,
            confirmed=confirm_non_loopback,
            interactive=interactive,
            confirm=confirm or _ask(console),
        )
    loaded = load_files(files, format=source_format, options=ImportOptions(now=now))
    deliveries = loaded.deliveries
    secrets = WebhookSecrets.from_sources(env, secrets_file)
    if not dry_run:
        secrets.require(d.rail for d in deliveries)
    for problem in loaded.problems:
        # File names and parser messages are data, not rich markup.
        console.print(
            f"[yellow]skipped[/yellow] {escape(problem.where)} "
            f"{escape(f'[{problem.code}]')} {escape(problem.message)}"
        )
    total = len(deliveries) * (duplicate + 1) * config.passes
    progress = Progress(
        TextColumn("replay"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    async with httpx.AsyncClient(transport=transport, timeout=config.timeout_seconds) as client:
        with progress:
            task = progress.add_task("replay", total=total)
            run = await run_replay(
                deliveries,
                config,
                signers=signers_for(secrets, now),
                client=client,
                problems=loaded.problems,
                on_result=lambda _: progress.advance(task),
            )
    folder = report_folder(report_dir, now())
    summary = write_report(run, folder)
    unjudged = not_json_line(run)
    if unjudged:
        console.print(
            f"[red]{escape(unjudged)}[/red]; report: {escape(str(summary))}", soft_wrap=True
        )
        return 2
    _print_outcome(console, run, summary)
    return 0 if run.ok else 1


#: Non-applied sends of pass 1 listed one per line in the console; all of them are in the report.
CONSOLE_EVENT_LINES = 20


def _print_reasons(console: Console, run: ReplayRun) -> None:
    first = [r for r in (run.passes[0] if run.passes else ()) if r.outcome.value != "applied"]
    for r in first[:CONSOLE_EVENT_LINES]:
        if r.sent:
            why = r.reason or "(no reason given by the target)"
            word = r.status or r.outcome.value  # `not_credited` says more than `ignored`
            console.print(escape(f"  {word} {r.rail} {r.event_id}: {why}"), soft_wrap=True)
    if len(first) > CONSOLE_EVENT_LINES:
        console.print(f"  ... {len(first) - CONSOLE_EVENT_LINES} more in the report")
    reasons = run.reasons()
    if reasons:
        console.print("why events changed nothing (all passes):")
    for group in reasons:
        examples = ", ".join(group.examples)
        console.print(
            escape(f"  {group.outcome} {group.code}: {group.count} send(s), e.g. {examples}"),
            soft_wrap=True,
        )


def _print_outcome(console: Console, run: ReplayRun, summary: Path) -> None:
    if run.config.seed is not None and run.config.order is Order.SHUFFLED:
        console.print(f"shuffled with seed {run.config.seed}")
    for anomaly in run.anomalies:
        console.print(
            f"[yellow]warning[/yellow] {escape(f'[{anomaly.code}]')} {escape(anomaly.message)}",
            soft_wrap=True,
        )
    for pass_summary in run.summaries():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(pass_summary.outcomes.items()))
        console.print(f"pass {pass_summary.pass_number}: {pass_summary.sends} sends ({counts})")
    _print_reasons(console, run)
    for note in run.notes:
        console.print(f"note: {escape(note)}")
    mismatches = run.mismatches()
    if run.ok and not run.config.dry_run:
        verdict = "[green]exactly once[/green]"
    else:
        parts = [f"{len(mismatches)} mismatch(es)", f"{len(run.problems)} skipped line(s)"]
        parts.append(f"{len(run.anomalies)} input anomaly(ies)")
        if run.config.dry_run:
            verdict = "[cyan]dry run[/cyan]" + (f" ({', '.join(parts[1:])})" if not run.ok else "")
        else:
            verdict = f"[red]{', '.join(parts)}[/red]"
    console.print(f"{verdict}; report: {escape(str(summary))}")


def replay_command(
    *,
    files: Sequence[str | Path],
    target: str,
    order: str = "recorded",
    seed: int | None = None,
    duplicate: int = 0,
    concurrency: int = 1,
    rate: float | None = None,
    dry_run: bool = False,
    confirm_non_loopback: bool = False,
    secrets_file: str | Path | None = None,
    report_dir: str | Path = "reports",
    env: Mapping[str, str],
    interactive: bool,
    accounts: Sequence[str] = (),
    source_format: str | None = None,
    webhook_path: str = DEFAULT_WEBHOOK_PATH,
    passes: int = 2,
    console: Console | None = None,
    confirm: Callable[[str], bool] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], float] = time.time,
) -> int:
    """Replay recorded webhooks ``files`` into ``target``, re-signed, and write the report.

    ``accounts`` are read for the exactly-once state check (with those in the recordings'
    ``meta.account_ids`` and any ``account_id`` the target answers with); ``source_format`` names an
    importer instead of sniffing; ``passes`` is 2 so the second pass proves nothing changes.
    Returns 0 or 1 (see the module docstring).
    """
    return asyncio.run(
        replay_command_async(
            files=files,
            target=target,
            order=order,
            seed=seed,
            duplicate=duplicate,
            concurrency=concurrency,
            rate=rate,
            dry_run=dry_run,
            confirm_non_loopback=confirm_non_loopback,
            secrets_file=secrets_file,
            report_dir=report_dir,
            env=env,
            interactive=interactive,
            accounts=accounts,
            source_format=source_format,
            webhook_path=webhook_path,
            passes=passes,
            console=console,
            confirm=confirm,
            transport=transport,
            now=now,
        )
    )


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) on a loopback host; `ListenNotLoopback` otherwise."""
    host, sep, port_text = listen.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ListenNotLoopback(f"--listen must be HOST:PORT, got {listen!r}")
    host = host.strip("[]") or "127.0.0.1"
    if not _is_loopback_host(host):
        raise ListenNotLoopback(f"the recorder listens on loopback only, not {host!r}")
    return host, int(port_text)


def _serve(recorder: Recorder, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(recorder, host=host, port=port, log_level="warning", lifespan="on")


def record_command(
    *,
    listen: str,
    forward_to: str,
    out: str | Path,
    mask_headers: Sequence[str] = (),
    console: Console | None = None,
    serve: Callable[[Recorder, str, int], None] = _serve,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """Listen on ``listen``, forward every request to ``forward_to`` unchanged, record it to ``out``.

    Prints one line per delivery (time, rail, event id and type, the service's status); a redirect
    from the service is answered 502 ``forward_redirected`` (see `harness.replay.recorder`). Runs
    until interrupted (Ctrl-C) and returns 0. ``serve`` and ``transport`` exist for tests.
    """
    console = console or Console(stderr=True)
    host, port = parse_listen(listen)
    recorder = Recorder(
        RecorderConfig(
            forward_to=forward_to,
            out=Path(out),
            mask_headers=tuple(mask_headers),
            transport=transport,
            on_delivery=lambda line: console.print(escape(line), highlight=False),
        )
    )
    masked = ", ".join(sorted(recorder.config.masked()))
    console.print(
        escape(
            f"recording webhooks on http://{host}:{port} → {redact_url(forward_to)}; writing {out}"
        )
        + f" (masked: {escape(masked)})"
    )
    serve(recorder, host, port)
    console.print(escape(f"recorded {recorder.recorded} deliveries to {out}"))
    return 0
