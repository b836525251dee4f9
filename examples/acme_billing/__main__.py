"""`python -m examples.acme_billing [--host H] [--port P]`: serve Acme billing with uvicorn."""

from __future__ import annotations

import argparse
import os

import uvicorn

from .app import create_app, settings_from_env


def main() -> None:
    """Read the environment, then serve."""
    parser = argparse.ArgumentParser(prog="python -m examples.acme_billing")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    settings = settings_from_env(dict(os.environ))
    print(
        f"acme billing on http://{args.host}:{args.port} (billing_enabled={settings.billing_enabled}, "
        f"defects={sorted(settings.defects) or 'none'})",
        flush=True,
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
