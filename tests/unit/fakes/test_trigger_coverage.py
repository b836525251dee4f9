"""``payharness trigger`` covers every event each fake can emit: one recipe per emittable event type.

Each fake declares its catalog (Stripe's ``emit`` and Xendit's ``envelope`` refuse a type outside it), a
static scan checks the literal event types in the Stripe fake's ``emit`` calls are in it, and the
integration test ``tests/integration/fakes/test_trigger_resend.py`` runs every recipe over a served fake.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fakes.stripe
from fakes.cdp.webhooks import EVENT_TYPES as CDP_EVENT_TYPES
from fakes.stripe.event_types import EVENT_TYPES as STRIPE_EVENT_TYPES
from fakes.trigger import RAILS, recipes
from fakes.xendit.events import EVENT_TYPES as XENDIT_EVENT_TYPES

EMITTABLE = {"stripe": STRIPE_EVENT_TYPES, "xendit": XENDIT_EVENT_TYPES, "cdp": CDP_EVENT_TYPES}


@pytest.mark.parametrize("rail", RAILS)
def test_every_event_type_a_fake_can_emit_has_a_trigger_recipe(rail: str) -> None:
    assert sorted(EMITTABLE[rail] - set(recipes(rail))) == []


@pytest.mark.parametrize("rail", RAILS)
def test_every_trigger_recipe_names_an_event_the_fake_can_emit(rail: str) -> None:
    assert sorted(set(recipes(rail)) - EMITTABLE[rail]) == []


def _emitted_literals(source: str) -> set[str]:
    """The string event types passed to ``<x>.emit(...)`` (directly or through a conditional)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "emit" and node.args:
            first = node.args[0]
            branches = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            found |= {b.value for b in branches if isinstance(b, ast.Constant)}
    return {value for value in found if isinstance(value, str)}


def test_the_stripe_catalog_lists_every_event_type_the_code_emits() -> None:
    package = Path(fakes.stripe.__file__).parent
    literals = set().union(*(_emitted_literals(p.read_text()) for p in package.glob("*.py")))
    assert len(literals) > 20
    assert sorted(literals - STRIPE_EVENT_TYPES) == []


def test_the_stripe_fake_refuses_to_emit_an_undeclared_event_type() -> None:
    from fakes._common import FakeError
    from fakes.stripe import create_app

    app = create_app()
    with pytest.raises(FakeError) as caught:
        app.processor.state.emit("customer.teleported", {"id": "cus_x", "object": "customer"})
    assert caught.value.code == "undeclared_event_type"
    app.webhooks.close()
