"""`payharness trigger` and `payharness resend`: the Stripe CLI's trigger/resend against running fakes.

Both talk to the fakes' control API over HTTP (:mod:`fakes._common.triggering`), so they work against a
`payharness fakes` in another process. Where the fakes are: `--url`, else the environment
`payharness fakes` prints (`STRIPE_API_BASE`, `XENDIT_API_BASE`, `CDP_FACILITATOR_URL`; `--env-file`
writes them for `set -a; . FILE`).

* `payharness trigger RAIL EVENT_TYPE` builds what the event needs in the fake (through its API) and
  the fake sends the signed event to its registered webhook endpoints; prints the emitted event ids.
* `payharness trigger --list` lists the event types each rail can trigger.
* `payharness resend EVENT_ID` delivers one sent event again, re-signed, to its endpoints (or one,
  `--webhook-endpoint`); the rail is found by asking each running fake, unless `--rail` names it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import httpx

from .errors import InvalidArgument, TargetUnreachable

__all__ = ["RAIL_URL_VARIABLES", "list_triggers", "resend_event", "trigger_event"]

#: The environment variable `payharness fakes` prints for each rail's base URL.
RAIL_URL_VARIABLES: Mapping[str, str] = {
    "stripe": "STRIPE_API_BASE",
    "xendit": "XENDIT_API_BASE",
    "cdp": "CDP_FACILITATOR_URL",
}


def _line(text: str) -> None:
    """One tab-separated output line on stdout, as is (scripts cut it)."""
    sys.stdout.write(text + "\n")


def _base_url(rail: str, url: str | None, env: Mapping[str, str]) -> str:
    if rail not in RAIL_URL_VARIABLES:
        raise InvalidArgument(f"unknown rail {rail!r}; use one of {', '.join(RAIL_URL_VARIABLES)}")
    found = url or env.get(RAIL_URL_VARIABLES[rail])
    if not found:
        raise InvalidArgument(
            f"where is the {rail} fake? pass --url, or set {RAIL_URL_VARIABLES[rail]} "
            "(payharness fakes prints it; --env-file writes it)"
        )
    return found.rstrip("/")


def _control(method: str, url: str, json: object | None = None) -> httpx.Response:
    try:
        return httpx.request(method, url, json=json, timeout=60)
    except httpx.TransportError as exc:
        raise TargetUnreachable(
            f"no fake answers at {url} ({type(exc).__name__}); is `payharness fakes` running?"
        ) from exc


def _refused(response: httpx.Response) -> InvalidArgument:
    try:
        error = response.json()["error"]
        message = f"{error['message']} [{error['code']}]"
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {response.status_code}: {response.text[:200]}"
    return InvalidArgument(f"the fake refused: {message}")


def list_triggers() -> dict[str, list[str]]:
    """Every rail's triggerable event types (from the same recipes the fakes run)."""
    from fakes.trigger import RAILS, recipes

    return {rail: sorted(recipes(rail)) for rail in RAILS}


def trigger_event(
    rail: str, event_type: str, *, url: str | None, env: Mapping[str, str]
) -> list[dict[str, str]]:
    """Ask the running `rail` fake to emit `event_type`; returns the events it sent."""
    base = _base_url(rail, url, env)
    response = _control("POST", f"{base}/_fake/trigger", {"event": event_type})
    if response.status_code != 200:
        raise _refused(response)
    events: list[dict[str, str]] = response.json()["events"]
    return events


def resend_event(
    event_id: str,
    *,
    rail: str | None,
    url: str | None,
    endpoint_id: str | None,
    env: Mapping[str, str],
) -> tuple[str, int]:
    """Re-deliver `event_id`; returns the rail that had it and how many endpoints it went to."""
    rails: Sequence[str] = (
        [rail] if rail else [r for r in RAIL_URL_VARIABLES if url or env.get(RAIL_URL_VARIABLES[r])]
    )
    if not rails:
        raise InvalidArgument(
            "no running fakes known: pass --rail and --url, or set the variables payharness fakes prints"
        )
    body = {"endpoint_id": endpoint_id} if endpoint_id else {}
    for candidate in rails:
        base = _base_url(candidate, url, env)
        response = _control("POST", f"{base}/_fake/events/{event_id}/resend", body)
        if response.status_code == 200:
            return candidate, int(response.json()["deliveries"])
        if response.status_code != 404 or response.json()["error"]["code"] != "unknown_event":
            raise _refused(response)
    raise InvalidArgument(
        f"no running fake has sent an event {event_id!r} ({', '.join(rails)} asked); "
        "`payharness trigger` prints event ids"
    )


def trigger_command(
    rail: str | None,
    event_type: str | None,
    *,
    list_only: bool,
    url: str | None,
    env: Mapping[str, str],
) -> int:
    """`payharness trigger`: prints the emitted events (or the list); returns the exit code."""
    if list_only:
        for name, types in list_triggers().items():
            for kind in types:
                _line(f"{name}\t{kind}")
        return 0
    if not rail or not event_type:
        raise InvalidArgument("usage: payharness trigger RAIL EVENT_TYPE (or --list)")
    for event in trigger_event(rail, event_type, url=url, env=env):
        _line(f"{event['id']}\t{event['type']}")
    return 0


def resend_command(
    event_id: str,
    *,
    rail: str | None,
    url: str | None,
    endpoint_id: str | None,
    env: Mapping[str, str],
) -> int:
    """`payharness resend`: prints where the event went; returns the exit code."""
    found, count = resend_event(event_id, rail=rail, url=url, endpoint_id=endpoint_id, env=env)
    _line(f"{event_id}\t{found}\tresent to {count} endpoint(s)")
    return 0
