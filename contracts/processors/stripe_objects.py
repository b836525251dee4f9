"""Regenerates ``stripe.objects.schema.json``: JSON Schemas of the Stripe objects the fake serves.

Source: the official ``stripe`` npm package, version :data:`STRIPE_NODE_VERSION`, whose type definitions
Stripe generates from its OpenAPI spec at API version :data:`API_VERSION` (``types/apiVersion.d.ts``), the
version the fake claims. ``ts-json-schema-generator`` (a maintained converter) turns the types into JSON
Schema (``X | null`` → nullable, ``x?:`` → may be absent, string unions → enums, ``additionalProperties:
false``); :func:`prune` keeps only what the fake's objects reach, so the pinned file is small and
self-contained:

* an expandable field (``string | Stripe.Customer | null``) keeps its id form; the expanded form is only
  required to be an object with an ``id`` (the fake's expansions are checked at their own roots);
* ``event`` is the event envelope (``Stripe.EventBase``): the tests validate ``data.object`` against the
  schema named by its ``object`` member;
* descriptions are dropped.

Regenerate (needs node and network access to the npm registry)::

    python -m contracts.processors.stripe_objects
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

API_VERSION = "2025-11-17.clover"
STRIPE_NODE_VERSION = "20.0.0"
GENERATOR_VERSION = "2.4.0"
PINNED = Path(__file__).with_name("stripe.objects.schema.json")

# schema name (the objects' ``object`` member) -> the stripe-node type.
ROOTS: dict[str, str] = {
    "customer": "Stripe.Customer",
    "customer_balance_transaction": "Stripe.CustomerBalanceTransaction",
    "cash_balance": "Stripe.CashBalance",
    "customer_cash_balance_transaction": "Stripe.CustomerCashBalanceTransaction",
    "funding_instructions": "Stripe.FundingInstructions",
    "price": "Stripe.Price",
    "product": "Stripe.Product",
    "checkout.session": "Stripe.Checkout.Session",
    "subscription": "Stripe.Subscription",
    "subscription_item": "Stripe.SubscriptionItem",
    "invoice": "Stripe.Invoice",
    "line_item": "Stripe.InvoiceLineItem",
    "event": "Stripe.EventBase",
    "webhook_endpoint": "Stripe.WebhookEndpoint",
    "payment_intent": "Stripe.PaymentIntent",
    "charge": "Stripe.Charge",
    "refund": "Stripe.Refund",
    "balance": "Stripe.Balance",
    "balance_transaction": "Stripe.BalanceTransaction",
    "billing_portal.session": "Stripe.BillingPortal.Session",
    "test_helpers.test_clock": "Stripe.TestHelpers.TestClock",
    "item": "Stripe.LineItem",
    "deleted_customer": "Stripe.DeletedCustomer",
    "deleted_product": "Stripe.DeletedProduct",
    "deleted_webhook_endpoint": "Stripe.DeletedWebhookEndpoint",
    "deleted_invoice": "Stripe.DeletedInvoice",
    "invoiceitem": "Stripe.InvoiceItem",
    "deleted_test_helpers.test_clock": "Stripe.TestHelpers.DeletedTestClock",
    "payment_method": "Stripe.PaymentMethod",
    "setup_intent": "Stripe.SetupIntent",
    "dispute": "Stripe.Dispute",
    "coupon": "Stripe.Coupon",
    "deleted_coupon": "Stripe.DeletedCoupon",
    "promotion_code": "Stripe.PromotionCode",
    "discount": "Stripe.Discount",
}

_EXPANDED = {"type": "object", "required": ["id"]}


def _ref_name(ref: str) -> str:
    return ref.removeprefix("#/definitions/").replace("%3C", "<").replace("%3E", ">")


def _is_expandable(options: list[Any]) -> bool:
    return any(o == {"type": "string"} for o in options) and any("$ref" in o for o in options)


def _rewrite(node: Any, *, names: bool = False) -> Any:
    """``node`` without annotations, expandable fields reduced to their id form; ``names``: a
    ``properties`` map, whose keys are field names (``description`` is a field there)."""
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {k: _rewrite(v) for k, v in node.items()}
    out = {
        k: _rewrite(v, names=k in ("properties", "definitions"))
        for k, v in node.items()
        if k != "description"
    }
    options = out.get("anyOf")
    if isinstance(options, list) and _is_expandable(options):
        kept = [o for o in options if "$ref" not in o]
        out["anyOf"] = [*kept, _EXPANDED]
    if "$ref" in out:
        out["$ref"] = "#/definitions/" + _ref_name(out["$ref"])
    return out


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {_ref_name(node["$ref"])} if isinstance(node.get("$ref"), str) else set()
    return found.union(*(_refs(v) for v in node.values()))


def prune(raw: dict[str, Any]) -> dict[str, Any]:
    """The pinned document: one ``$ref`` per root name, and the definitions they reach."""
    source = {_ref_name(k): _rewrite(v) for k, v in raw["definitions"].items()}
    # The envelope's payload is checked against the schema its ``object`` member names.
    for part in ("Stripe.Event.Data.Object", "Stripe.Event.Data.PreviousAttributes"):
        source[part] = {"type": "object"}
    keep: dict[str, Any] = {}
    pending = list(ROOTS.values())
    while pending:
        name = pending.pop()
        if name in keep:
            continue
        keep[name] = source[name]
        pending.extend(_refs(keep[name]) - keep.keys())
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$comment": (
            f"Generated by contracts/processors/stripe_objects.py from the stripe npm package "
            f"{STRIPE_NODE_VERSION} (API version {API_VERSION}) with ts-json-schema-generator "
            f"{GENERATOR_VERSION}. Do not edit."
        ),
        "x-api-version": API_VERSION,
        "x-roots": {name: {"$ref": f"#/definitions/{ty}"} for name, ty in ROOTS.items()},
        "definitions": dict(sorted(keep.items())),
    }


def generate(workdir: Path) -> dict[str, Any]:
    """Install the pinned packages in ``workdir``, convert the types, return the raw JSON Schema."""
    subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund",
         f"stripe@{STRIPE_NODE_VERSION}", f"ts-json-schema-generator@{GENERATOR_VERSION}"],
        cwd=workdir, check=True,
    )  # fmt: skip
    lines = ["import Stripe from 'stripe';"]
    lines += [f"export type T{n} = {ty};" for n, ty in enumerate(ROOTS.values())]
    (workdir / "entry.ts").write_text("\n".join(lines) + "\n")
    (workdir / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "esModuleInterop": True, "moduleResolution": "node",
                            "skipLibCheck": True, "target": "es2020", "module": "commonjs"},
        "files": ["entry.ts"],
    }))  # fmt: skip
    out = workdir / "raw.schema.json"
    subprocess.run(
        ["npx", "ts-json-schema-generator", "--path", "entry.ts", "--tsconfig", "tsconfig.json",
         "--type", "*", "--no-type-check", "--expose", "export", "-o", str(out)],
        cwd=workdir, check=True,
    )  # fmt: skip
    raw: dict[str, Any] = json.loads(out.read_text())
    return raw


def main(argv: list[str]) -> int:
    """``[RAW_SCHEMA_JSON]``: prune an existing generator output, or generate one in a temp dir."""
    if argv:
        raw = json.loads(Path(argv[0]).read_text())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            raw = generate(Path(tmp))
    PINNED.write_text(json.dumps(prune(raw), indent=1, sort_keys=True) + "\n")
    print(f"wrote {PINNED} ({len(prune(raw)['definitions'])} definitions)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
