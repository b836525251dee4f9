"""The router matches static and templated paths without regexes on the request path."""

from __future__ import annotations

from fakes._common import FakeRequest, FakeResponse, Route, Router


async def handler(request: FakeRequest) -> FakeResponse:
    return FakeResponse(status=200)


ROUTER = Router(
    [
        Route(method="GET", template="/v1/customers", handler=handler, name="customers.list"),
        Route(
            method="GET", template="/v1/customers/{customer}", handler=handler, name="customers.get"
        ),
        Route(
            method="GET", template="/v1/customers/search", handler=handler, name="customers.search"
        ),
        Route(
            method="GET",
            template="/v1/customers/{customer}/balance_transactions/{transaction}",
            handler=handler,
            name="cbt.get",
        ),
    ]
)


def test_static_paths_win_over_templates() -> None:
    matched = ROUTER.match("GET", "/v1/customers/search")
    assert matched is not None and matched[0].name == "customers.search"


def test_templates_capture_their_parameters() -> None:
    matched = ROUTER.match("GET", "/v1/customers/cus_1/balance_transactions/cbtxn_2")
    assert matched is not None
    route, params = matched
    assert route.name == "cbt.get"
    assert params == {"customer": "cus_1", "transaction": "cbtxn_2"}


def test_wrong_method_empty_segments_and_extra_segments_do_not_match() -> None:
    assert ROUTER.match("POST", "/v1/customers/cus_1") is None
    assert ROUTER.match("GET", "/v1/customers/") is None
    assert ROUTER.match("GET", "/v1/customers/cus_1/nope") is None
