"""The /_fake/ control API gives HTTP clients the same powers as the Python handle."""

from __future__ import annotations

import httpx

from fakes._common import DeliverySettings, FakeApp, Fault
from fakes._common.echo import EchoProcessor, create_echo_app

AUTH = {"authorization": "Bearer echo-token"}


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        return httpx.Response(200)


def client_for(app: FakeApp[EchoProcessor]) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://fake.test", headers=AUTH
    )


async def test_journal_lists_processor_calls_but_never_control_calls() -> None:
    app = create_echo_app()
    async with client_for(app) as client:
        await client.get("/v1/things/a", params={"x": "1"})
        await client.post("/v1/things", content=b"\xff", headers={"idempotency-key": "k1"})
        await client.get("/v1/unknown")
        journal = (await client.get("/_fake/journal")).json()
        posts = (await client.get("/_fake/journal", params={"method": "POST"})).json()

    assert [(e["method"], e["path"], e["status"]) for e in journal] == [
        ("GET", "/v1/things/a", 200),
        ("POST", "/v1/things", 200),
        ("GET", "/v1/unknown", 404),
    ]
    assert journal[0]["query"] == "x=1" and journal[0]["route"] == "things.get"
    assert posts[0]["idempotency_key"] == "k1"
    assert (posts[0]["body"], posts[0]["body_encoding"]) == ("/w==", "base64")
    assert journal[2]["route"] is None


async def test_unauthenticated_calls_are_journaled_with_their_status() -> None:
    app = create_echo_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://f") as client:
        response = await client.get("/v1/things/a")
    assert response.status_code == 401
    assert [e.status for e in app.journal.entries()] == [401]


async def test_journal_can_be_cleared() -> None:
    app = create_echo_app()
    async with client_for(app) as client:
        await client.get("/v1/things/a")
        assert (await client.delete("/_fake/journal")).status_code == 200
    assert len(app.journal) == 0


async def test_faults_are_added_listed_and_removed_over_http() -> None:
    app = create_echo_app()
    async with client_for(app) as client:
        added = await client.post("/_fake/faults", json={"route": "things.get", "status": 502})
        rule_id = added.json()["id"]
        assert (await client.get("/v1/things/a")).status_code == 502
        listed = (await client.get("/_fake/faults")).json()
        assert listed == [
            {
                **listed[0],
                "id": rule_id,
                "route": "things.get",
                "status": 502,
                "matched": 1,
                "fired": 1,
            }
        ]
        assert (await client.delete(f"/_fake/faults/{rule_id}")).status_code == 200
        assert (await client.get("/v1/things/a")).status_code == 200
        missing = await client.delete(f"/_fake/faults/{rule_id}")
        await client.post("/_fake/faults", json={"status": 500})
        await client.delete("/_fake/faults")
        assert (await client.get("/v1/things/a")).status_code == 200

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_fault"


async def test_bad_control_input_gets_a_400_with_a_stable_code() -> None:
    app = create_echo_app()
    async with client_for(app) as client:
        not_json = await client.post("/_fake/faults", content=b"{nope")
        bad_rule = await client.post("/_fake/faults", json={"status": 500, "when": "later"})
        bad_mode = await client.post("/_fake/deliveries/mode", json={"mode": "sideways"})
        unknown = await client.get("/_fake/nothing")

    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "invalid_json")
    assert (bad_rule.status_code, bad_rule.json()["error"]["code"]) == (400, "invalid_argument")
    assert (bad_mode.status_code, bad_mode.json()["error"]["code"]) == (400, "invalid_argument")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_control_route")


async def test_webhook_endpoints_and_delivery_modes_are_driven_over_http() -> None:
    receiver = Receiver()
    app = create_echo_app(delivery=DeliverySettings(transport=httpx.MockTransport(receiver)))
    async with client_for(app) as client:
        endpoint = (
            await client.post("/_fake/webhook_endpoints", json={"url": "http://hooks.test/in"})
        ).json()
        assert endpoint["secret"] == "echo-secret"
        await client.post("/_fake/deliveries/mode", json={"mode": "held"})
        await client.post("/v1/things", content=b"one")
        await client.post("/v1/things", content=b"two")
        status = (await client.get("/_fake/deliveries")).json()
        assert (status["mode"], status["held"]) == ("held", ["evt_1", "evt_2"])
        released = (
            await client.post("/_fake/deliveries/release", json={"event_id": "evt_2"})
        ).json()
        drained = (await client.post("/_fake/deliveries/drain", json={"timeout": 5})).json()
        attempts = (await client.get("/_fake/deliveries")).json()["attempts"]
        listed = (await client.get("/_fake/webhook_endpoints")).json()
        removed = await client.delete(f"/_fake/webhook_endpoints/{endpoint['id']}")
        removed_again = await client.delete(f"/_fake/webhook_endpoints/{endpoint['id']}")

    assert released == {"released": 1}
    assert drained == {"in_flight": 0}
    assert receiver.bodies == [b"two"]
    assert [(a["event_id"], a["status"], a["ok"]) for a in attempts] == [("evt_2", 200, True)]
    assert [e["url"] for e in listed] == ["http://hooks.test/in"]
    assert removed.status_code == 200 and removed_again.status_code == 404


async def test_config_shows_the_processors_base_info() -> None:
    app = create_echo_app()
    async with client_for(app) as client:
        config = (await client.get("/_fake/config")).json()
    assert config == {"processor": "echo", "token": "echo-token"}


async def test_reset_clears_journal_faults_and_processor_state() -> None:
    app = create_echo_app()
    app.webhooks.add_endpoint("http://hooks.test/in")
    async with client_for(app) as client:
        await client.post("/_fake/faults", json={"status": 500, "route": "things.create"})
        await client.get("/v1/things/a")
        assert (await client.post("/_fake/reset")).json() == {"reset": True}
        after = await client.get("/v1/things/a")

    assert after.status_code == 200
    assert app.faults.rules() == {}
    assert [e.path for e in app.journal.entries()] == ["/v1/things/a"]
    assert app.webhooks.endpoints() == []


async def test_two_fakes_in_one_process_do_not_share_anything() -> None:
    first, second = create_echo_app(), create_echo_app()
    first.faults.add(Fault(status=500))
    first.webhooks.set_mode("held")
    async with client_for(first) as one, client_for(second) as two:
        assert (await one.get("/v1/things/a")).status_code == 500
        assert (await two.get("/v1/things/a")).status_code == 200
    assert len(first.journal) == 1 and len(second.journal) == 1
    assert second.webhooks.mode.value == "immediate"
