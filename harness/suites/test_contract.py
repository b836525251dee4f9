"""The contract suite: the target serves the pinned contract exactly, and honours it for generated input.

1. **Exact match**: the served `/openapi.json` equals `contracts/payments.openapi.json` up to formatting; a
   difference fails with one line per place (``POST /v1/charges: responses.402 missing in served``).
2. **Schemathesis stage**: every operation of the *pinned* contract (not the served one: a target must not
   pass by serving a looser document) is driven with generated requests, with all of schemathesis's default
   checks plus ours (:mod:`harness.suites.checks`): every 4xx/5xx body has the error shape, and no input
   causes a 5xx. One test per operation; `--payments-examples` and `--payments-seed` replay a failure.
   A dormant target answers its money routes 503 `payments_not_live`, as the contract says it must: that
   answer is not a server error (every other 5xx still is).
3. **Negative stage**: the same operations driven with generated requests that violate the contract
   (wrong types, missing required fields, out-of-range numbers, malformed parameters and headers:
   schemathesis's negative mode). Each must be refused with a 4xx in the error shape, never served
   (schemathesis's `negative_data_rejection`) and never a 5xx.

Through a contract adapter (`--profile` with `[gate]`), a case the service's profile rules out (`501
not_applicable`: a capability it lacks, an amount its money cannot hold) is not judged; an operation none of
whose cases could be judged is *not applicable*, with the profile's reason (harness.suites._ruled_out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig

from harness.contract import check_contract, fetch_served, pinned_contract
from harness.suites._ruled_out import CASES, CaseTally
from harness.suites.checks import CONTRACT_CHECKS, no_server_error
from harness.suites.http_bridge import requests_session
from harness.suites.plugin import PaymentsOptions
from harness.target import Target


def test_served_contract_is_exactly_the_pinned_contract(target: Target) -> None:
    """A target that adds, drops or changes anything in its API contract fails, saying where."""
    with target.client() as client:
        served = fetch_served(client)
    result = check_contract(served)
    assert result.matches, (
        f"{target.name} does not serve the pinned contract "
        f"(contracts/payments.openapi.json).\n{result.report()}"
    )


#: Schema-valid requests a payments API still refuses for reasons JSON Schema cannot state: an x402
#: credential that does not verify (400 `invalid_payment`), a wallet without credit (402), a Stripe amount in
#: fractions of a cent (422). schemathesis's default list plus those; each refusal is still held to its
#: documented status, error shape and error-code enum by the other checks.
POSITIVE_DATA_STATUSES = [
    "2xx",
    "3xx",
    "400",
    "401",
    "402",
    "403",
    "404",
    "409",
    "422",
    "429",
    "5xx",
]


#: What a refusal of input that breaks the contract may answer: schemathesis's default list (400, 401, 403,
#: 404, 406, 422, 428) plus 402 (a check a route makes before it reads the body: no credit), 405, 409,
#: 413, 415 and 431 (limits on size, media type and headers).
NEGATIVE_DATA_STATUSES = [
    "400",
    "401",
    "402",
    "403",
    "404",
    "405",
    "406",
    "409",
    "413",
    "415",
    "422",
    "428",
    "431",
]


def _pinned_schema(payments_options: PaymentsOptions, mode: str) -> Any:
    """The pinned contract as a schemathesis schema generating in `mode` with the run's examples and seed."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": payments_options.seed,
            # no example database: a run is replayed from its seed alone and writes nothing to the cwd
            "generation": {
                "mode": mode,
                "max-examples": payments_options.examples,
                "database": "none",
            },
            "checks": {
                "positive_data_acceptance": {"expected-statuses": POSITIVE_DATA_STATUSES},
                "negative_data_rejection": {"expected-statuses": NEGATIVE_DATA_STATUSES},
            },
        }
    )
    return schemathesis.openapi.from_dict(pinned_contract(), config=config)


@pytest.fixture
def contract_schema(payments_options: PaymentsOptions) -> Any:
    """The pinned contract as a schemathesis schema, generating valid input."""
    return _pinned_schema(payments_options, "positive")


@pytest.fixture
def negative_contract_schema(payments_options: PaymentsOptions) -> Any:
    """The pinned contract as a schemathesis schema, generating input that breaks it."""
    return _pinned_schema(payments_options, "negative")


@pytest.fixture(scope="module")
def target_session(target: Target) -> Iterator[requests.Session]:
    """A `requests` session (what schemathesis sends with) over the target's own HTTP client."""
    client = target.client()
    session = requests_session(client)
    try:
        yield session
    finally:
        session.close()
        client.close()


