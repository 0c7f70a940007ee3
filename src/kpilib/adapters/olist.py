"""Olist Brazilian E-Commerce (Kaggle ``olistbr/brazilian-ecommerce``) → the data contract.

Mapping (every choice, and what stays absent):

- **Time zone.** Olist timestamps are naive local times of Brazil; they are read as
  ``America/Sao_Paulo`` and stored in UTC. Customers' ship-to zone is the same. Brazil kept
  DST until 2019: a time in the hour repeated in February is read as its first occurrence,
  one in the hour skipped in October/November (midnight) as the first valid instant
  (``common.localize``; 5 values of the 15k sample are in a repeated hour).
- **orders**: one per Olist order. ``channel = "marketplace"`` (Olist is a marketplace),
  ``order_type = "standard"``, ``is_test = False``, ``currency = "BRL"``, ``created_at`` =
  ``order_purchase_timestamp``. ``authorized_at`` stays **null**: Olist's
  ``order_approved_at`` is the marketplace's payment approval, which we model as the release
  to the seller (below), so cycle time (A11) starts at purchase (fallback ``created_at``) and
  release time (A12) measures purchase → approval. ``merchandise_amount`` = Σ item price,
  ``shipping_amount_charged`` = Σ ``freight_value`` (freight *charged to the customer*).
- **Cancellations.** Status ``canceled``: the order is cancelled, initiator unknown (null);
  its lines' quantity is recorded as ``qty_cancelled_customer`` (no longer required), so a
  cancelled order leaves the perfect-order population instead of counting as a failure;
  except when the order was already handed to the carrier (11 orders of the 15k sample):
  nothing was cancelled before shipment, so the lines keep ``qty_cancelled_customer = 0``.
  Status ``unavailable`` (the seller could not supply): ``cancel_initiator = "merchant"``,
  ``cancel_reason = "stockout"``, lines ``qty_cancelled_merchant`` — a fulfilment failure.
  Olist has no cancellation time: ``cancelled_at`` is the last timestamp recorded for the
  order (a lower bound; a cancelled order never shipped after it in this data).
- **order_lines**: one per item row (each row is one unit): ``sku = product_id``,
  ``qty_ordered = 1``, ``unit_price = price``, ``assigned_node_id = seller_id``,
  ``planned_ship_by_at = shipping_limit_date``, ``promised_delivery_at_original =
  order_estimated_delivery_date`` with ``promise_is_date = True`` (a date promise: the
  deadline is the end of that day in São Paulo).
- **nodes**: one per seller (``node_type = "supplier"``, ``fulfillment_model = "dropship"``:
  sellers ship their own items), time zone São Paulo. The seller is the fulfilling node.
- **shipments**: one per (order, seller); Olist records one carrier hand-off and one delivery
  per order, so every seller's parcel of an order gets those times. ``shipped_at =
  order_delivered_carrier_date``, ``delivered_at = order_delivered_customer_date``, status
  ``delivered`` / ``in_transit`` from which of these exist; a slice not yet handed to the
  carrier has no shipment row (no parcel, no units shipped). ``created_at`` =
  approval (else purchase). ``parcel_cost`` stays null: freight charged to the customer is
  not the carrier's cost, so parcel cost % of revenue (B8) is not computed.
- **order_events**: ``released_to_node`` per (order, seller) at ``order_approved_at``.
- **Absent** (KPIs needing them say ``unavailable``): products (no unit cost or stocking
  policy; categories therefore unused), inventory tables, pick tasks, waves, labour,
  capacity, costs, receipts, returns, exceptions, forecasts (use ``kpilib.forecast.backtest``),
  documentation defects and damage claims (so A4/A5 see no evidence: perfect order ≈ OTIF).
  Reviews and payments are not mapped.
- **Rejected rows**: orders whose rows break the contract (e.g. handed to the carrier before
  the purchase) are set aside whole and counted by rule (see ``ImportResult.report``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kpilib.adapters.common import (
    ImportResult,
    localize,
    reject_by_contract,
    require_columns,
    table_frame,
)

TZ = "America/Sao_Paulo"
FILES = {"orders": "olist_orders_dataset.csv", "items": "olist_order_items_dataset.csv"}
COLUMNS = {
    "orders": ("order_id", "order_status", "order_purchase_timestamp", "order_approved_at",
               "order_delivered_carrier_date", "order_delivered_customer_date",
               "order_estimated_delivery_date"),
    "items": ("order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date",
              "price", "freight_value"),
}


def read(src: str | Path) -> dict[str, pd.DataFrame]:
    """Read the Olist CSVs the adapter needs from folder ``src``."""
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such folder")
    missing = [f for f in FILES.values() if not (src / f).exists()]
    if missing:
        raise FileNotFoundError(f"{src}: not an Olist folder, missing {missing}")
    raw = {k: pd.read_csv(src / f, dtype=str) for k, f in FILES.items()}
    for k, f in FILES.items():
        require_columns(raw[k], COLUMNS[k], f"{src / f} (not an Olist file?)")
    return raw


def convert(raw: dict[str, pd.DataFrame]) -> ImportResult:
    """Map raw Olist frames to contract tables (module doc), then apply the contract."""
    o, items = raw["orders"].copy(), raw["items"].copy()
    for c in ("order_purchase_timestamp", "order_approved_at", "order_delivered_carrier_date",
              "order_delivered_customer_date"):
        o[c] = localize(o[c], TZ)
    est = o["order_estimated_delivery_date"].str[:10]  # a date (the source writes 00:00:00)
    o["promise"] = localize(est, TZ)  # midnight may not exist on a DST-start day: 01:00
    items["price"] = items["price"].astype(float)
    items["freight_value"] = items["freight_value"].astype(float)
    items["shipping_limit_date"] = localize(items["shipping_limit_date"], TZ)
    status = o["order_status"]
    cancelled = status.isin(["canceled", "unavailable"])
    last_seen = o[["order_purchase_timestamp", "order_approved_at",
                   "order_delivered_carrier_date"]].max(axis=1)
    sums = items.groupby("order_id")[["price", "freight_value"]].sum()
    orders = table_frame("orders", {
        "order_id": o["order_id"], "channel": "marketplace", "order_type": "standard",
        "is_test": False, "created_at": o["order_purchase_timestamp"],
        "ship_to_timezone": TZ, "currency": "BRL",
        "merchandise_amount": o["order_id"].map(sums["price"]),
        "shipping_amount_charged": o["order_id"].map(sums["freight_value"]),
        "cancelled_at": last_seen.where(cancelled),
        "cancel_initiator": np.where(status.eq("unavailable"), "merchant", None),
        "cancel_reason": np.where(status.eq("unavailable"), "stockout", None),
    })
    it = items.merge(o[["order_id", "order_status", "order_purchase_timestamp", "promise",
                        "order_delivered_carrier_date"]], on="order_id", how="inner")
    # a cancellation after the carrier hand-off cancelled no unit before shipment
    before_handoff = it["order_delivered_carrier_date"].isna()
    lines = table_frame("order_lines", {
        "order_line_id": it["order_id"] + "-" + it["order_item_id"],
        "order_id": it["order_id"], "sku": it["product_id"],
        "created_at": it["order_purchase_timestamp"], "qty_ordered": 1.0,
        "qty_cancelled_customer": (it["order_status"].eq("canceled") & before_handoff)
        .astype(float),
        "qty_cancelled_merchant": it["order_status"].eq("unavailable").astype(float),
        "assigned_node_id": it["seller_id"],
        "promised_delivery_at_original": it["promise"], "promise_is_date": True,
        "planned_ship_by_at": it["shipping_limit_date"], "unit_price": it["price"],
    })
    nodes = table_frame("nodes", {
        "node_id": pd.Series(sorted(items["seller_id"].unique())), "node_type": "supplier",
        "fulfillment_model": "dropship", "timezone": TZ})
    result = ImportResult("olist", {"orders": orders, "order_lines": lines, "nodes": nodes})
    result.tables.update(_shipments(o, it))
    result.set_aside("olist_order_items_dataset", "order_not_in_orders_file",
                     len(items) - len(it))
    result.notes.update({
        "products": "no unit cost or stocking policy in Olist",
        "inventory_movements, inventory_snapshots, inventory_counts": "no stock data",
        "pick_tasks, waves, labor_hours, node_capacity_daily": "no warehouse data",
        "fulfillment_costs, parcel_cost": "no cost data (freight is charged to customers)",
        "receipts, returns, exceptions, replenishment_recommendations": "not in Olist",
        "forecasts": "none; use kpilib.forecast.backtest",
    })
    return reject_by_contract(result)


def _shipments(o: pd.DataFrame, it: pd.DataFrame) -> dict[str, pd.DataFrame]:
    live = it.loc[~it["order_status"].isin(["canceled", "unavailable"])
                  | it["order_id"].isin(o.loc[o["order_delivered_carrier_date"].notna(),
                                              "order_id"])]
    slices = live[["order_id", "seller_id"]].drop_duplicates().merge(
        o[["order_id", "order_purchase_timestamp", "order_approved_at",
           "order_delivered_carrier_date", "order_delivered_customer_date"]], on="order_id")
    shipped = slices["order_delivered_carrier_date"]
    delivered = slices["order_delivered_customer_date"]
    status = np.select([delivered.notna(), shipped.notna()], ["delivered", "in_transit"],
                       default="pending")
    slices["shipment_id"] = slices["order_id"] + "-" + slices["seller_id"]
    shipments = table_frame("shipments", {
        "shipment_id": slices["shipment_id"], "order_id": slices["order_id"],
        "node_id": slices["seller_id"],
        "created_at": slices["order_approved_at"].fillna(slices["order_purchase_timestamp"]),
        "shipped_at": shipped, "delivered_at": delivered, "delivery_status": status,
    })
    sl = live.assign(shipment_id=live["order_id"] + "-" + live["seller_id"],
                     order_line_id=live["order_id"] + "-" + live["order_item_id"])
    shipment_lines = table_frame("shipment_lines", {
        "shipment_id": sl["shipment_id"], "order_line_id": sl["order_line_id"],
        "qty_shipped": 1.0})
    shipment_lines = shipment_lines.loc[sl["order_id"].isin(
        slices.loc[shipped.notna(), "order_id"]).to_numpy()].reset_index(drop=True)
    # a slice not handed to the carrier yet has no parcel and no units shipped: no shipment row
    shipments = shipments.loc[shipped.notna().to_numpy()].reset_index(drop=True)
    rel = slices.loc[slices["order_approved_at"].notna()]
    events = table_frame("order_events", {
        "event_id": "REL-" + rel["shipment_id"], "order_id": rel["order_id"],
        "node_id": rel["seller_id"], "event_type": "released_to_node",
        "event_at": rel["order_approved_at"], "actor_type": "system"})
    return {"shipments": shipments, "shipment_lines": shipment_lines, "order_events": events}


