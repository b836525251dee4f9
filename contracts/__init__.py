"""Pinned contracts shipped with payharness (data files; see README in this folder)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["contract_path"]


def contract_path(name: str) -> Path:
    """Return the filesystem path of a contract file shipped in this package."""
    return Path(str(resources.files(__name__).joinpath(name)))
