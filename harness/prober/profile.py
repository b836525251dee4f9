"""Probe profiles: the shape of a target's API, as a TOML file, so one prober fits several services.

A profile names the target's paths, its auth (a bearer token read from the environment), the webhook path,
the signature scheme, the upgrade event template and the expected rejection of an unsigned webhook, the
fields each answer must carry and which routes must refuse a request without the token. Two are
shipped in `profiles/`: `reference` (the default: the reference payments service) and
`razorpay-subscriptions` (the API shape of PRIOR_ART.md §3). A profile holds names of environment
variables, never secret values: secrets come from the environment only (see `config.secrets_from_env`).

Loading is strict: an unknown key, a wrong type or an unknown `{placeholder}` is a `ProfileError` naming
the file and the key, because a typo in a profile would otherwise probe the wrong thing in silence.

The keys (every key not marked required is optional; older profiles without the newer keys load as
before):

| table | key | meaning |
|---|---|---|
| (top) | `name` (required), `description` | the profile's name and one line about the API |
| `[auth]` | `token_env`, `required` | the variable holding the bearer token; whether the authed legs need it |
| `[budgets]` | one number per leg | seconds; the leg's timeout is 2 x budget, capped at 15 s |
| `[[dormant]]` | `status`, `code` | an answer meaning "alive but deliberately switched off" |
| `[account]` | `id_env` | a variable naming a standing probe account (else one is minted per run) |
| `[cohort]` | `create_path` (required), `create_body`, `id_field` | the test-cohort mint and where its id is |
| `[cohort]` | `delete_path` (required), `read_path` | the guarded reap, and the read-back that must then answer 404/410 |
| `[cohort]` | `guard_account_env` | a variable naming a standing non-cohort account the reap must refuse |
| `[checkout]`, `[billing]`, `[invoices]` | `method`, `path` (required), `body` | the request, with `{account_id}`/`{run_id}` |
| (same) | `fields` | dotted fields a 2xx answer must carry (the shape the leg relies on) |
| (same) | `authed` | the route must refuse a request without the token (default: `[auth] required`) |
| `[webhook]` | `path`, `scheme`, `unsigned_body` (required), `secret_env`, `accepted_status`, `event_id_header` | the webhook route, its `fakes.signing` scheme, the body the forgeries carry |
| `[webhook.rejection]` | `status`, `code` (required) | what the unsigned forgery must get back |
| `[upgrade]` | `plan`, `tier_path`, `tier_field`, `event` (required), `plan_id_env` | the signed paid event and where the tier is read |
| `[[upgrade.unknown_plan]]` | `status`, `code` | the signed event's answer meaning "unknown plan id": misconfigured |
| `[gate]` | see `gate_profile.py` | how the gate's suites reach a service not shaped like the contract |

`payharness probe --profile NAME --explain` (`explain.py`) prints a profile as a wiring checklist.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fakes.signing import SCHEMES

from ._toml import REQUIRED as _REQUIRED
from ._toml import TomlTable as _Table
from .errors import ProfileError, UnknownProfile
from .gate_profile import GateSpec, parse_gate
from .results import LEG_NAMES
from .templates import PLACEHOLDERS, placeholders_in

__all__ = [
    "DEFAULT_BUDGETS_SECONDS",
    "DEFAULT_PROFILE",
    "AuthSpec",
    "CohortSpec",
    "ExpectedError",
    "Profile",
    "RequestTemplate",
    "UpgradeSpec",
    "WebhookSpec",
    "load_profile",
    "parse_profile",
    "shipped_profiles",
]

DEFAULT_PROFILE = "reference"

#: Per-leg budgets of PRIOR_ART.md §3 (seconds); a profile's `[budgets]` table overrides them.
DEFAULT_BUDGETS_SECONDS: Mapping[str, float] = {
    "checkout_reachable": 5.0,
    "billing_state": 2.0,
    "invoices_reachable": 2.0,
    "webhook_security": 2.0,
    "upgrade_webhook_e2e": 8.0,
}

_REQUEST_VARS = frozenset({"account_id", "run_id"})
_PATH_VARS = frozenset({"account_id"})
_EVENT_VARS = frozenset(PLACEHOLDERS)
_UNSIGNED_VARS = frozenset({"run_id", "now"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedError:
    """An answer recognised by status and error code (e.g. 400 `missing_signature_header`)."""

    status: int
    code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestTemplate:
    """One request: method, path (query string allowed) and an optional JSON body, with placeholders."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None
    #: dotted fields a 2xx answer must carry (`fields = ["plan_tier"]`): the shape the leg relies on
    fields: tuple[str, ...] = ()
    #: whether the route must refuse a request without the token (`authed`; default: `[auth] required`)
    authed: bool = False

    def uses(self, name: str) -> bool:
        """Whether the path or the body holds the placeholder `{name}`."""
        return name in placeholders_in(self.path) or name in placeholders_in(self.body)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthSpec:
    """A bearer token read from the environment variable `token_env` (never stored in the profile)."""

    token_env: str | None = None
    required: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CohortSpec:
    """How to mint and reap a test-cohort account through the target's API.

    `id_field` is a dotted path into the mint's JSON answer. The reap must be guarded on the target's side
    (PRIOR_ART.md §3: `DELETE ... WHERE id=$1 AND is_test_cohort = true`); the prober on its side only ever
    reaps accounts it minted in the same run.
    """

    create: RequestTemplate
    id_field: str
    delete_path: str
    #: where a reaped account is read back (`GET`; default `delete_path`): it must answer 404 or 410
    read_path: str = ""
    #: a variable naming a standing account that is NOT in the cohort: each run tries to delete it and
    #: the target must refuse (the guard of the reap); unset, the guard is not checked
    guard_account_env: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSpec:
    """The webhook route, its signature scheme and what an unsigned delivery must get back."""

    path: str
    scheme: str
    secret_env: tuple[str, ...]
    accepted_status: int
    rejection: ExpectedError
    unsigned_body: Mapping[str, Any]
    event_id_header: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpgradeSpec:
    """The upgrade leg: the event to sign, the plan it must reach and where the tier is read back."""

    plan: str
    plan_id_env: str | None
    tier_path: str
    tier_field: str
    event: Mapping[str, Any]
    #: answers of the signed webhook meaning "this plan id is unknown here": misconfigured, not a failure
    unknown_plan: tuple[ExpectedError, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """Everything the legs need to know about one target API."""

    name: str
    description: str
    auth: AuthSpec
    budgets_seconds: Mapping[str, float]
    dormant: tuple[ExpectedError, ...]
    account_id_env: str | None
    cohort: CohortSpec | None
    checkout: RequestTemplate
    billing: RequestTemplate
    invoices: RequestTemplate
    webhook: WebhookSpec
    upgrade: UpgradeSpec | None
    #: how the gate reaches the service (None: it serves the payments contract itself)
    gate: GateSpec | None = None

    @property
    def needs_run_account(self) -> bool:
        """Whether a reachability leg names `{account_id}` (the run then mints or configures one)."""
        return any(t.uses("account_id") for t in (self.checkout, self.billing, self.invoices))


def _check_vars(table: _Table, what: str, value: object, allowed: frozenset[str]) -> None:
    unknown = sorted(placeholders_in(value) - allowed)
    if unknown:
        names = ", ".join("{" + n + "}" for n in unknown)
        raise table.error(f"{what} uses {names}; allowed here: {', '.join(sorted(allowed))}")


def _request(t: _Table, *, default_method: str, authed_default: bool) -> RequestTemplate:
    method = str(t.text("method", default_method)).upper()
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        raise t.error(f"`method` {method!r} is not an HTTP method the prober sends")
    path = t.text("path", _REQUIRED)
    if not path.startswith("/"):
        raise t.error("`path` must start with /")
    body = t.mapping("body")
    _check_vars(t, "the request", [path, body], _REQUEST_VARS)
    fields = t.names("fields") if "fields" in t else ()
    authed = t.flag("authed", authed_default)
    t.done()
    return RequestTemplate(method=method, path=path, body=body, fields=fields, authed=authed)


def _expected(t: _Table) -> ExpectedError:
    status = t.integer("status", _REQUIRED)
    if not 100 <= status <= 599:
        raise t.error(f"`status` {status} is not an HTTP status")
    code = t.text("code", _REQUIRED)
    t.done()
    return ExpectedError(status=status, code=code)


def _budgets(t: _Table | None) -> Mapping[str, float]:
    budgets = dict(DEFAULT_BUDGETS_SECONDS)
    if t is None:
        return budgets
    for leg in LEG_NAMES:
        value = t.number(leg)
        if value is not None:
            if value < 0:
                raise t.error(f"`{leg}` must be >= 0 seconds")
            budgets[leg] = value
    t.done()
    return budgets


def _cohort(t: _Table | None) -> CohortSpec | None:
    if t is None:
        return None
    create_path = t.text("create_path", _REQUIRED)
    create_body = t.mapping("create_body", {})
    _check_vars(t, "create_path/create_body", [create_path, create_body], frozenset({"run_id"}))
    id_field = t.text("id_field", "id")
    delete_path = t.text("delete_path", _REQUIRED)
    _check_vars(t, "delete_path", delete_path, _PATH_VARS)
    if "{account_id}" not in delete_path:
        raise t.error("`delete_path` must name {account_id}: the prober reaps only what it minted")
    read_path = t.text("read_path", delete_path)
    _check_vars(t, "read_path", read_path, _PATH_VARS)
    guard_env = t.text("guard_account_env")
    t.done()
    create = RequestTemplate(method="POST", path=create_path, body=create_body)
    return CohortSpec(
        create=create,
        id_field=id_field,
        delete_path=delete_path,
        read_path=read_path,
        guard_account_env=guard_env,
    )


def _webhook(t: _Table) -> WebhookSpec:
    path = t.text("path", _REQUIRED)
    scheme = t.text("scheme", _REQUIRED)
    if scheme not in SCHEMES:
        raise t.error(f"`scheme` {scheme!r} is not one of {', '.join(SCHEMES)}")
    secret_env = t.names("secret_env")
    accepted = t.integer("accepted_status", 200)
    rejection_table = t.table("rejection")
    assert rejection_table is not None
    rejection = _expected(rejection_table)
    unsigned = t.mapping("unsigned_body", _REQUIRED)
    _check_vars(t, "unsigned_body", unsigned, _UNSIGNED_VARS)
    event_id_header = t.text("event_id_header")
    t.done()
    return WebhookSpec(
        path=path,
        scheme=scheme,
        secret_env=secret_env,
        accepted_status=accepted,
        rejection=rejection,
        unsigned_body=unsigned,
        event_id_header=event_id_header,
    )


def _upgrade(t: _Table | None) -> UpgradeSpec | None:
    if t is None:
        return None
    plan = t.text("plan", _REQUIRED)
    plan_id_env = t.text("plan_id_env")
    tier_path = t.text("tier_path", _REQUIRED)
    _check_vars(t, "tier_path", tier_path, _PATH_VARS)
    tier_field = t.text("tier_field", _REQUIRED)
    event = t.mapping("event", _REQUIRED)
    _check_vars(t, "the event template", event, _EVENT_VARS)
    unknown_plan = tuple(_expected(u) for u in t.tables("unknown_plan"))
    t.done()
    return UpgradeSpec(
        plan=plan,
        plan_id_env=plan_id_env,
        tier_path=tier_path,
        tier_field=tier_field,
        event=event,
        unknown_plan=unknown_plan,
    )


def parse_profile(text: str, *, source: str) -> Profile:
    """Parse and check a profile's TOML text; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {source}: not valid TOML: {exc}") from exc
    root = _Table(data, "", source)
    auth_table = root.table("auth", required=False)
    auth = AuthSpec()
    if auth_table is not None:
        auth = AuthSpec(
            token_env=auth_table.text("token_env"), required=auth_table.flag("required", False)
        )
        auth_table.done()
        if auth.required and not auth.token_env:
            raise auth_table.error("`required = true` needs `token_env`")
    account = root.table("account", required=False)
    account_id_env = None
    if account is not None:
        account_id_env = account.text("id_env")
        account.done()

    def request(key: str, method: str) -> RequestTemplate:
        table = root.table(key)
        assert table is not None
        return _request(table, default_method=method, authed_default=auth.required)

    profile = Profile(
        name=root.text("name", _REQUIRED),
        description=root.text("description", ""),
        auth=auth,
        budgets_seconds=_budgets(root.table("budgets", required=False)),
        dormant=tuple(_expected(t) for t in root.tables("dormant")),
        account_id_env=account_id_env,
        cohort=_cohort(root.table("cohort", required=False)),
        checkout=request("checkout", "POST"),
        billing=request("billing", "GET"),
        invoices=request("invoices", "GET"),
        webhook=_webhook(_must(root.table("webhook"))),
        upgrade=_upgrade(root.table("upgrade", required=False)),
        gate=_gate(root.table("gate", required=False)),
    )
    root.done()
    if profile.needs_run_account and profile.cohort is None and not account_id_env:
        raise root.error(
            "a reachability leg uses {account_id} but there is no [cohort] to mint one "
            "and no [account] id_env to name one"
        )
    return profile


def _gate(table: _Table | None) -> GateSpec | None:
    return parse_gate(table) if table is not None else None


def _must(table: _Table | None) -> _Table:
    assert table is not None  # required=True tables are never None
    return table


def shipped_profiles() -> tuple[str, ...]:
    """The names of the profiles shipped inside the package."""
    folder = resources.files(__package__).joinpath("profiles")
    return tuple(
        sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))
    )


def load_profile(spec: str | Path = DEFAULT_PROFILE) -> Profile:
    """A shipped profile by name (`reference`, `razorpay-subscriptions`) or a TOML file by path."""
    if isinstance(spec, Path) or spec.endswith(".toml") or "/" in spec:
        path = Path(spec)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UnknownProfile(f"cannot read profile file {path}: {exc.strerror}") from exc
        return parse_profile(text, source=str(path))
    if spec not in shipped_profiles():
        raise UnknownProfile(
            f"no shipped profile {spec!r}; shipped: {', '.join(shipped_profiles())} "
            "(or give a path to a .toml file)"
        )
    resource = resources.files(__package__).joinpath("profiles").joinpath(f"{spec}.toml")
    return parse_profile(resource.read_text(encoding="utf-8"), source=spec)
