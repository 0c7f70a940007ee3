"""Tiny hand-built datasets for tests: give only the columns a test is about.

``build_dataset(orders=[{...}], order_lines=[{...}], shipments=[...], ...)`` takes one list of
dicts per table, fills every required column that a row leaves out with the default below, and
returns a validated :class:`kpilib.Dataset` (through ``Dataset.from_frames``, so fixtures obey
the contract). ``build_frames(...)`` returns the same tables as raw DataFrames, unvalidated, for
tests that break one thing on purpose. ``baseline_frames()`` is a richer valid dataset with
every table (used by the contract tests; handy for any test that needs all tables), and
``write_csv(frames, folder)`` writes frames as ``<table>.csv`` files.

Timestamps may be ISO strings with ``Z`` or an offset (``"2024-01-02T10:00Z"``,
``"2024-01-02 12:00+02:00"``), dates ``"YYYY-MM-DD"``.

Defaults (only for columns a row does not give):

- Single-column primary keys are numbered per table: ``O1, O2, ...`` (orders), ``L1, ...``
  (order_lines), ``S1`` shipments, ``E1`` events, ``X1`` exceptions, ``T1`` pick tasks,
  ``W1`` waves, ``R1`` receipts, ``M1`` movements, ``C1`` counts, ``RT1`` returns,
  ``REC1`` recommendations; ``SKU1`` for products and ``N1`` for nodes.
- ``orders``: channel ``"web"``, order_type ``"standard"``, is_test ``False``, created_at
  ``2024-01-01T00:00Z``, currency ``"EUR"``.
  When ``orders`` is not given, one default order is made per ``order_id`` that the other
  tables reference (or a single ``O1``).
- ``order_lines``: order_id ``"O1"``, sku ``"SKU1"``, created_at = its order's created_at,
  qty_ordered 1, qty_cancelled_customer 0, qty_cancelled_merchant 0,
  promised_delivery_at_original = created_at + 3 days, promise_is_date ``False``,
  unit_price 10.0. When ``order_lines`` is not given, each order gets one default line
  ``L<n>`` (same number as its position among the orders).
- ``products``: unit_cost 5.0, stocking_policy ``"stocked"``.
- ``nodes``: node_type ``"dc"``, fulfillment_model ``"owned_dc"``, timezone ``"UTC"``.
- ``order_events``: order_id ``"O1"``, event_type ``"created"``, event_at
  ``2024-01-01T00:00Z``, actor_type ``"system"``.
- ``exceptions``: exception_type ``"other"``, is_informational ``False``, opened_at
  ``2024-01-01T00:00Z``.
- ``shipments``: order_id ``"O1"``, node_id ``"N1"``, created_at = its order's created_at
  (``2024-01-01T00:00Z`` when the order is not in the fixture), delivery_status ``"pending"``.
- ``shipment_lines``: shipment_id ``"S1"``, order_line_id ``"L1"``, qty_shipped 1.
- ``pick_tasks``: node_id ``"N1"``, order_line_id ``"L1"``, sku ``"SKU1"``, qty_requested 1,
  released_at ``2024-01-01T00:00Z``.
- ``waves``: node_id ``"N1"``, released_at ``2024-01-01T00:00Z``.
- ``receipts``: node_id ``"N1"``, sku ``"SKU1"``, qty_received 1, received_at
  ``2024-01-01T00:00Z``.
- ``inventory_movements``: node_id ``"N1"``, sku ``"SKU1"``, moved_at ``2024-01-01T00:00Z``,
  movement_type ``"receipt"``, qty_delta 1, unit_cost 5.0.
- ``inventory_snapshots``: snapshot_date ``2024-01-01``, node_id ``"N1"``, sku ``"SKU1"``,
  all quantities 0 (qty_on_hand, qty_allocated, qty_held), inventory_value 0, is_active True;
  qty_available = on_hand - allocated - held when not given.
- ``inventory_counts``: node_id ``"N1"``, location_id ``"A-01"``, sku ``"SKU1"``, counted_at
  ``2024-01-01T00:00Z``, qty_system_at_count 0, qty_counted 0, is_recount ``False``.
- ``forecasts``: sku ``"SKU1"``, node_id ``"N1"``, target_period_start ``2024-01-01``,
  period_granularity ``"day"``, forecast_made_at ``2023-12-31T00:00Z``, qty_forecast 0.
- ``returns``: order_id ``"O1"``, order_line_id ``"L1"``, sku ``"SKU1"``, qty 1,
  return_reason ``"other"``, rma_requested_at = its order's created_at + 4 days
  (``2024-01-05T00:00Z`` for the default order).
- ``labor_hours``: node_id ``"N1"``, work_date ``2024-01-01``, activity ``"pick"``, hours 8.
- ``node_capacity_daily``: node_id ``"N1"``, capacity_date ``2024-01-01``, capacity_unit
  ``"positions"``, usable_capacity 100, occupied 0.
- ``fulfillment_costs``: node_id ``"N1"``, period_start ``2024-01-01``, period_end
  ``2024-01-31``, cost_pool ``"labor"``, amount 0, currency ``"EUR"``.
- ``replenishment_recommendations``: node_id ``"N1"``, sku ``"SKU1"``, created_at
  ``2024-01-01T00:00Z``, decision_due_at ``2024-01-02T00:00Z``, qty_recommended 1.

Foreign keys are only checked when the referenced table is present, so no table is invented
besides ``orders`` / ``order_lines`` (which every dataset needs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import Dataset, schema

T0 = "2024-01-01T00:00:00Z"

ID_PREFIX = {
    "orders": "O", "order_lines": "L", "order_events": "E", "exceptions": "X",
    "shipments": "S", "pick_tasks": "T", "waves": "W", "receipts": "R",
    "inventory_movements": "M", "inventory_counts": "C", "returns": "RT",
    "replenishment_recommendations": "REC", "products": "SKU", "nodes": "N",
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "products": {"unit_cost": 5.0, "stocking_policy": "stocked"},
    "nodes": {"node_type": "dc", "fulfillment_model": "owned_dc", "timezone": "UTC"},
    "orders": {"channel": "web", "order_type": "standard", "is_test": False, "created_at": T0,
               "currency": "EUR"},
    "order_lines": {"order_id": "O1", "sku": "SKU1", "qty_ordered": 1.0,
                    "qty_cancelled_customer": 0.0, "qty_cancelled_merchant": 0.0,
                    "promise_is_date": False, "unit_price": 10.0},
    "order_events": {"order_id": "O1", "event_type": "created", "event_at": T0,
                     "actor_type": "system"},
    "exceptions": {"exception_type": "other", "is_informational": False, "opened_at": T0},
    "shipments": {"order_id": "O1", "node_id": "N1", "created_at": T0,
                  "delivery_status": "pending"},
    "shipment_lines": {"shipment_id": "S1", "order_line_id": "L1", "qty_shipped": 1.0},
    "pick_tasks": {"node_id": "N1", "order_line_id": "L1", "sku": "SKU1", "qty_requested": 1.0,
                   "released_at": T0},
    "waves": {"node_id": "N1", "released_at": T0},
    "receipts": {"node_id": "N1", "sku": "SKU1", "qty_received": 1.0, "received_at": T0},
    "inventory_movements": {"node_id": "N1", "sku": "SKU1", "moved_at": T0,
                            "movement_type": "receipt", "qty_delta": 1.0, "unit_cost": 5.0},
    "inventory_snapshots": {"snapshot_date": "2024-01-01", "node_id": "N1", "sku": "SKU1",
                            "qty_on_hand": 0.0, "qty_allocated": 0.0, "qty_held": 0.0,
                            "inventory_value": 0.0, "is_active": True},
    "inventory_counts": {"node_id": "N1", "location_id": "A-01", "sku": "SKU1",
                         "counted_at": T0, "qty_system_at_count": 0.0, "qty_counted": 0.0,
                         "is_recount": False},
    "forecasts": {"sku": "SKU1", "node_id": "N1", "target_period_start": "2024-01-01",
                  "period_granularity": "day", "forecast_made_at": "2023-12-31T00:00:00Z",
                  "qty_forecast": 0.0},
    "returns": {"order_id": "O1", "order_line_id": "L1", "sku": "SKU1", "qty": 1.0,
                "return_reason": "other", "rma_requested_at": "2024-01-05T00:00:00Z"},
    "labor_hours": {"node_id": "N1", "work_date": "2024-01-01", "activity": "pick",
                    "hours": 8.0},
    "node_capacity_daily": {"node_id": "N1", "capacity_date": "2024-01-01",
                            "capacity_unit": "positions", "usable_capacity": 100.0,
                            "occupied": 0.0},
    "fulfillment_costs": {"node_id": "N1", "period_start": "2024-01-01",
                          "period_end": "2024-01-31", "cost_pool": "labor", "amount": 0.0,
                          "currency": "EUR"},
    "replenishment_recommendations": {"node_id": "N1", "sku": "SKU1", "created_at": T0,
                                      "decision_due_at": "2024-01-02T00:00:00Z",
                                      "qty_recommended": 1.0},
}


def _rows(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pk = schema.TABLES[name].primary_key
    out = []
    for i, row in enumerate(rows, start=1):
        full = {**DEFAULTS.get(name, {}), **row}
        if len(pk) == 1 and name in ID_PREFIX and pk[0] not in row:
            full[pk[0]] = f"{ID_PREFIX[name]}{i}"
        out.append(full)
    return out


def _after_order(name: str, row: dict[str, Any], created: dict[str, Any]) -> dict[str, Any]:
    """Default times that follow the row's order: shipments.created_at = the order's
    created_at; returns.rma_requested_at = the order's created_at + 4 days."""
    start = created.get(row.get("order_id", DEFAULTS.get(name, {}).get("order_id")))
    if start is None:
        return row
    if name == "shipments" and "created_at" not in row:
        return {**row, "created_at": start}
    if name == "returns" and "rma_requested_at" not in row:
        return {**row, "rma_requested_at": _plus_days(start, 4)}
    return row


