"""The `payharness` command: the only place that reads argv and the environment."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from .errors import HarnessError

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
    console.print(f"[red]error[/red] [{code}] {exc}")
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


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except HarnessError as exc:
        console.print(f"[red]error[/red] [{exc.code}] {exc}")
        sys.exit(2)
