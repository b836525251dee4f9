"""No credential in a URL survives `redact_url`/`redact_text`, and nothing a reader needs is lost; the
replay report and the gate's reports never show a target's password."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from replay_scenario import STAGING, STAGING_ENV, reference, transport_of
from rich.console import Console

from harness.redaction import REDACTED, redact_text, redact_url
from harness.replay import replay_command_async
from harness.report import GateResult, RunInfo, render_html, render_markdown

RECORDINGS = Path(__file__).resolve().parents[2] / "data" / "recordings"
PLANTED = "Pl4nted-s3cret"

_PASSWORDS = st.text(min_size=1, max_size=30).map(lambda s: "pw" + s)
_HOSTS = st.sampled_from(["127.0.0.1", "db.internal", "[::1]", "localhost"])
_SCHEMES = st.sampled_from(["http", "https", "postgresql+asyncpg", "postgres", "redis"])


@settings(max_examples=300, deadline=None)
@given(
    scheme=_SCHEMES,
    user=st.sampled_from(["", "app", "ops.user"]),
    password=_PASSWORDS,
    host=_HOSTS,
    port=st.one_of(st.none(), st.integers(1, 65535)),
    path=st.sampled_from(["", "/", "/payments", "/v1/x?limit=5"]),
)
def test_a_url_password_never_survives_and_the_rest_of_the_url_does(
    scheme: str, user: str, password: str, host: str, port: int | None, path: str
) -> None:
    encoded = quote(password, safe="")
    url = f"{scheme}://{user}:{encoded}@{host}{f':{port}' if port else ''}{path}"

    shown = redact_url(url)

    assert encoded not in shown and f":{REDACTED}@" in shown
    parts = urlsplit(shown)
    assert (parts.hostname, parts.port, parts.username or "") == (
        urlsplit(url).hostname,
        port,
        user,
    )
    assert shown.endswith(path)


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(["token", "api_key", "Access-Token", "password", "secret", "sig"]),
    value=st.text(alphabet="abcdefXYZ0123456789", min_size=6, max_size=20).map(lambda s: "v" + s),
)
def test_secret_query_values_are_redacted_and_other_parameters_kept(key: str, value: str) -> None:
    url = f"https://hooks.example.test/in?account=acc_1&{key}={value}&limit=5"

    shown = redact_url(url)

    assert value not in shown
    assert "account=acc_1" in shown and "limit=5" in shown and f"{key}=***" in shown


@given(
    url=st.sampled_from(["http://127.0.0.1:8000", "sqlite+aiosqlite:///./x.sqlite3", "not a url"])
)
def test_a_url_without_credentials_comes_back_unchanged(url: str) -> None:
    assert redact_url(url) == url


def test_every_url_in_free_text_is_redacted() -> None:
    text = (
        f"could not reach postgresql://app:{PLANTED}@db:5432/pay nor 'http://u:{PLANTED}@h/x' "
        f"(see https://h/?token={PLANTED})"
    )

    shown = redact_text(text)

    assert PLANTED not in shown
    assert "postgresql://app:***@db:5432/pay" in shown and "http://u:***@h/x" in shown


def test_the_gate_reports_never_show_the_targets_password() -> None:
    target = f"http://ops:{PLANTED}@127.0.0.1:8000"
    run = RunInfo(
        target=target,
        seed=1,
        examples=1,
        workers=1,
        suites=("contract",),
        command=f"payharness gate --target {target}",
        started_at="2026-01-01T00:00:00+00:00",
        wall_seconds=1.0,
        exit_code=2,
        notes=(f"could not run [target_unreachable]: {target} does not answer",),
    )

    for text in (
        render_markdown(GateResult(suites=()), run),
        render_html(GateResult(suites=()), run),
    ):
        assert PLANTED not in text and "ops:***@127.0.0.1:8000" in text


async def test_no_replay_output_shows_the_targets_password(tmp_path: Path) -> None:
    target = f"http://payer:{PLANTED}@127.0.0.1:8000"
    out = io.StringIO()
    async with reference(tmp_path / "db.sqlite3", STAGING) as staging:
        code = await replay_command_async(
            files=[RECORDINGS / "fakes-deliveries.jsonl"],
            target=target,
            env=STAGING_ENV,
            interactive=False,
            report_dir=tmp_path / "reports",
            transport=transport_of(staging),
            console=Console(file=out, width=400),
        )

    (folder,) = (tmp_path / "reports").iterdir()
    artefacts = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    assert code == 0, out.getvalue()
    assert set(artefacts) == {"summary.md", "junit.xml", "events.jsonl"}
    assert "http://payer:***@127.0.0.1:8000" in artefacts["summary.md"]
    for name, text in {**artefacts, "console": out.getvalue()}.items():
        assert PLANTED not in text, name


def test_the_probers_shown_target_drops_the_password_and_secret_query_values() -> None:
    from harness.prober.config import display_target

    shown = display_target(f"https://probe:{PLANTED}@pay.example.test/base?api_key={PLANTED}&a=1")

    assert PLANTED not in shown and shown.startswith("https://pay.example.test/base?")
