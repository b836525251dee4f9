"""The foreign service as the adapter sees it: one profile operation in, the results it names out.

:class:`Service` renders an operation's request from its template, sends it, and reads the results the
profile's `fields` name from the answer. A refusal comes back as :class:`ServiceRefusal` with the contract's
error code the profile maps it onto (the service's own code when the profile maps nothing). Money crosses
here in the service's unit; :class:`Money` converts it to and from the contract's micro-USD, refusing an
amount the service cannot express (a contract amount that is not a whole number of the service's unit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from harness.prober.gate_profile import OPERATIONS, GateSpec, MoneySpec
from harness.prober.templates import render_path, render_value

__all__ = ["Money", "NotRepresentable", "Service", "ServiceRefusal", "ShapeMismatch", "dotted"]

_ENV_REF = re.compile(r"\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


class ServiceRefusal(Exception):
    """The service refused an operation: its status, its own code and the contract code it maps onto."""

    def __init__(self, status: int, service_code: str, contract_code: str) -> None:
        super().__init__(f"HTTP {status} {service_code}")
        self.status, self.service_code, self.contract_code = status, service_code, contract_code


class ShapeMismatch(Exception):
    """The service's answer lacks a field the profile says it holds."""


class NotRepresentable(Exception):
    """A contract amount the service's money cannot hold (not a whole unit, or above its largest)."""


def dotted(body: Any, path: str) -> Any:
    """The value at a dotted path (`user.credits_cents`) of a JSON answer; KeyError when absent."""
    value = body
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """Conversions between the contract's micro-USD and the service's unit."""

    spec: MoneySpec

    def to_service(self, micros: int, what: str) -> int:
        """`micros` in the service's unit, or NotRepresentable saying why."""
        per = self.spec.micros_per_unit
        if micros % per:
            raise NotRepresentable(
                f"the service keeps whole {self.spec.unit}: {what} of {micros} micro-USD is not a "
                f"whole number of {self.spec.unit} ({per} micro-USD each)"
            )
        units = micros // per
        if self.spec.max_amount is not None and abs(units) > self.spec.max_amount:
            raise NotRepresentable(
                f"{what} of {units} {self.spec.unit} is above the largest amount the service takes "
                f"({self.spec.max_amount} {self.spec.unit}, per its profile)"
            )
        return units

    def to_micros(self, units: int) -> int:
        """An amount of the service's unit in micro-USD."""
        return int(units) * self.spec.micros_per_unit


def _with_env(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: env.get(m.group(1), ""), value)
    if isinstance(value, Mapping):
        return {k: _with_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_env(v, env) for v in value]
    return value


class Service:
    """The service behind the adapter, reached over HTTP with the profile's templates."""

    def __init__(self, spec: GateSpec, client: httpx.AsyncClient, env: Mapping[str, str]) -> None:
        self.spec = spec
        self.money = Money(spec.money)
        self._client = client
        self._env = {name: env.get(name, "") for name in spec.env}

    async def call(self, name: str, values: Mapping[str, Any]) -> tuple[int, Any]:
        """Send operation `name` with `values`; (status, JSON body) of a 2xx, else ServiceRefusal."""
        op = self.spec.operations[name]
        path = render_path(str(_with_env(op.path, self._env)), values)
        body = render_value(_with_env(op.body, self._env), values) if op.body is not None else None
        headers = {
            k: str(v)
            for k, v in render_value(_with_env(dict(op.headers), self._env), values).items()
            if str(v)  # an empty header (an optional idempotency key not given) is not sent
        }
        response = await self._client.request(op.method, path, json=body, headers=headers)
        return self.answer(response)

    async def raw(
        self, method: str, path: str, *, content: bytes, headers: Mapping[str, str]
    ) -> httpx.Response:
        """A request passed through unchanged (a webhook delivery, its signature intact)."""
        return await self._client.request(method, path, content=content, headers=dict(headers))

    def answer(self, response: httpx.Response) -> tuple[int, Any]:
        """(status, body) of a 2xx answer; ServiceRefusal with the mapped code otherwise."""
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if response.is_success:
            return response.status_code, body
        try:
            code = str(dotted(body, self.spec.error_field))
        except KeyError:
            code = f"http_{response.status_code}"
        raise ServiceRefusal(response.status_code, code, self.spec.errors.get(code, code))

    def result(self, name: str, body: Any, result: str, default: Any = None) -> Any:
        """The result `result` of operation `name` read from its answer (`default` when not mapped)."""
        op = self.spec.operations[name]
        field = op.fields.get(result)
        if field is None:
            return default
        try:
            return dotted(body, field)
        except KeyError:
            if result in OPERATIONS[name][2]:
                raise ShapeMismatch(
                    f"the service's answer to {name} has no `{field}` (the profile's fields.{result})"
                ) from None
            return default
