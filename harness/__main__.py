"""`python -m harness` runs the `payharness` command."""

from __future__ import annotations

from .cli import main

main()
