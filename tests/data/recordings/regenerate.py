"""Regenerate the sample recordings in this folder from the fakes' own webhook deliveries.

    python tests/data/recordings/regenerate.py            # rewrites the files next to this script
    python tests/data/recordings/regenerate.py OUT_DIR    # writes them elsewhere

Everything runs in process on a fixed clock and fixed seeds: the fake Stripe, Xendit and CDP send
their real deliveries through `harness.replay.Recorder` (as ``payharness record`` would capture them)
to a sink that accepts everything. The other files are the same deliveries in each importer's source
format, with the bodies' bytes unchanged. There is no Razorpay fake, so ``razorpay-webhooks.jsonl`` is
signed here with `fakes.signing.RazorpaySigner` around Razorpay's documented sample envelope.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from fakes.cdp import CdpConfig
from fakes.cdp import create_app as cdp_fake
from fakes.cdp.payer import X402Payer
from fakes.signing import RazorpaySigner
from fakes.stripe import StripeConfig
from fakes.stripe import create_app as stripe_fake
from fakes.xendit import XenditConfig
from fakes.xendit import create_app as xendit_fake
from harness.replay import Delivery, Recorder, RecorderConfig, read_recording
from harness.replay.recording import delivery_to_json

NOW = 1_763_719_200.0  # 2025-11-21T10:00:00Z
RECORDER = "http://recorder.test"
CANONICAL = "fakes-deliveries.jsonl"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"


def clock() -> float:
    """The fixed clock every fake and the recorder read."""
    return NOW


async def _sink(scope: Any, receive: Any, send: Any) -> None:
    """The service behind the recorder: accepts every delivery."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"status":"applied"}'})


async def _record(out: Path) -> None:
    target = out / CANONICAL
    target.unlink(missing_ok=True)
    recorder = Recorder(
        RecorderConfig(
            forward_to="http://service.test",
            out=target,
            transport=httpx.ASGITransport(app=_sink),
            now=clock,
        )
    )
    deliver = httpx.ASGITransport(app=recorder)

    stripe = stripe_fake(
        StripeConfig(
            now=clock,
            seed=7,
            webhook_urls=(f"{RECORDER}/v1/payments/webhook/stripe",),
            delivery_transport=deliver,
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stripe),
        base_url="http://stripe.test",
        auth=("sk_test_payharness", ""),
    ) as api:
        for n, cents in ((1, 2_500), (2, 10_000)):
            customer = (
                await api.post("/v1/customers", data={"email": f"payer{n}@example.test"})
            ).json()["id"]
            stripe.fund_cash_balance(customer, cents, "usd")
            await stripe.processor.webhooks.drain()

    xendit = xendit_fake(
        XenditConfig(
            now=clock,
            webhook_urls=(f"{RECORDER}/v1/payments/webhook/xendit",),
            delivery_transport=deliver,
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=xendit),
        base_url="http://xendit.test",
        auth=(xendit.config.secret_key, ""),
    ) as api:
        invoice = await api.post(
            "/v2/invoices", json={"external_id": "top_sample_1", "amount": 12.5, "currency": "USD"}
        )
        xendit.pay_invoice(invoice.json()["id"])
        await xendit.processor.webhooks.drain()

    cdp = cdp_fake(
        CdpConfig(
            now=clock,
            webhook_urls=(f"{RECORDER}/v1/payments/webhook/cdp",),
            delivery_transport=deliver,
        )
    )
    payer = X402Payer(private_key=cdp.config.funded_accounts[0].private_key, now=clock)
    requirements = {
        "scheme": "exact",
        "network": "base-sepolia",
        "maxAmountRequired": "250000",
        "resource": "https://api.example.test/v1/payments/topup/cdp/top_sample_2/pay",
        "description": "top-up",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "asset": USDC,
        "extra": {"name": "USDC", "version": "2"},
    }
    payment = payer.payment_payload(requirements, nonce="0x" + "5a" * 32)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=cdp), base_url="http://cdp.test"
    ) as api:
        settled = await api.post(
            "/settle",
            json={"x402Version": 1, "paymentPayload": payment, "paymentRequirements": requirements},
        )
        assert settled.json()["success"], settled.text
        await cdp.webhooks.drain()
    await recorder.aclose()


