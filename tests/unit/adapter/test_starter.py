"""`payharness init`'s starter profile: the obvious routes guessed, every other value a gap the loader refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples.acme_billing import create_app, settings_from_env
from harness.adapter.starter import starter_profile
from harness.prober import ProfileError, load_profile


def test_the_starter_guesses_acmes_routes_and_refuses_to_load_until_its_gaps_are_filled(
    tmp_path: Path,
) -> None:
    document = create_app(settings_from_env({"ACME_DATABASE": str(tmp_path / "a.db")})).openapi()
    text = starter_profile(document, name="acme")
    for guessed in (
        'create_path = "/api/v1/users"',
        'path = "/api/v1/users/{account_id}/credits"',
        'path = "/api/v1/usage/charge"',
        'path = "/api/v1/credits/purchase"',
        'stripe = "/webhooks/stripe"',
        'xendit = "/webhooks/xendit"',
    ):
        assert guessed in text
    path = tmp_path / "starter.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match=r"`cohort\.id_field` is a gap the starter left"):
        load_profile(path)
