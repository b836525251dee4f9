"""`payharness probe`: the synthetic money heartbeat against a deployed payments service.

Five multi-step legs (checkout_reachable, billing_state, invoices_reachable, webhook_security,
upgrade_webhook_e2e) run in order against a target described by a profile; results are pass, fail,
degraded or misconfigured (outcome kinds add security and dormant), with one dormancy verdict per run
(live, dormant, half switched off); outcomes go to the prober's own Prometheus registry and failures to
a JSONL audit trail. `explain_profile` prints what a profile needs.
Modelled on PRIOR_ART.md §3. Black-box: nothing here imports `harness.reference`.

    prober = Prober(ProbeConfig(target="http://127.0.0.1:8000", profile=load_profile("reference")))
    report = await prober.run_once()
"""

from __future__ import annotations

from .audit import AuditTrail
from .command import probe_command
from .config import ProbeConfig, ProbeSecrets, parse_enabled_flag, secrets_from_env
from .context import Leg, LegContext
from .daemon import DaemonConfig, MetricsServer, push_metrics, run_daemon
from .errors import (
    InvalidEnabledFlag,
    InvalidTarget,
    ProbeError,
    ProfileError,
    PushFailed,
    UnknownProfile,
)
from .explain import explain_profile
from .metrics import METRIC_NAMES, ProbeMetrics
from .profile import Profile, load_profile, shipped_profiles
from .results import LEG_NAMES, OUTCOMES, LegOutcome, LegResult, Outcome, Result, RunReport
from .runner import DEFAULT_LEGS, Prober
from .table import render_table

__all__ = [
    "DEFAULT_LEGS",
    "LEG_NAMES",
    "METRIC_NAMES",
    "OUTCOMES",
    "AuditTrail",
    "DaemonConfig",
    "InvalidEnabledFlag",
    "InvalidTarget",
    "Leg",
    "LegContext",
    "LegOutcome",
    "LegResult",
    "MetricsServer",
    "Outcome",
    "ProbeConfig",
    "ProbeError",
    "ProbeMetrics",
    "ProbeSecrets",
    "Prober",
    "Profile",
    "ProfileError",
    "PushFailed",
    "Result",
    "RunReport",
    "UnknownProfile",
    "explain_profile",
    "load_profile",
    "parse_enabled_flag",
    "probe_command",
    "push_metrics",
    "render_table",
    "run_daemon",
    "secrets_from_env",
    "shipped_profiles",
]
