"""stateful: random sequences of every operation, compared with an independent model after every step.

The model (:mod:`harness.suites.model`) is the payments contract written as pure Python over integer
micro-USD, with no import of the reference service. A hypothesis `RuleBasedStateMachine` signs up accounts,
tops up on every rail through the fakes (Stripe bank transfers delivered now or held, Xendit invoices paid,
x402 payments settled), sends processor events of every type (credits, failures, refunds, expiries,
cancellations) validly signed, unsigned, forged or malformed, again and out of order, records outcomes and
charges them at the edges of the balance and of the margin clamp, runs paid usage sessions, subscribes and
cancels through the processors, adjusts balances as an admin and reconciles. After every step it reads every
account back: balance, lifetime paid, tier and every ledger entry must be what the model says, and
`balance == sum(ledger) >= 0`.

A failure is shrunk to a minimal sequence and printed as Python steps (`state.charge(...)`), each request
under it as a curl line (replace `http://reference.payharness` with a served reference's URL to replay it).
`--payments-seed` fixes the sequences; `--payments-examples` sets how many; `--payments-depth` how long.
"""

from __future__ import annotations

from harness.suites import _fixtures
from harness.suites._processors import Processors
from harness.suites._support import Api
from harness.suites.model.machine import run
from harness.suites.model.observe import probe_clamp
from harness.suites.plugin import PaymentsOptions

# the live suites' shared fixtures (harness/suites/_fixtures.py)
api = _fixtures.api
processors = _fixtures.processors

#: Sequences per `--payments-examples`: a sequence is cheap next to a schemathesis case, and the default
#: (10 x 2 sequences of up to 20 steps) keeps this suite near ten seconds in the gate.
EXAMPLES_PER_EXAMPLE = 2


def test_random_sequences_agree_with_the_model_of_the_contract(
    api: Api, processors: Processors, payments_options: PaymentsOptions
) -> None:
    """Every answer, balance, ledger entry, lifetime paid and tier, after every step, as the model says."""
    for rail in ("stripe", "xendit", "cdp"):
        processors.handle(rail)  # a target without a rail's fake skips here, saying which
    run(
        api,
        processors,
        probe_clamp(api),
        seed_value=payments_options.seed,
        examples=payments_options.examples * EXAMPLES_PER_EXAMPLE,
        depth=payments_options.depth,
    )
