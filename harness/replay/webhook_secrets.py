"""The target's test secrets, per rail, from the environment or a secrets file (never from argv).

The secrets file holds environment lines, the same names as the environment (``STRIPE_WEBHOOK_SECRET``,
``CDP_WEBHOOK_SECRET``, ``XENDIT_CALLBACK_TOKEN``, ``RAZORPAY_WEBHOOK_SECRET``)::

    # comments and blank lines are ignored; `export ` and surrounding quotes are allowed
    export STRIPE_WEBHOOK_SECRET="whsec_..."
    XENDIT_CALLBACK_TOKEN=...

so the output of ``payharness fakes --env-only`` is a valid secrets file. Other names are ignored. A
name set in the file wins over the environment: the file is the more deliberate choice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fakes.signing import Signer, signer_for
from harness.errors import ConfigError
from harness.replay.errors import MissingWebhookSecret, UnsupportedRail
from harness.replay.rails import RAIL_SPECS

__all__ = ["WebhookSecrets", "parse_env_lines", "signers_for"]


def parse_env_lines(text: str, *, source: str = "secrets file") -> dict[str, str]:
    """``NAME=value`` lines as a dict; `ConfigError` names the first line that is not one."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.replace("_", "").isalnum():
            raise ConfigError(f"{source}:{number}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSecrets:
    """Rail → the target's test secret for it. The repr never shows a secret."""

    by_rail: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_sources(
        cls, env: Mapping[str, str], secrets_file: str | Path | None = None
    ) -> WebhookSecrets:
        """Secrets from ``env``, overridden by ``secrets_file`` when given."""
        values = {k: v for k, v in env.items() if v}
        if secrets_file is not None:
            path = Path(secrets_file)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot read secrets file {path}: {exc.strerror}") from exc
            values.update({k: v for k, v in parse_env_lines(text, source=str(path)).items() if v})
        by_rail = {
            spec.rail: values[spec.secret_env]
            for spec in RAIL_SPECS.values()
            if values.get(spec.secret_env, "").strip()
        }
        return cls(by_rail=by_rail)

    def rails(self) -> frozenset[str]:
        """The rails that have a secret."""
        return frozenset(self.by_rail)

    def require(self, rails: Iterable[str]) -> None:
        """`UnsupportedRail` or `MissingWebhookSecret` unless every rail can be signed."""
        needed = sorted(set(rails))
        unknown = [r for r in needed if r not in RAIL_SPECS]
        if unknown:
            raise UnsupportedRail(
                f"cannot re-sign rail(s) {', '.join(unknown)}; supported: {', '.join(RAIL_SPECS)}"
            )
        missing = [r for r in needed if r not in self.by_rail]
        if missing:
            names = ", ".join(f"{RAIL_SPECS[r].secret_env} ({r})" for r in missing)
            raise MissingWebhookSecret(
                f"no test secret for {names}: set it in the environment or the secrets file"
            )


def signers_for(secrets: WebhookSecrets, now: Callable[[], float]) -> dict[str, Signer]:
    """One `fakes.signing` signer per rail that has a secret, all on the clock ``now``."""
    return {
        rail: signer_for(RAIL_SPECS[rail].scheme, secret, now=now)
        for rail, secret in secrets.by_rail.items()
    }
