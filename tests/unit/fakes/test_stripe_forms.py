"""Stripe's form encoding: bracket nesting, arrays and strict parameter errors."""

from __future__ import annotations

import pytest

from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import Params, decode_form, merge_metadata, parse_pairs


def decode(raw: str) -> dict[str, object]:
    return decode_form(parse_pairs(raw))


def test_nested_hashes_and_indexed_arrays_decode_like_stripe_python_encodes_them() -> None:
    form = decode(
        "mode=subscription&metadata[account_id]=acc_1&expand[0]=customer&expand[1]=invoice"
        "&line_items[0][quantity]=1&line_items[0][price_data][currency]=usd"
        "&line_items[0][price_data][recurring][interval]=month"
    )
    assert form == {
        "mode": "subscription",
        "metadata": {"account_id": "acc_1"},
        "expand": ["customer", "invoice"],
        "line_items": [
            {"quantity": "1", "price_data": {"currency": "usd", "recurring": {"interval": "month"}}}
        ],
    }


def test_empty_brackets_append_to_an_array() -> None:
    assert decode("enabled_events[]=invoice.paid&enabled_events[]=customer.created") == {
        "enabled_events": ["invoice.paid", "customer.created"]
    }


def test_array_indexes_are_ordered_numerically() -> None:
    pairs = [(f"items[{n}]", str(n)) for n in (10, 2, 1, 0)]
    assert decode_form(pairs) == {"items": ["0", "1", "2", "10"]}


def test_percent_encoded_brackets_and_blank_values_survive() -> None:
    assert decode("metadata%5Bnote%5D=a%20b&description=") == {
        "metadata": {"note": "a b"},
        "description": "",
    }


@pytest.mark.parametrize("raw", ["metadata=x&metadata[k]=v", "metadata[k]=v&metadata=x", "a[b=1"])
def test_conflicting_or_malformed_keys_are_a_400(raw: str) -> None:
    with pytest.raises(StripeApiError) as caught:
        decode(raw)
    assert caught.value.status == 400


def test_missing_required_params_use_parameter_missing() -> None:
    with pytest.raises(StripeApiError) as caught:
        Params({}).required_integer("amount")
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "amount")


def test_non_integers_use_parameter_invalid_integer() -> None:
    with pytest.raises(StripeApiError) as caught:
        Params({"amount": "12.5"}).integer("amount")
    assert (caught.value.code, caught.value.message) == (
        "parameter_invalid_integer",
        "Invalid integer: 12.5",
    )


def test_an_empty_required_value_uses_parameter_invalid_empty() -> None:
    with pytest.raises(StripeApiError) as caught:
        Params({"amount": ""}).required_integer("amount")
    assert caught.value.code == "parameter_invalid_empty"


def test_unknown_params_are_refused_with_their_full_name() -> None:
    nested = Params({"line_items": [{"colour": "red"}]}).array("line_items")
    assert nested is not None
    with pytest.raises(StripeApiError) as caught:
        Params(nested[0], prefix="line_items[0]").only(("price", "quantity"))
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "line_items[0][colour]")


def test_expand_is_always_allowed_at_the_top_level() -> None:
    params = Params({"expand": ["customer"]}).only(())
    assert params.expand() == ["customer"]


def test_currencies_are_lowercased_and_checked() -> None:
    assert Params({"currency": "USD"}).currency() == "usd"
    with pytest.raises(StripeApiError):
        Params({"currency": "dollars"}).currency()


def test_metadata_updates_merge_unset_and_clear() -> None:
    current = {"a": "1", "b": "2"}
    assert merge_metadata(current, {"b": "", "c": "3"}) == {"a": "1", "c": "3"}
    assert merge_metadata(current, {}) == {}
    assert merge_metadata(current, None) == current