@pytest.fixture
def count_case(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """Counts a test's generated cases per operation. The totals become the test's JUnit properties
    `generated_cases` and `generated_negative_cases` (cases that broke the contract on purpose); the
    report sums them over the run. Per test, not per session: under xdist only a test's own properties
    reach the controller's report."""
    counts: Counter[str] = Counter()
    yield counts
    negative = sum(n for label, n in counts.items() if label.startswith(NEGATIVE_LABEL))
    request.node.user_properties.append(("generated_cases", sum(counts.values())))
    request.node.user_properties.append(("generated_negative_cases", negative))


@pytest.fixture
def cases(request: pytest.FixtureRequest) -> Iterator[CaseTally]:
    """The test's tally of judged and ruled-out cases (harness.suites._ruled_out); ruled-out cases
    become the JUnit property `ruled_out_cases`."""
    tally = CaseTally()
    request.node.stash[CASES] = tally
    yield tally
    if tally.ruled_out():
        request.node.user_properties.append(("ruled_out_cases", tally.ruled_out()))


def _call_and_judge(
    case: Any,
    target: Target,
    session: requests.Session,
    cases: CaseTally,
    *,
    negative: bool = False,
) -> None:
    """Send `case`; judge its answer with every check unless the target's profile rules the case out."""
    __tracebackhide__ = True
    response = case.call(base_url=target.base_url, session=session)
    if cases.rule_out(case.operation.label, response):
        return
    checks, excluded = _checks_for(target, negative=negative)
    case.validate_response(
        response,
        additional_checks=checks,
        excluded_checks=excluded,
        transport_kwargs={"base_url": target.base_url, "session": session},
    )
    cases.judged(case.operation.label)


contract = schemathesis.pytest.from_fixture("contract_schema")


@contract.parametrize()
def test_operation_honours_the_pinned_contract(
    case: Any,
    target: Target,
    target_session: requests.Session,
    count_case: Counter[str],
    cases: CaseTally,
) -> None:
    """Generated requests get answers the pinned contract allows, errors in shape, and never a 5xx."""
    count_case[case.operation.label] += 1
    _call_and_judge(case, target, target_session, cases)


def _checks_for(target: Target, *, negative: bool = False) -> tuple[list[Any], list[Any]]:
    """The checks to add and to leave out: a dormant target's 503 `payments_not_live` is no server error,
    and (for contract-breaking input) a refusal as good as a 4xx."""
    if target.capabilities.live:
        return list(CONTRACT_CHECKS), []
    checks = [dormant_aware if c is no_server_error else c for c in CONTRACT_CHECKS]
    excluded = [schemathesis.checks.not_a_server_error]
    if negative:
        checks.append(dormant_rejection)
        excluded.append(schemathesis.checks.negative_data_rejection)
    return checks, excluded


def _not_live(response: Any) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("code") == "payments_not_live"


def dormant_rejection(ctx: Any, response: Any, case: Any) -> bool | None:
    """`negative_data_rejection` for a dormant target: `503 payments_not_live` refuses the input too."""
    if response.status_code == 503 and _not_live(response):
        return None
    verdict: bool | None = schemathesis.checks.negative_data_rejection(ctx, response, case)
    return verdict


def dormant_aware(ctx: Any, response: Any, case: Any) -> bool | None:
    """`no_server_error` for a dormant target: its documented 503 `payments_not_live` is the answer."""
    if response.status_code == 503:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") == "payments_not_live":
            return None
    return no_server_error(ctx, response, case)


NEGATIVE_LABEL = "negative "
_UNCONSTRAINING = frozenset({"type", "title", "description"})


def _free_text(schema: dict[str, Any]) -> bool:
    """A schema every string satisfies (optionally null too): nothing in it can be violated in a header,
    query or path, where every value arrives as a string."""
    if "anyOf" in schema:
        rest = set(schema) - {"anyOf"}
        options = schema["anyOf"]
        return rest <= _UNCONSTRAINING and all(
            o.get("type") == "null" or _free_text(o) for o in options
        )
    return schema.get("type") == "string" and set(schema) <= _UNCONSTRAINING


def _takes_breakable_input(ctx: Any) -> bool:
    """An operation with a body, a constrained parameter or a required header or query parameter;
    without any, there is no request that breaks the contract to generate (schemathesis says so)."""
    definition = ctx.operation.definition.raw
    if definition.get("requestBody"):
        return True
    return any(
        not _free_text(p.get("schema") or {}) or (p.get("required") and p.get("in") != "path")
        for p in definition.get("parameters", [])
    )


negative_contract = schemathesis.pytest.from_fixture("negative_contract_schema").include(
    _takes_breakable_input
)


@negative_contract.parametrize()
def test_operation_refuses_input_that_breaks_the_contract(
    case: Any,
    target: Target,
    target_session: requests.Session,
    count_case: Counter[str],
    cases: CaseTally,
) -> None:
    """Generated requests that violate the contract are refused with a 4xx in the error shape, never
    served, and never a 5xx."""
    count_case[f"{NEGATIVE_LABEL}{case.operation.label}"] += 1
    _call_and_judge(case, target, target_session, cases, negative=True)
