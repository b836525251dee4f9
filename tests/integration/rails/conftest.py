"""Fixtures of the rail tests (see rails_support.py)."""

from __future__ import annotations

from rails_support import stack

__all__ = ["stack"]
