"""Trigger recipes per rail, for ``payharness trigger`` and ``POST /_fake/trigger``
(:mod:`fakes._common.triggering`).

Each recipe builds what its event needs through the fake's own public API (in process) and lets the
fake emit the event in its normal flow; nothing is posted to an endpoint by hand. Recipes never reach
into a fake's internals, so they keep working as the fakes grow.
"""

from __future__ import annotations

from collections.abc import Mapping

from fakes._common.triggering import Recipe

__all__ = ["RAILS", "recipes"]

RAILS = ("stripe", "xendit", "cdp")


def recipes(rail: str) -> Mapping[str, Recipe]:
    """``{event_type: recipe}`` of ``rail`` (empty for an unknown rail)."""
    if rail == "stripe":
        from fakes.trigger.stripe import RECIPES as stripe_recipes

        return stripe_recipes
    if rail == "xendit":
        from fakes.trigger.xendit import RECIPES as xendit_recipes

        return xendit_recipes
    if rail == "cdp":
        from fakes.trigger.cdp import RECIPES as cdp_recipes

        return cdp_recipes
    return {}