def _plus_days(ts: Any, days: int) -> str:
    start = pd.Timestamp(ts)
    start = start.tz_localize("UTC") if start.tzinfo is None else start
    return (start + pd.Timedelta(days=days)).isoformat()


def _referenced_orders(tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    ids: list[str] = []
    for name in ("order_lines", "order_events", "shipments", "returns", "exceptions"):
        for row in _rows(name, tables.get(name) or []):
            oid = row.get("order_id")
            if oid is not None and oid not in ids:
                ids.append(oid)
    return ids or ["O1"]


def build_frames(**tables: list[dict[str, Any]] | None) -> dict[str, pd.DataFrame]:
    """Raw (unvalidated) DataFrames with the defaults of the module docstring filled in."""
    unknown = sorted(set(tables) - set(schema.TABLE_NAMES))
    if unknown:
        raise ValueError(f"unknown table(s) {unknown}")
    given = {n: rows for n, rows in tables.items() if rows is not None}
    if "orders" not in given:
        given["orders"] = [{"order_id": oid} for oid in _referenced_orders(given)]
    orders = _rows("orders", given["orders"])
    if "order_lines" not in given:
        given["order_lines"] = [{"order_line_id": f"L{i}", "order_id": o["order_id"]}
                                for i, o in enumerate(orders, start=1)]
    created = {o["order_id"]: o["created_at"] for o in orders}
    lines = []
    for row in _rows("order_lines", given["order_lines"]):
        row.setdefault("created_at", created.get(row["order_id"], T0))
        if "promised_delivery_at_original" not in row:
            row["promised_delivery_at_original"] = _plus_days(row["created_at"], 3)
        lines.append(row)
    frames = {"orders": pd.DataFrame(orders), "order_lines": pd.DataFrame(lines)}
    for name, rows in given.items():
        if name in frames:
            continue
        built = _rows(name, [_after_order(name, row, created) for row in rows])
        if name == "inventory_snapshots":
            for row in built:
                row.setdefault("qty_available", row["qty_on_hand"] - row["qty_allocated"]
                               - row["qty_held"])
        frames[name] = pd.DataFrame(built)
    return frames


def build_dataset(assume_tz: str | None = None, **tables: list[dict[str, Any]] | None) -> Dataset:
    """A validated Dataset from lists of row dicts (see the module docstring for defaults)."""
    return Dataset.from_frames(assume_tz=assume_tz, **build_frames(**tables))


# --- row builders shared by the KPI tests -------------------------------------------------------

# Two warehouses and a pickup store, the node set of the order-flow tests.
NODES = [{"node_id": "N1"}, {"node_id": "N2", "fulfillment_model": "3pl"},
         {"node_id": "P1", "node_type": "store", "fulfillment_model": "pickup_in_store"}]
NO_SHIPMENTS = ("shipments", "shipment_lines")


def build_with_empty(empty: tuple[str, ...], **tables: list[dict[str, Any]] | None) -> Dataset:
    """build_dataset, plus the ``empty`` tables present with no rows."""
    frames = build_frames(**tables)
    for name in empty:
        frames[name] = pd.DataFrame(columns=list(schema.TABLES[name].column_names))
    return Dataset.from_frames(**frames)


def ship(sid: str, oid: str, shipped: Any, delivered: Any = None, status: str | None = None,
         node: str = "N1", **kw: Any) -> dict[str, Any]:
    """A shipment row created and shipped at ``shipped``; delivered when ``delivered`` is set."""
    row = {"shipment_id": sid, "order_id": oid, "node_id": node, "created_at": shipped,
           "shipped_at": shipped, **kw}
    if delivered is not None:
        row["delivered_at"] = delivered
    row["delivery_status"] = status or ("delivered" if delivered else "in_transit")
    return row


def task(tid: str, line: str, picked: Any = "2024-01-02T10:00Z", **kw: Any) -> dict[str, Any]:
    """A pick task of one unit released 2024-01-01, picked at ``picked`` (None: still open)."""
    row = {"task_id": tid, "order_line_id": line, "released_at": "2024-01-01T00:00Z",
           "picked_at": picked, "qty_picked": kw.pop("qty_picked", 1.0),
           "status": "picked" if picked else "open"}
    if picked is None:
        row.pop("picked_at")
        row["qty_picked"] = None
    row.update(kw)
    return row


def baseline_frames() -> dict[str, pd.DataFrame]:
    """Raw frames of a small valid dataset with every table of §8, touching every contract rule.

    Consistent by construction: O1 = L1 (2 x 10.0) = 20.0; O2 = L2 (1 x 10.0) + L3 (kit
    component of L2, 1 x 0.0) = 10.0; S1 ships L1 (2 units, delivered), S2 ships L2 (1 unit, in
    transit); snapshots qty_available = on_hand - allocated - held (SKU1: 10 - 2 - 1 = 7).
    Tests that need an invalid dataset break one thing in a copy of these frames.
    """
    return build_frames(
        orders=[
            {"order_id": "O1", "created_at": "2024-01-01T00:00:00Z", "merchandise_amount": 20.0},
            {"order_id": "O2", "created_at": "2024-01-02T00:00:00+01:00",
             "merchandise_amount": 10.0, "cancelled_at": None},
        ],
        order_lines=[
            {"order_line_id": "L1", "order_id": "O1", "sku": "SKU1", "qty_ordered": 2,
             "assigned_node_id": "N1"},
            {"order_line_id": "L2", "order_id": "O2", "sku": "SKU2", "qty_ordered": 1},
            {"order_line_id": "L3", "order_id": "O2", "sku": "SKU1", "qty_ordered": 1,
             "unit_price": 0.0, "parent_line_id": "L2"},
        ],
        products=[{"sku": "SKU1"}, {"sku": "SKU2", "launch_date": "2023-01-01",
                                    "discontinue_date": "2025-01-01"}],
        nodes=[{"node_id": "N1"}, {"node_id": "N2", "node_type": "3pl",
                                   "fulfillment_model": "3pl"}],
        order_events=[{"event_id": "E1", "order_id": "O1", "event_at": "2024-01-01T00:00:00Z"}],
        exceptions=[{"exception_id": "X1", "order_id": "O1", "opened_at": "2024-01-01T05:00Z",
                     "resolved_at": "2024-01-01T07:00Z"}],
        shipments=[
            {"shipment_id": "S1", "order_id": "O1", "node_id": "N1",
             "created_at": "2024-01-01T02:00Z", "shipped_at": "2024-01-01T10:00Z",
             "first_delivery_attempt_at": "2024-01-03T09:00Z",
             "delivered_at": "2024-01-03T09:00Z", "delivery_status": "delivered",
             "parcel_cost": 4.5},
            {"shipment_id": "S2", "order_id": "O2", "node_id": "N2",
             "created_at": "2024-01-02T02:00Z", "shipped_at": "2024-01-02T12:00Z",
             "delivery_status": "in_transit"},
        ],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1", "qty_shipped": 2},
                        {"shipment_id": "S2", "order_line_id": "L2", "qty_shipped": 1}],
        waves=[{"wave_id": "W1", "node_id": "N1", "released_at": "2024-01-01T01:00Z",
                "closed_at": "2024-01-01T09:00Z"}],
        pick_tasks=[{"task_id": "T1", "wave_id": "W1", "order_line_id": "L1", "qty_requested": 2,
                     "released_at": "2024-01-01T01:00Z", "picked_at": "2024-01-01T03:00Z",
                     "status": "picked"}],
        receipts=[{"receipt_line_id": "R1", "qty_expected": 10, "qty_received": 10,
                   "dock_arrival_at": "2023-12-30T08:00Z", "received_at": "2023-12-30T09:00Z",
                   "putaway_completed_at": "2023-12-30T12:00Z"}],
        inventory_movements=[{"movement_id": "M1", "qty_delta": 10,
                              "moved_at": "2023-12-30T12:00Z"}],
        inventory_snapshots=[
            {"snapshot_date": "2024-01-01", "sku": "SKU1", "qty_on_hand": 10,
             "qty_allocated": 2, "qty_held": 1, "inventory_value": 50.0,
             "stockout_minutes": 0},
            {"snapshot_date": "2024-01-01", "sku": "SKU2", "qty_on_hand": 0},
        ],
        inventory_counts=[{"count_id": "C1"}],
        forecasts=[{"sku": "SKU1"}],
        returns=[{"return_line_id": "RT1", "qty": 1, "rma_requested_at": "2024-01-05T00:00Z",
                  "rma_decided_at": "2024-01-05T10:00Z", "rma_decision": "approved",
                  "received_at": "2024-01-08T00:00Z", "disposition": "restock",
                  "disposition_at": "2024-01-09T00:00Z",
                  # refund before receipt is allowed (B9: instant refunds)
                  "refund_issued_at": "2024-01-05T11:00Z"}],
        labor_hours=[{}],
        node_capacity_daily=[{}],
        fulfillment_costs=[{}],
        replenishment_recommendations=[{"rec_id": "REC1", "decision": "accepted",
                                        "decided_at": "2024-01-01T12:00Z", "qty_ordered": 1}],
    )


def write_csv(frames: dict[str, pd.DataFrame], folder: Path) -> Path:
    """Write each frame to ``folder/<table>.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder
