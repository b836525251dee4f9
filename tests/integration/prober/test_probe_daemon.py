"""The daemon (`--interval`) serving `/metrics`, the inert kill switch, and the Pushgateway push."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from probe_servers import WEBHOOK_SECRET, StartReference, pushgateway_stub

from fakes._common.server import LoopbackServer
from harness.prober import (
    AuditTrail,
    DaemonConfig,
    MetricsServer,
    ProbeConfig,
    Prober,
    ProbeSecrets,
    load_profile,
    probe_command,
    run_daemon,
)


def prober_for(base_url: str, **kwargs: object) -> Prober:
    config = ProbeConfig(
        target=base_url,
        profile=load_profile("reference"),
        secrets=ProbeSecrets(webhook_secret=WEBHOOK_SECRET),
    )
    return Prober(config, **kwargs)  # type: ignore[arg-type]


def outcome_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("payment_probe_outcome_total{")]


async def test_the_daemon_runs_a_bounded_number_of_times_and_serves_metrics_between_runs(
    start_reference: StartReference,
) -> None:
    reference = start_reference()
    prober = prober_for(reference.base_url)
    scrapes: list[str] = []
    waits: list[float] = []
    ports: list[int] = []

    async def between_runs(seconds: float) -> None:
        # Called instead of waiting out the interval: scrape what a Prometheus would see now.
        waits.append(seconds)
        async with httpx.AsyncClient() as client:
            scrapes.append((await client.get(f"http://127.0.0.1:{ports[0]}/metrics")).text)

    runs = await run_daemon(
        prober,
        DaemonConfig(interval_seconds=300.0, metrics_port=0, max_runs=3),
        sleep=between_runs,
        on_started=lambda server: ports.append(server.port),
    )
    assert runs == 3
    assert waits == [300.0, 300.0]
    assert [len(outcome_lines(s)) for s in scrapes] == [5, 5]
    assert 'payment_probe_outcome_total{leg="billing_state",result="pass"} 1.0' in scrapes[0]
    assert 'payment_probe_outcome_total{leg="billing_state",result="pass"} 2.0' in scrapes[1]
    value = prober.metrics.registry.get_sample_value
    assert (
        value("payment_probe_outcome_total", {"leg": "upgrade_webhook_e2e", "result": "pass"}) == 3
    )
    async with httpx.AsyncClient() as client:  # the server stopped with the daemon
        try:
            await client.get(f"http://127.0.0.1:{ports[0]}/metrics", timeout=1.0)
            stopped = False
        except httpx.TransportError:
            stopped = True
    assert stopped


async def test_a_switched_off_daemon_serves_metrics_but_runs_and_emits_nothing(
    tmp_path: Path,
) -> None:
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200)

    audit = tmp_path / "audit.jsonl"
    prober = prober_for(
        "http://target.test", transport=httpx.MockTransport(record), audit=AuditTrail(audit)
    )
    scrapes: list[httpx.Response] = []
    ports: list[int] = []

    async def between_ticks(seconds: float) -> None:
        async with httpx.AsyncClient() as client:
            scrapes.append(await client.get(f"http://127.0.0.1:{ports[0]}/metrics"))

    runs = await run_daemon(
        prober,
        DaemonConfig(interval_seconds=60.0, enabled=False, metrics_port=0, max_runs=3),
        sleep=between_ticks,
        on_started=lambda server: ports.append(server.port),
    )
    assert runs == 0
    assert len(scrapes) == 2 and all(s.status_code == 200 for s in scrapes)
    for scrape in scrapes:  # family metadata (# HELP, # TYPE) only: not one sample
        samples = [line for line in scrape.text.splitlines() if not line.startswith("#")]
        assert [s for s in samples if "probe" in s] == []
    assert requests == []
    assert not audit.exists()


def test_payharness_probe_interval_prints_each_run_and_stops_by_itself(
    start_reference: StartReference, tmp_path: Path
) -> None:
    reference = start_reference()
    out, err = io.StringIO(), io.StringIO()
    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    code = probe_command(
        target=reference.base_url,
        interval=120.0,
        metrics_port=0,
        env={"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET},
        audit_path=tmp_path / "audit.jsonl",
        out=out,
        err=err,
        sleep=no_wait,
        max_runs=2,
    )
    assert code == 0, err.getvalue()
    assert out.getvalue().count("5 legs: 5 pass, 0 degraded, 0 fail") == 2
    assert slept == [120.0]


def test_the_metrics_server_binds_loopback_on_a_free_port() -> None:
    prober = prober_for("http://target.test")
    with MetricsServer(prober.metrics.registry, host="127.0.0.1", port=0) as server:
        answer = httpx.get(f"http://127.0.0.1:{server.port}/metrics")
    assert answer.status_code == 200


def test_once_with_a_pushgateway_pushes_the_run(
    start_reference: StartReference, tmp_path: Path
) -> None:
    reference = start_reference()
    gateway = pushgateway_stub()
    with LoopbackServer(gateway) as server:
        out, err = io.StringIO(), io.StringIO()
        code = probe_command(
            target=reference.base_url,
            once=True,
            pushgateway=server.base_url,
            env={"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET},
            audit_path=tmp_path / "audit.jsonl",
            out=out,
            err=err,
        )
    assert code == 0, err.getvalue()
    ((method, path, body),) = gateway.state.pushes
    assert method == "PUT"
    assert path.startswith("/metrics/job/payharness_payment_probe/")
    assert "/profile/reference" in path and "/target/127.0.0.1:" in path
    assert len(outcome_lines(body)) == 5
    assert "payment_probe_last_run_timestamp_seconds" in body
    assert WEBHOOK_SECRET not in body
