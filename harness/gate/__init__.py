"""The CI gate and the contract commands, as functions the CLI calls (they return exit codes).

* :func:`gate_command`: the selected suites through pytest, live progress, `reports/<timestamp>-gate/`.
* :func:`contract_check_command`: the served contract against the pinned one (0 / 1 / 2).
* :func:`contract_diff_command`: breaking or non-breaking changes between two contract files.
"""

from __future__ import annotations

from .command import gate_command
from .contract import contract_check_command, contract_diff_command

__all__ = ["contract_check_command", "contract_diff_command", "gate_command"]
