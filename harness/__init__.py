"""payharness: contract tests, synthetic probes and webhook replay for payment rails."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