def _bodies(deliveries: tuple[Delivery, ...], rail: str) -> list[bytes]:
    return [d.body for d in deliveries if d.rail == rail]


def _array(bodies: list[bytes]) -> bytes:
    return b"[\n" + b",\n".join(bodies) + b"\n]\n"


def _har(deliveries: tuple[Delivery, ...]) -> bytes:
    entries: list[dict[str, Any]] = [
        {
            "startedDateTime": "2025-11-21T09:59:59.000Z",
            "request": {"method": "GET", "url": "https://api.example.test/healthz", "headers": []},
            "response": {"status": 200},
        }
    ]
    for d in deliveries:
        entries.append(
            {
                "startedDateTime": d.received_at.replace("000Z", "Z"),
                "request": {
                    "method": "POST",
                    "url": f"https://api.example.test{d.path}",
                    "headers": [{"name": k, "value": v} for k, v in d.headers],
                    "postData": {"mimeType": "application/json", "text": d.body.decode()},
                },
                "response": {"status": 200},
            }
        )
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "payharness regenerate.py", "version": "1"},
            "entries": entries,
        }
    }
    return (json.dumps(har, indent=2, ensure_ascii=False) + "\n").encode()


def _razorpay() -> bytes:
    # Razorpay's subscription.charged sample (PROCESSORS.md 4, RZP-SUB), trimmed; no fake sends these.
    signer = RazorpaySigner("rzp_webhook_secret")
    lines = []
    for n, (event_id, amount) in enumerate(
        (("IilTXnlG6MDGhb", 6000), ("IilTXnlG6MDGhc", 9900)), start=1
    ):
        envelope = (
            '{"entity":"event","account_id":"acc_FzO2PyLE5ZYkW8","event":"subscription.charged",'
            '"contains":["subscription","payment"],"payload":{"payment":{"entity":{"id":"pay_sample'
            f'{n}","entity":"payment","amount":{amount},"currency":"INR","status":"captured",'
            '"captured":"1"}}},"created_at":1641976178}'
        )
        headers = {"content-type": "application/json"} | signer.sign(
            envelope.encode(), event_id=event_id
        )
        lines.append(json.dumps({"headers": headers, "body": envelope}, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def _malformed(deliveries: tuple[Delivery, ...]) -> bytes:
    good = [
        json.dumps(delivery_to_json(d), ensure_ascii=False, separators=(",", ":"))
        for d in deliveries[:3]
    ]
    lines = [
        good[0],
        '{"version": 1, "rail": "stripe"',
        good[1],
        '{"version": 2, "rail": "stripe"}',
        good[2],
    ]
    return ("\n".join(lines) + "\n").encode()


def regenerate(out: Path) -> list[Path]:
    """Write every sample into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(_record(out))
    deliveries = read_recording(out / CANONICAL).deliveries
    stripe = _bodies(deliveries, "stripe")
    files = {
        "stripe-events.json": _array(stripe),
        "stripe-events.jsonl": b"".join(
            json.dumps(json.loads(b), separators=(",", ":")).encode() + b"\n" for b in stripe
        ),
        "xendit-callbacks.json": _array(_bodies(deliveries, "xendit")),
        "cdp-webhooks.json": _array(_bodies(deliveries, "cdp")),
        "razorpay-webhooks.jsonl": _razorpay(),
        "deliveries.har": _har(deliveries),
        "malformed.jsonl": _malformed(deliveries),
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    return [out / CANONICAL, *(out / name for name in files)]


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    for path in regenerate(folder):
        print(path)
