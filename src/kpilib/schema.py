"""The data model of kpi-spec.md §8 as plain data: tables, columns, types, keys and rules.

This module is the single place where table and column names live. The data contract
(`kpilib.contracts`), the loader (`kpilib.dataset`), the synthetic generator and the CSV
templates all read it; nothing else spells a column list out again.

Types: ``text``, ``int``, ``num`` (float), ``bool``, ``date`` (calendar day, naive), ``ts``
(timezone-aware, UTC after loading). ``required=True`` means NOT NULL (bold in §8); a
non-required column may be absent from a file and is then added as all-null. Optional boolean
columns read null as ``False`` (§8 gives "default false" for the ones that say so; for the
others, e.g. ``qa_hold`` or ``parcel_cost_final``, an unknown flag is treated as not set).
"""

from __future__ import annotations

from dataclasses import dataclass, field

TEXT, INT, NUM, BOOL, DATE, TS = "text", "int", "num", "bool", "date", "ts"


@dataclass(frozen=True)
class Column:
    """One column: name, type, NOT NULL, allowed values, sign rule and foreign key."""

    name: str
    dtype: str
    required: bool = False
    enum: tuple[str, ...] | None = None
    nonnegative: bool = False
    references: str | None = None  # "table.column"
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """One table of §8 with its primary key and whether a dataset must contain it."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    required: bool = False
    doc: str = ""
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def C(name: str, dtype: str, req: bool = False, *, enum=None, nonneg=False, ref=None, doc=""):
    return Column(name, dtype, req, tuple(enum) if enum else None, nonneg, ref, doc)


NODE_TYPES = ("dc", "store", "3pl", "supplier", "marketplace")
FULFILLMENT_MODELS = (
    "owned_dc", "3pl", "dropship", "ship_from_store", "marketplace_fulfilled", "pickup_in_store",
)
ORDER_TYPES = ("standard", "replacement", "transfer", "b2b")
CANCEL_INITIATORS = ("customer", "merchant", "fraud", "system")
CANCEL_REASONS = ("stockout", "duplicate", "payment_failed", "address_invalid", "other")
EVENT_TYPES = (
    "created", "authorized", "released_to_node", "allocation_attempt", "backordered",
    "backorder_cleared", "hold_placed", "hold_released", "promise_changed", "ready_for_pickup",
    "picked_up", "doc_defect", "damage_claim", "manual_touch", "order_edited",
    "address_corrected", "manual_allocation", "manual_release", "cancelled",
)
ACTOR_TYPES = ("system", "user", "customer", "carrier")
DELIVERY_STATUSES = ("pending", "in_transit", "delivered", "failed", "returned_to_sender", "lost")
RETURN_REASONS = (
    "damaged", "defective", "wrong_configuration", "wrong_item", "missing_item",
    "not_as_described", "changed_mind", "late_delivery", "other",
)
MOVEMENT_TYPES = (
    "receipt", "ship", "transfer_out", "transfer_in", "adjust_count", "adjust_other",
    "return_restock", "scrap", "kit_build",
)
LABOR_ACTIVITIES = ("pick", "pack", "receive", "putaway", "ship", "returns", "indirect")
COST_POOLS = ("labor", "packaging", "facility", "3pl_fees", "systems", "other")
REC_DECISIONS = ("accepted", "modified", "rejected", "expired", "superseded")

TABLES: dict[str, Table] = {}


def _add(table: Table) -> None:
    TABLES[table.name] = table


_add(Table("products", (
    C("sku", TEXT, True),
    C("product_class", TEXT, doc="segment"),
    C("supplier_id", TEXT, doc="primary supplier"),
    C("unit_cost", NUM, True, nonneg=True, doc="current standard cost (fallback valuation)"),
    C("is_kit", BOOL),
    C("stocking_policy", TEXT, True, enum=("stocked", "dropship", "made_to_order")),
    C("launch_date", DATE),
    C("discontinue_date", DATE),
), ("sku",), doc="One row per SKU."))

_add(Table("nodes", (
    C("node_id", TEXT, True),
    C("node_type", TEXT, True, enum=NODE_TYPES),
    C("fulfillment_model", TEXT, True, enum=FULFILLMENT_MODELS),
    C("timezone", TEXT, True, doc="IANA name"),
), ("node_id",), doc="Warehouses, stores, 3PLs and dropship suppliers that fulfil lines."))

_add(Table("orders", (
    C("order_id", TEXT, True),
    C("channel", TEXT, True),
    C("order_type", TEXT, True, enum=ORDER_TYPES),
    C("parent_order_id", TEXT, ref="orders.order_id", doc="replacements"),
    C("is_test", BOOL, True),
    C("created_at", TS, True),
    C("authorized_at", TS, doc="customer/payment authorization (cycle-time start)"),
    C("earliest_ship_at", TS, doc="pre-orders / future-dated"),
    C("ship_to_timezone", TEXT, doc="IANA name, for date-level promise deadlines"),
    C("currency", TEXT, True),
    C("merchandise_amount", NUM, nonneg=True, doc="net of discounts, excl. tax & shipping"),
    C("shipping_amount_charged", NUM, nonneg=True),
    C("cancelled_at", TS, doc="full-order cancellation"),
    C("cancel_initiator", TEXT, enum=CANCEL_INITIATORS),
    C("cancel_reason", TEXT, enum=CANCEL_REASONS),
), ("order_id",), required=True, doc="One row per customer, replacement, transfer or B2B order."))

_add(Table("order_lines", (
    C("order_line_id", TEXT, True),
    C("order_id", TEXT, True, ref="orders.order_id"),
    C("sku", TEXT, True, ref="products.sku"),
    C("parent_line_id", TEXT, ref="order_lines.order_line_id", doc="kit components"),
    C("created_at", TS, True, doc="default = orders.created_at; later for lines added by edit"),
    C("qty_ordered", NUM, True, nonneg=True),
    C("qty_cancelled_customer", NUM, True, nonneg=True),
    C("qty_cancelled_merchant", NUM, True, nonneg=True, doc="incl. system"),
    C("assigned_node_id", TEXT, ref="nodes.node_id", doc="current/last assignment"),
    C("requested_delivery_at", TS),
    C("promised_delivery_at_original", TS, True, doc="first promise; immutable"),
    C("promised_delivery_at_current", TS),
    C("promise_change_initiator", TEXT, enum=("customer", "merchant", "carrier")),
    C("promise_is_date", BOOL, True, doc="date-level promise: deadline = end of day, ship-to tz"),
    C("planned_ship_by_at", TS, doc="ship deadline (B1)"),
    C("ship_by_is_date", BOOL, doc="date-level ship deadline: end of day, node (else ship-to) tz"),
    C("unit_price", NUM, True, nonneg=True, doc="net selling price per unit"),
    C("substitution_approved", BOOL, doc="default false"),
), ("order_line_id",), required=True, doc="One row per order line."))

_add(Table("order_events", (
    C("event_id", TEXT, True),
    C("order_id", TEXT, True, ref="orders.order_id"),
    C("order_line_id", TEXT, ref="order_lines.order_line_id", doc="null = order-level"),
    C("node_id", TEXT, ref="nodes.node_id"),
    C("event_type", TEXT, True, enum=EVENT_TYPES),
    C("event_at", TS, True),
    C("actor_type", TEXT, True, enum=ACTOR_TYPES),
    C("actor_id", TEXT),
    C("reason_code", TEXT),
    C("qty", NUM, nonneg=True, doc="allocation: requested; others: affected qty"),
    C("qty_confirmed", NUM, nonneg=True, doc="allocation: allocated qty"),
), ("event_id",), doc="Status history, holds, touches, allocation and quality events."))

_add(Table("exceptions", (
    C("exception_id", TEXT, True),
    C("order_id", TEXT, ref="orders.order_id"),
    C("order_line_id", TEXT, ref="order_lines.order_line_id"),
    C("node_id", TEXT, ref="nodes.node_id"),
    C("exception_type", TEXT, True),
    C("severity", TEXT),
    C("is_informational", BOOL, True),
    C("opened_at", TS, True, doc="never reset on reopen"),
    C("resolved_at", TS),
    C("resolution_code", TEXT),
), ("exception_id",), doc="Exception queue items (order, inbound and inventory)."))

_add(Table("shipments", (
    C("shipment_id", TEXT, True),
    C("order_id", TEXT, True, ref="orders.order_id"),
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("carrier", TEXT),
    C("service_level", TEXT),
    C("created_at", TS, True),
    C("shipped_at", TS, doc="ship confirm / carrier handoff"),
    C("first_delivery_attempt_at", TS),
    C("delivered_at", TS, doc="carrier delivery scan"),
    C("delivery_status", TEXT, True, enum=DELIVERY_STATUSES),
    C("delivery_failure_reason", TEXT),
    C("parcel_cost", NUM, nonneg=True, doc="total carrier charge incl. surcharges"),
    C("parcel_cost_final", BOOL, doc="carrier invoice reconciled"),
), ("shipment_id",), doc="One row per outbound shipment (parcel group)."))

_add(Table("shipment_lines", (
    C("shipment_id", TEXT, True, ref="shipments.shipment_id"),
    C("order_line_id", TEXT, True, ref="order_lines.order_line_id"),
    C("qty_shipped", NUM, True, nonneg=True),
), ("shipment_id", "order_line_id"), doc="Quantity of each order line in each shipment."))

_add(Table("pick_tasks", (
    C("task_id", TEXT, True),
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("wave_id", TEXT, ref="waves.wave_id", doc="null = unwaved"),
    C("order_line_id", TEXT, True, ref="order_lines.order_line_id"),
    C("sku", TEXT, True, ref="products.sku"),
    C("location_id", TEXT),
    C("qty_requested", NUM, True, nonneg=True),
    C("qty_picked", NUM, nonneg=True),
    C("released_at", TS, True),
    C("picked_at", TS),
    C("picker_id", TEXT),
    C("status", TEXT, enum=("open", "picked", "cancelled")),
    C("short_reported", BOOL),
    C("error_detected", BOOL),
    C("error_type", TEXT, enum=("wrong_sku", "wrong_qty", "wrong_lot", "damaged")),
    C("error_detection_point", TEXT, enum=("pack_verify", "audit", "customer")),
    C("error_detected_at", TS),
), ("task_id",), doc="One row per pick of one order line from one location."))

_add(Table("waves", (
    C("wave_id", TEXT, True),
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("released_at", TS, True),
    C("cutoff_at", TS, doc="carrier/ship cutoff"),
    C("planned_lines_per_hour", NUM, nonneg=True, doc="fallback pick rate"),
    C("closed_at", TS),
), ("wave_id",), doc="Pick waves released to the floor."))

_add(Table("receipts", (
    C("receipt_line_id", TEXT, True),
    C("receipt_id", TEXT),
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("po_id", TEXT),
    C("supplier_id", TEXT),
    C("sku", TEXT, True, ref="products.sku"),
    C("qty_expected", NUM, nonneg=True),
    C("qty_received", NUM, True, nonneg=True),
    C("dock_arrival_at", TS, doc="trailer check-in / unload start"),
    C("received_at", TS, True, doc="receipt scan"),
    C("qa_hold", BOOL),
    C("qa_released_at", TS),
    C("putaway_completed_at", TS, doc="last unit put away"),
    C("is_crossdock", BOOL),
), ("receipt_line_id",), doc="Inbound receipt lines."))

_add(Table("inventory_movements", (
    C("movement_id", TEXT, True, doc="tie-breaker for ordering"),
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("sku", TEXT, True, ref="products.sku"),
    C("location_id", TEXT),
    C("moved_at", TS, True),
    C("movement_type", TEXT, True, enum=MOVEMENT_TYPES),
    C("qty_delta", NUM, True, doc="signed"),
    C("unit_cost", NUM, True, nonneg=True, doc="cost of the moved units"),
    C("reference_id", TEXT, doc="source document (order_line_id, receipt_line_id, count_id)"),
    C("transfer_group_id", TEXT, doc="links the two legs of a transfer"),
), ("movement_id",), doc="The stock ledger: every signed change of on-hand quantity."))

_add(Table("inventory_snapshots", (
    C("snapshot_date", DATE, True),
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("sku", TEXT, True, ref="products.sku"),
    C("qty_on_hand", NUM, True),
    C("qty_allocated", NUM, True, nonneg=True),
    C("qty_held", NUM, True, nonneg=True, doc="QA / damaged / quarantined"),
    C("qty_available", NUM, True, doc="on_hand - allocated - held"),
    C("qty_on_order", NUM, nonneg=True, doc="open inbound POs/transfers"),
    C("inventory_value", NUM, True, doc="on_hand at cost"),
    C("is_active", BOOL, True, doc="sellable & replenished"),
    C("stockout_minutes", INT, nonneg=True, doc="optional intraday"),
), ("snapshot_date", "node_id", "sku"), doc="End-of-day stock per SKU and node."))

_add(Table("inventory_counts", (
    C("count_id", TEXT, True),
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("location_id", TEXT, True),
    C("sku", TEXT, True, ref="products.sku", doc="one row per SKU found or expected"),
    C("counted_at", TS, True),
    C("qty_system_at_count", NUM, True, nonneg=True, doc="frozen at count time"),
    C("qty_counted", NUM, True, nonneg=True),
    C("is_recount", BOOL, True),
    C("count_program", TEXT, enum=("cycle", "full", "ad_hoc")),
), ("count_id",), doc="Cycle and full counts, one row per SKU per counted location."))

_add(Table("forecasts", (
    C("sku", TEXT, True, ref="products.sku"),
    C("node_id", TEXT, True, doc="node, or UNASSIGNED / a region"),
    C("target_period_start", DATE, True),
    C("period_granularity", TEXT, True, enum=("day", "week", "month")),
    C("forecast_made_at", TS, True, doc="snapshot time"),
    C("qty_forecast", NUM, True, nonneg=True),
    C("forecast_version", TEXT, doc="model / method"),
), ("sku", "node_id", "target_period_start", "period_granularity", "forecast_made_at"),
    doc="Forecast snapshots per SKU, node and target period."))

_add(Table("returns", (
    C("return_line_id", TEXT, True),
    C("rma_id", TEXT),
    C("order_id", TEXT, True, ref="orders.order_id"),
    C("order_line_id", TEXT, True, ref="order_lines.order_line_id"),
    C("sku", TEXT, True, ref="products.sku"),
    C("qty", NUM, True, nonneg=True),
    C("return_reason", TEXT, True, enum=RETURN_REASONS),
    C("rma_requested_at", TS, True),
    C("rma_decided_at", TS),
    C("rma_decision", TEXT, enum=("approved", "rejected", "withdrawn")),
    C("received_at", TS),
    C("receiving_node_id", TEXT, ref="nodes.node_id"),
    C("disposition", TEXT,
      enum=("restock", "refurbish", "liquidate", "scrap", "return_to_vendor")),
    C("disposition_at", TS),
    C("refund_issued_at", TS),
), ("return_line_id",), doc="Return (RMA) lines."))

_add(Table("labor_hours", (
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("work_date", DATE, True),
    C("activity", TEXT, True, enum=LABOR_ACTIVITIES),
    C("worker_id", TEXT),
    C("hours", NUM, True, nonneg=True, doc="paid productive hours, breaks excluded"),
), (), doc="Labour hours per node, day, activity (and optionally worker). No key."))

_add(Table("node_capacity_daily", (
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("capacity_date", DATE, True),
    C("capacity_unit", TEXT, True, enum=("positions", "m3")),
    C("usable_capacity", NUM, True, nonneg=True),
    C("occupied", NUM, True, nonneg=True),
), ("node_id", "capacity_date"), doc="Daily storage capacity and occupancy per node."))

_add(Table("fulfillment_costs", (
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("period_start", DATE, True),
    C("period_end", DATE, True, doc="inclusive last day of the cost period"),
    C("cost_pool", TEXT, True, enum=COST_POOLS),
    C("amount", NUM, True),
    C("currency", TEXT, True),
), (), doc="Fulfilment operating cost per node, cost pool and cost period. No key."))

_add(Table("replenishment_recommendations", (
    C("rec_id", TEXT, True),
    C("node_id", TEXT, True, ref="nodes.node_id"),
    C("sku", TEXT, True, ref="products.sku"),
    C("supplier_id", TEXT),
    C("created_at", TS, True),
    C("decision_due_at", TS, True),
    C("qty_recommended", NUM, True, nonneg=True),
    C("decision", TEXT, enum=REC_DECISIONS, doc="null = pending"),
    C("decided_at", TS),
    C("qty_ordered", NUM, nonneg=True),
    C("resulting_po_id", TEXT),
    C("superseded_by", TEXT),
), ("rec_id",), doc="System replenishment recommendations and planners' decisions."))

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.required)


# --- Rules as data (read by the contract, kpilib.contracts) ---------------------------------


@dataclass(frozen=True)
class TimeOrder:
    """``table.column`` must not be earlier than ``after`` (both non-null to be checked).

    ``after`` is a column of the same table, or ``"other_table.column"`` reached through the
    foreign-key column ``via`` of ``table`` (joined to the other table's primary key).
    """

    table: str
    column: str
    after: str
    via: str | None = None


TIME_ORDERS: tuple[TimeOrder, ...] = (
    TimeOrder("products", "discontinue_date", "launch_date"),
    TimeOrder("orders", "cancelled_at", "created_at"),
    TimeOrder("order_lines", "created_at", "orders.created_at", via="order_id"),
    TimeOrder("shipments", "created_at", "orders.created_at", via="order_id"),
    TimeOrder("shipments", "shipped_at", "orders.created_at", via="order_id"),
    TimeOrder("shipments", "first_delivery_attempt_at", "shipped_at"),
    TimeOrder("shipments", "delivered_at", "shipped_at"),
    TimeOrder("pick_tasks", "picked_at", "released_at"),
    TimeOrder("pick_tasks", "error_detected_at", "picked_at"),
    TimeOrder("waves", "closed_at", "released_at"),
    TimeOrder("receipts", "received_at", "dock_arrival_at"),
    TimeOrder("receipts", "qa_released_at", "received_at"),
    TimeOrder("receipts", "putaway_completed_at", "received_at"),
    TimeOrder("exceptions", "resolved_at", "opened_at"),
    TimeOrder("returns", "rma_requested_at", "orders.created_at", via="order_id"),
    TimeOrder("returns", "rma_decided_at", "rma_requested_at"),
    TimeOrder("returns", "disposition_at", "received_at"),
    # not returns.refund_issued_at >= received_at: B9 allows refunds before receipt.
    TimeOrder("replenishment_recommendations", "decision_due_at", "created_at"),
    TimeOrder("replenishment_recommendations", "decided_at", "created_at"),
    TimeOrder("fulfillment_costs", "period_end", "period_start"),
)

# Timestamps and dates that hold a plan, a deadline or a target rather than an observed event;
# they may lie in the future and are ignored by ``Dataset.data_as_of``.
PLANNED_COLUMNS: frozenset[tuple[str, str]] = frozenset({
    ("products", "launch_date"),
    ("products", "discontinue_date"),
    ("orders", "earliest_ship_at"),
    ("order_lines", "requested_delivery_at"),
    ("order_lines", "promised_delivery_at_original"),
    ("order_lines", "promised_delivery_at_current"),
    ("order_lines", "planned_ship_by_at"),
    ("waves", "cutoff_at"),
    ("forecasts", "target_period_start"),
    ("fulfillment_costs", "period_end"),
    ("replenishment_recommendations", "decision_due_at"),
})
