"""The shipped alert rules under `promtool test rules`: each situation fires exactly what on-call expects.

One scenario per situation, each with the series the prober exports for it (harness/prober/metrics.py),
one run every 5 minutes, one sample a minute. At 7 minutes (two runs in) every rule is evaluated and
must fire exactly for the alerts the scenario names, with the labels and annotations it would page with.
The dead-daemon scenario stops exporting at 10 minutes and checks PaymentProbeStale before and after
three intervals. promtool comes from Debian's `prometheus` package (.ci/run installs it); where it is
missing these tests skip with the reason, except in CI, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from harness.prober.results import LEG_NAMES, OUTCOMES

ASSETS = resources.files("harness.prober").joinpath("assets")
JOB = "payment-probe"


def rules() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(ASSETS.joinpath("alerts.yml").read_text(encoding="utf-8"))
    return {r["alert"]: r for g in data["groups"] for r in g["rules"]}


@dataclass(frozen=True)
class Scenario:
    name: str
    #: leg -> outcome kind (the others pass)
    legs: dict[str, str] = field(default_factory=dict)
    service: str = "live"
    leaked: int = 0
    #: alert name -> the extra labels of each firing alert (instance and job are added)
    fires: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def every(kind: str, *, but: tuple[str, ...] = ()) -> dict[str, str]:
    return {leg: kind for leg in LEG_NAMES if leg not in but}


SCENARIOS = [
    Scenario("healthy"),
    Scenario("slow but working", legs={"checkout_reachable": "degraded"}),
    Scenario(
        "outage: every leg fails",
        legs=every("fail"),
        fires={"PaymentProbeTargetDown": [{}]},
    ),
    Scenario(
        "one leg broken",
        legs={"upgrade_webhook_e2e": "fail"},
        fires={"PaymentProbeLegFailing": [{"leg": "upgrade_webhook_e2e", "result": "fail"}]},
    ),
    Scenario(
        "a forged webhook accepted",
        legs={"webhook_security": "security"},
        fires={
            "PaymentProbeWebhookForgeryAccepted": [
                {"leg": "webhook_security", "result": "security"}
            ]
        },
    ),
    Scenario(
        "dormant service",
        legs={
            k: "dormant" for k in ("checkout_reachable", "webhook_security", "upgrade_webhook_e2e")
        },
        service="dormant",
    ),
    Scenario(
        "half switched off",
        legs={"webhook_security": "fail", "upgrade_webhook_e2e": "fail"},
        service="half_switched_off",
        fires={"PaymentProbeHalfSwitchedOff": [{"state": "half_switched_off"}]},
    ),
    Scenario(
        "misconfigured: no token, no secret",
        legs=every("misconfigured", but=("webhook_security",)),
        fires={
            "PaymentProbeMisconfigured": [
                {"leg": leg, "result": "misconfigured"}
                for leg in LEG_NAMES
                if leg != "webhook_security"
            ]
        },
    ),
    Scenario("leaked test account", leaked=1, fires={"PaymentProbeCohortLeak": [{}]}),
]


def series_for(
    instance: str, s: Scenario, minutes: int, stop_at: int | None = None
) -> list[dict[str, str]]:
    """The exported series over `minutes`, optionally stopping (a dead daemon) after `stop_at`."""

    def values(v: float | str) -> str:
        if stop_at is None:
            return f"{v}x{minutes}"
        return f"{v}x{stop_at} _x{minutes - stop_at}"

    base = f'job="{JOB}",instance="{instance}"'
    out = []
    for leg in LEG_NAMES:
        kind = s.legs.get(leg, "pass")
        for k in OUTCOMES:
            labels = f'{{{base},leg="{leg}",result="{k}"}}'
            out.append(
                {"series": f"payment_probe_result{labels}", "values": values(int(k == kind))}
            )
    for state in ("live", "dormant", "half_switched_off"):
        labels = f'{{{base},state="{state}"}}'
        out.append(
            {"series": f"payment_probe_service{labels}", "values": values(int(state == s.service))}
        )
    out.append({"series": f"payment_probe_cohort_leaked{{{base}}}", "values": values(s.leaked)})
    stamp = "0+60x" + str(
        minutes if stop_at is None else stop_at
    )  # the time of each run, in seconds
    if stop_at is not None:
        stamp += f" _x{minutes - stop_at}"
    out.append({"series": f"payment_probe_last_run_timestamp_seconds{{{base}}}", "values": stamp})
    return out


def expected(rule: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    annotations = {}
    for key, text in rule["annotations"].items():
        for name, value in labels.items():
            text = text.replace("{{ $labels." + name + " }}", value)
        annotations[key] = text
    return {"exp_labels": {**rule["labels"], **labels}, "exp_annotations": annotations}


def unit_test(s: Scenario, instance: str) -> dict[str, Any]:
    by_name = rules()
    checks = []
    for name in by_name:
        fired = [{"job": JOB, "instance": instance, **extra} for extra in s.fires.get(name, [])]
        checks.append(
            {
                "eval_time": "7m",
                "alertname": name,
                "exp_alerts": [expected(by_name[name], labels) for labels in fired],
            }
        )
    return {
        "interval": "1m",
        "input_series": series_for(instance, s, 12),
        "alert_rule_test": checks,
    }


def dead_daemon_test() -> dict[str, Any]:
    """A healthy prober that dies at 10 minutes: stale after 15 minutes without a run, nothing else."""
    by_name = rules()
    labels = {"job": JOB, "instance": "dead"}
    checks = [
        {"eval_time": "24m", "alertname": "PaymentProbeStale", "exp_alerts": []},
        {
            "eval_time": "26m",
            "alertname": "PaymentProbeStale",
            "exp_alerts": [expected(by_name["PaymentProbeStale"], labels)],
        },
        {"eval_time": "26m", "alertname": "PaymentProbeTargetDown", "exp_alerts": []},
        {"eval_time": "26m", "alertname": "PaymentProbeWebhookForgeryAccepted", "exp_alerts": []},
    ]
    series = series_for("dead", Scenario("dead"), 40, stop_at=10)
    return {"interval": "1m", "input_series": series, "alert_rule_test": checks}


@pytest.fixture
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is required in CI: apt-get install prometheus")
        pytest.skip("promtool not installed (Debian package `prometheus`)")
    return found


def run_promtool(promtool: str, tmp_path: Path, tests: list[dict[str, Any]]) -> str:
    rules_path = tmp_path / "alerts.yml"
    rules_path.write_text(ASSETS.joinpath("alerts.yml").read_text(encoding="utf-8"))
    unit = {"rule_files": [str(rules_path)], "evaluation_interval": "1m", "tests": tests}
    path = tmp_path / "alerts.test.yml"
    path.write_text(yaml.safe_dump(unit, sort_keys=False))
    done = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    return f"{done.returncode}\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_situation_fires_exactly_the_alerts_on_call_expects(
    scenario: Scenario, promtool: str, tmp_path: Path
) -> None:
    result = run_promtool(promtool, tmp_path, [unit_test(scenario, "probe")])
    assert result.startswith("0\n") and "SUCCESS" in result, result


def test_a_dead_daemon_goes_stale_after_three_intervals_and_pages_nothing_else(
    promtool: str, tmp_path: Path
) -> None:
    result = run_promtool(promtool, tmp_path, [dead_daemon_test()])
    assert result.startswith("0\n") and "SUCCESS" in result, result


def test_the_rules_name_no_document_outside_the_repository() -> None:
    text = ASSETS.joinpath("alerts.yml").read_text(encoding="utf-8")
    assert "PRIOR_ART" not in text and "/work/" not in text
    for path in ("harness/prober/metrics.py", "tests/unit/prober/test_alert_rules.py"):
        assert path in text
        assert (Path(__file__).parents[3] / path).exists()
