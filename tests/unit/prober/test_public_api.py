"""The prober's public names are pinned: removing or renaming one is a visible decision."""

from __future__ import annotations

import harness.prober
from harness.prober import command


def test_the_public_api_is_pinned() -> None:
    assert sorted(harness.prober.__all__) == sorted(
        [
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
    )
    for name in harness.prober.__all__:
        assert getattr(harness.prober, name) is not None


def test_the_command_keeps_the_signature_the_cli_wires() -> None:
    import inspect

    params = inspect.signature(command.probe_command).parameters
    for name in (
        "target",
        "profile",
        "once",
        "interval",
        "metrics_port",
        "pushgateway",
        "audit_path",
        "env",
    ):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
    assert "env" in params and params["env"].default is inspect.Parameter.empty


def test_the_prober_never_imports_the_reference_service() -> None:
    # Black-box (DESIGN.md): the prober reaches a service over HTTP only.
    import ast
    from pathlib import Path

    folder = Path(harness.prober.__file__).parent
    for source in folder.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert "reference" not in module, f"{source.name} imports {module}"
            elif isinstance(node, ast.Import):
                assert not any("harness.reference" in a.name for a in node.names), source.name
