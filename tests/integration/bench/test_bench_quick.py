"""`payharness bench --quick`: every benchmark runs end to end on loopback and writes its report.

A smoke check, as `.ci/run` uses it: the numbers of a quick run mean little, so no goal is ever asserted
here; what is asserted is that each benchmark measured its figures (or said why one is unavailable) and
left results.json, summary.md and bench.png.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.bench import LoadSpec, Request, bench_command, pick_generator
from harness.bench.processes import bench_child


def _quick(tmp_path: Path, name: str, **env: str) -> tuple[dict[str, Any], str]:
    out = io.StringIO()
    environment = {
        **os.environ,
        "PAYHARNESS_BENCH_GENERATOR": "python",
        "PAYHARNESS_BENCH_PEERS": "off",
    }
    environment.update(env)
    code = bench_command(
        which=[name], quick=True, report_dir=str(tmp_path), env=environment, out=out
    )
    printed = out.getvalue()
    assert code == 0, printed
    (run_dir,) = tmp_path.iterdir()
    assert {"results.json", "summary.md", "bench.png"} <= {p.name for p in run_dir.iterdir()}
    (result,) = json.loads((run_dir / "results.json").read_text())["benchmarks"]
    assert result["name"] == name and result["error"] is None and result["unavailable"] is None, (
        printed
    )
    return result, printed


def _measured(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in result["figures"] if f["unavailable"] is None}


def test_fakes_quick_measures_the_fake_against_its_limit_and_reports_what_peers_lack(
    tmp_path: Path,
) -> None:
    result, printed = _quick(tmp_path, "fakes", PAYHARNESS_BENCH_PEERS="localstripe")
    measured = _measured(result)
    for operation in ("GET /v1/customers/{id}", "POST /v1/customers/{id}/balance_transactions"):
        figure = measured[f"fake Stripe {operation} vs no-op ASGI (limit)"]
        assert figure["value"] > 0 and figure["ratio"] > 0
    assert result["details"]["measurements"]["fake Stripe"]["GET"]["non_2xx"] == 0
    assert (
        "vs Prism: not available: Prism skipped (PAYHARNESS_BENCH_PEERS leaves it out)" in printed
    )
    if _localstripe_available():
        assert "fake Stripe GET /v1/customers/{id} vs localstripe" in measured
        assert (
            "POST /v1/customers/{id}/balance_transactions vs localstripe: not available: "
            "localstripe lacks this endpoint (POST /v1/customers/{id}/balance_transactions answered 404)"
        ) in printed
    else:
        assert "bench peer localstripe unavailable: localstripe is not installed" in printed


def _localstripe_available() -> bool:
    """The bench's own detection: the module in this interpreter, or a `localstripe` command on PATH."""
    from harness.bench.errors import Unavailable
    from harness.bench.peers import localstripe_launch

    try:
        localstripe_launch(0, {})
    except Unavailable:
        return False
    return True


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)
def test_wrk_loads_a_loopback_server_and_reports_rate_and_latency(tmp_path: Path) -> None:
    generator = pick_generator("wrk")
    with bench_child(["serve", "noop"], name="noop", log_dir=tmp_path, env=os.environ) as child:
        assert child.url is not None
        spec = LoadSpec(
            base_url=child.url,
            requests=(Request(method="POST", path="/x", body=b"amount=-100"),),
            connections=4,
            duration_seconds=1,
        )
        result = generator.run(spec)
    assert result.generator.startswith("wrk ")
    assert result.requests > 0 and result.errors == 0 and result.non_2xx == 0
    assert (
        result.p50_ms is not None and result.p99_ms is not None and result.p50_ms <= result.p99_ms
    )


def test_webhooks_quick_applies_signed_webhooks_exactly_once_at_each_concurrency(
    tmp_path: Path,
) -> None:
    result, _printed = _quick(tmp_path, "webhooks")
    measured = _measured(result)
    for connections in ("1 connection", "4 connections"):
        sqlite = measured[f"signed webhooks applied on SQLite, 1 worker, {connections} vs /healthz"]
        assert sqlite["value"] > 0 and sqlite["baseline"] > 0
    assert all(r["exactly_once"] for r in result["details"]["sqlite"])
    assert all(r["webhooks"]["non_2xx"] == 0 for r in result["details"]["sqlite"])
    postgres = [f for f in result["figures"] if "PostgreSQL" in f["name"]]
    if postgres[0]["unavailable"] is not None:
        assert not os.environ.get("CI"), (
            f"PostgreSQL is required in CI: {postgres[0]['unavailable']}"
        )
    else:
        assert all(r["exactly_once"] for r in result["details"]["postgresql"])
        assert all(f["goal"] == {"threshold": 0.25, "at_least": True} for f in postgres)


@pytest.mark.timeout(
    600
)  # the whole gate on 1 and 2 workers, and the contract over HTTP: past 120 s
def test_gate_quick_times_the_gate_and_both_schemathesis_runs(tmp_path: Path) -> None:
    result, _printed = _quick(tmp_path, "gate")
    measured = _measured(result)
    whole = measured["whole gate wall time (embedded defaults, 1 worker)"]
    assert whole["value"] > 0 and whole["goal"] == {"threshold": 1.0, "at_least": False}
    scaled = next(f for f in result["figures"] if f["name"].endswith("2 workers)"))
    assert scaled["unavailable"] == "a full run measures it"  # the same path, with --workers
    stage = measured["schemathesis stage: in-process speed-up over loopback HTTP"]
    assert stage["value"] > 0 and stage["baseline"] > 0
    assert "contract" in result["details"]["in_process"]["stages"]


def test_replay_quick_replays_every_event_into_the_sink(tmp_path: Path) -> None:
    result, _printed = _quick(tmp_path, "replay")
    assert result["details"]["replayer_outcomes"] == {"accepted": result["details"]["events"]}
    assert _measured(result)["replayer vs bare async httpx loop (no-op sink)"]["ratio"] > 0


def test_memory_quick_reads_the_fakes_and_the_probers_resident_memory(tmp_path: Path) -> None:
    result, _printed = _quick(tmp_path, "memory")
    measured = _measured(result)
    fake = next(f for name, f in measured.items() if name.startswith("fake Stripe peak RSS"))
    assert fake["value"] > 0
    assert result["details"]["fake"]["errors"] == 0
    prober = next(f for name, f in measured.items() if name.startswith("prober daemon RSS"))
    assert prober["value"] > 0
    assert result["details"]["prober"]["failed_runs"] == 0
