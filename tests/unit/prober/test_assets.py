"""The monitoring assets shipped with the prober: alert rules and the Grafana dashboard.

Every metric they reference must be one the prober exposes, and the rules must load in Prometheus's own
checker. `promtool` comes from Debian's `prometheus` package; where it is missing the promtool tests skip
with the reason, except in CI, where a missing promtool is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from probe_doubles import FakeTarget, error, make_prober
from prometheus_client import generate_latest

ASSETS = resources.files("harness.prober").joinpath("assets")
KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
}


def alerts() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ASSETS.joinpath("alerts.yml").read_text(encoding="utf-8"))
    return data


def rules() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for group in alerts()["groups"] for rule in group["rules"]}


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        ASSETS.joinpath("payment-probe.grafana.json").read_text(encoding="utf-8")
    )
    return data


def dashboard_exprs() -> list[str]:
    return [t["expr"] for panel in dashboard()["panels"] for t in panel["targets"]]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords, labels and strings removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        after = text[match.end() :].lstrip()
        if after.startswith("(") or match.group() in KEYWORDS:
            continue
        names.add(match.group())
    return names


async def exposed_sample_names() -> set[str]:
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", error(500, "internal_error"))
    prober = make_prober(target)
    await prober.run_once()
    text = generate_latest(prober.metrics.registry).decode()
    return {
        re.split(r"[{ ]", line, maxsplit=1)[0]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_the_metric_name_reader_sees_through_promql() -> None:
    expr = 'histogram_quantile(0.95, sum by (le, leg) (rate(a_bucket{leg="x"}[5m]))) > on (leg) b_total'
    assert metric_names(expr) == {"a_bucket", "b_total"}
    assert metric_names("time() - c > 3 * 300") == {"c"}


async def test_every_metric_in_the_alert_rules_is_exposed_by_the_prober() -> None:
    exposed = await exposed_sample_names()
    referenced = set().union(*(metric_names(r["expr"]) for r in rules().values()))
    assert referenced == {
        "payment_probe_result",
        "payment_probe_service",
        "payment_probe_cohort_leaked",
        "payment_probe_last_run_timestamp_seconds",
    }
    assert referenced <= exposed


async def test_every_metric_on_the_dashboard_is_exposed_by_the_prober() -> None:
    exposed = await exposed_sample_names()
    referenced = set().union(*(metric_names(e) for e in dashboard_exprs()))
    assert referenced == {
        "probe_success",
        "payment_probe_outcome_total",
        "payment_probe_result",
        "payment_probe_service",
        "payment_probe_cohort_leaked",
        "payment_probe_latency_seconds_bucket",
        "payment_probe_last_run_timestamp_seconds",
    }
    assert referenced <= exposed


def test_pages_are_for_money_at_risk_and_warnings_for_a_blind_or_leaking_prober() -> None:
    by_name = rules()
    pages = {n for n, r in by_name.items() if r["labels"]["severity"] == "page"}
    assert pages == {
        "PaymentProbeWebhookForgeryAccepted",
        "PaymentProbeTargetDown",
        "PaymentProbeHalfSwitchedOff",
        "PaymentProbeLegFailing",
    }
    assert "for" not in by_name["PaymentProbeWebhookForgeryAccepted"]  # one forged credit is enough
    for rule in by_name.values():
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_the_dashboard_is_importable_grafana_json() -> None:
    board = dashboard()
    assert board["uid"] == "payharness-payment-probe"
    assert board["title"]
    assert {p["id"] for p in board["panels"]} == set(range(1, len(board["panels"]) + 1))
    for panel in board["panels"]:
        assert panel["type"] in {"stat", "timeseries", "bargauge"}
        assert panel["targets"] and all(t["refId"] for t in panel["targets"])
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}


@pytest.fixture
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is required in CI: apt-get install prometheus")
        pytest.skip("promtool not installed (Debian package `prometheus`)")
    return found


def check(promtool: str, *args: str) -> str:
    done = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_loads_the_alert_rules(promtool: str, tmp_path: Path) -> None:
    path = tmp_path / "alerts.yml"
    path.write_text(ASSETS.joinpath("alerts.yml").read_text(encoding="utf-8"))
    assert "SUCCESS: 7 rules found" in check(promtool, "check", "rules", str(path))


def test_promtool_parses_every_dashboard_query(promtool: str, tmp_path: Path) -> None:
    # Recording rules are checked as PromQL by promtool: a cheap parser for the dashboard's queries.
    recorded = [
        {"record": f"payharness:dashboard:{i}", "expr": e} for i, e in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    check(promtool, "check", "rules", str(path))
