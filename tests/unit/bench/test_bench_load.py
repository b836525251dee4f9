"""The load generators: loopback only, bounded, and wrk's summary read back exactly."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from harness.bench.errors import LoadFailed, NotLoopback
from harness.bench.load import (
    HttpxGenerator,
    LoadSpec,
    Request,
    WrkGenerator,
    is_loopback,
    percentile,
    pick_generator,
)

GET = Request(method="GET", path="/healthz")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://127.9.9.9", "http://localhost:1", "http://[::1]:80"]
)
def test_loopback_addresses_are_accepted(url: str) -> None:
    assert is_loopback(url)


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1:8000", "http://example.com", "http://192.168.1.2"]
)
def test_load_to_any_other_address_is_refused(url: str) -> None:
    with pytest.raises(NotLoopback) as refused:
        LoadSpec(base_url=url, requests=(GET,))
    assert refused.value.code == "bench_not_loopback"


def test_a_once_each_pool_bounds_the_count_by_its_size() -> None:
    pool = tuple(Request(method="POST", path="/hook", body=b"%d" % i) for i in range(5))
    assert LoadSpec(base_url="http://127.0.0.1:1", requests=pool, once_each=True).request_limit == 5
    cycled = LoadSpec(base_url="http://127.0.0.1:1", requests=pool, max_requests=70)
    assert cycled.request_limit == 70


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([], 50) is None


def test_the_python_generator_is_chosen_when_asked_or_when_wrk_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(pick_generator("python"), HttpxGenerator)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert isinstance(pick_generator("auto"), HttpxGenerator)
    with pytest.raises(LoadFailed, match="apt-get install wrk"):
        pick_generator("wrk")
    with pytest.raises(LoadFailed, match="unknown load generator"):
        pick_generator("ab")


def _fake_wrk(tmp_path: Path, stdout: str, code: int = 0) -> str:
    """A stand-in wrk that records its arguments and pool, then prints ``stdout``."""
    script = tmp_path / "wrk"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "wrk 9.9 [fake]"; exit 1; fi\n'
        f'echo "$@" > {tmp_path}/argv\n'
        "pool=$(echo \"$@\" | awk '{print $(NF-2)}')\n"
        f'cp "$pool" {tmp_path}/pool.tsv 2>/dev/null\n'
        f"cat <<'EOF'\n{stdout}\nEOF\n"
        f"exit {code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_wrk_runs_the_pool_and_its_json_summary_becomes_the_result(tmp_path: Path) -> None:
    summary = (
        'PAYHARNESS_WRK {"requests":5000,"duration_us":2000000,"connect":0,"read":1,"write":0,'
        '"status":7,"timeout":2,"p50_us":1500,"p99_us":9000}'
    )
    wrk = WrkGenerator(_fake_wrk(tmp_path, "Running 2s test\n" + summary))
    hooks = tuple(
        Request(
            method="POST", path="/hook", headers=(("Stripe-Signature", f"t=1,v1={i}"),), body=b"{}"
        )
        for i in range(3)
    )
    spec = LoadSpec(
        base_url="http://127.0.0.1:9",
        requests=hooks,
        once_each=True,
        connections=8,
        duration_seconds=2,
    )
    result = wrk.run(spec)
    assert result.generator == "wrk 9.9"
    assert result.requests == 5000 and result.seconds == 2.0 and result.rps == 2500
    assert result.errors == 3  # read + timeout
    assert result.non_2xx == 7
    assert (result.p50_ms, result.p99_ms) == (1.5, 9.0)
    assert result.exhausted  # more answers than the pool held: the pool ran out
    argv = (tmp_path / "argv").read_text().split()
    assert "-c8" in argv and "-d2s" in argv and argv[-1] == "once"
    assert "http://127.0.0.1:9/hook" in argv
    lines = (tmp_path / "pool.tsv").read_bytes().splitlines()
    assert lines[2] == b"POST\t/hook\t{}\tStripe-Signature: t=1,v1=2"


def test_wrk_without_a_summary_is_a_load_failure(tmp_path: Path) -> None:
    wrk = WrkGenerator(_fake_wrk(tmp_path, "unable to connect to 127.0.0.1:9", code=1))
    with pytest.raises(LoadFailed) as failed:
        wrk.run(LoadSpec(base_url="http://127.0.0.1:9", requests=(GET,), duration_seconds=1))
    assert failed.value.code == "load_generator_failed"
    assert "unable to connect" in str(failed.value)


def test_a_request_that_cannot_be_a_pool_line_is_refused_before_wrk_runs(tmp_path: Path) -> None:
    wrk = WrkGenerator(_fake_wrk(tmp_path, ""))
    bad = Request(method="POST", path="/hook", body=b'{"a":\n1}')
    with pytest.raises(LoadFailed, match="tab or newline"):
        wrk.run(LoadSpec(base_url="http://127.0.0.1:9", requests=(bad,)))
