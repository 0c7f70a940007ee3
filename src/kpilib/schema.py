"""The data model as plain data: tables, columns, types, keys, meanings and rules.

This module is the single place where table and column names live. The data contract
(`kpilib.contracts`), the loader (`kpilib.dataset`), the synthetic generator, the CSV
templates and the data-model reference (``docs/data-model.md``) all read it; nothing else
spells a column list out again. Every column carries a one-line ``doc``.

Types: ``text``, ``int``, ``num`` (float), ``bool``, ``date`` (calendar day, naive), ``ts``
(timezone-aware, UTC after loading). ``required=True`` means NOT NULL; a non-required column
may be absent from a file and is then added as all-null. A required column with ``absent`` set
is one a source may honestly lack as a whole: NOT NULL when given, and when left out it is
filled with ``absent[0]`` (``None``: left empty), the dataset records it in
``Dataset.defaulted`` and the KPIs that require ``"table.column"`` report ``unavailable``.
Optional boolean columns read null as ``False`` (an unknown flag, e.g. ``qa_hold`` or
``parcel_cost_final``, is treated as not set).
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
    absent: tuple[object] | None = None  # (default,) when a source may lack the whole column


@dataclass(frozen=True)
class Table:
    """One table with its primary key and whether a dataset must contain it."""

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


def C(name: str, dtype: str, req: bool = False, *, enum=None, nonneg=False, ref=None, doc="",
      absent: tuple[object] | None = None):
    return Column(name, dtype, req, tuple(enum) if enum else None, nonneg, ref, doc, absent)


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
    C("sku", TEXT, True, doc="stock-keeping unit, the product key used by every other table"),
    C("product_class", TEXT, doc="product group; the `product_class` segment"),
    C("supplier_id", TEXT, doc="primary supplier; the `supplier` segment of inventory and "
      "forecast KPIs"),
    C("unit_cost", NUM, True, nonneg=True, absent=(None,),
      doc="current standard cost per unit; values stock when no movement cost is known "
      "(without it: inventory_value / qty_on_hand, and ABC on the `cogs` basis without a "
      "ledger ranks by revenue)"),
    C("is_kit", BOOL, doc="sold as one line, picked as its component lines"),
    C("stocking_policy", TEXT, True, enum=("stocked", "dropship", "made_to_order"),
      doc="dropship and made-to-order SKUs are left out of stockout KPIs"),
    C("launch_date", DATE, doc="first sellable day; before it a SKU is not active"),
    C("discontinue_date", DATE, doc="first day no longer sold; from then on not active"),
), ("sku",), doc="One row per SKU."))

_add(Table("nodes", (
    C("node_id", TEXT, True, doc="warehouse, store, 3PL or supplier code; the `node` segment"),
    C("node_type", TEXT, True, enum=NODE_TYPES, doc="what kind of site the node is"),
    C("fulfillment_model", TEXT, True, enum=FULFILLMENT_MODELS,
      doc="how the node fulfils lines; the `fulfillment_model` segment"),
    C("timezone", TEXT, True, doc="IANA time zone of the site, e.g. `Europe/Berlin`"),
), ("node_id",), doc="Warehouses, stores, 3PLs and dropship suppliers that fulfil lines."))

_add(Table("orders", (
    C("order_id", TEXT, True, doc="order number"),
    C("channel", TEXT, True, absent=("unknown",),
      doc="sales channel (web, app, marketplace, b2b, ...); the `channel` segment"),
    C("order_type", TEXT, True, enum=ORDER_TYPES,
      doc="`transfer` and `replacement` orders are not customer orders in any denominator"),
    C("parent_order_id", TEXT, ref="orders.order_id",
      doc="for a replacement: the order it replaces (evidence that the parent failed)"),
    C("is_test", BOOL, True, doc="test order; excluded from every KPI"),
    C("created_at", TS, True, doc="when the order was placed"),
    C("authorized_at", TS, doc="payment or customer authorisation; starts the order cycle "
      "time (placement when null)"),
    C("earliest_ship_at", TS, doc="pre-order or future-dated order: not to ship before this"),
    C("ship_to_timezone", TEXT, doc="IANA zone of the delivery address; a date-level "
      "promise ends at midnight there (UTC when null)"),
    C("currency", TEXT, True, doc="ISO 4217 code of the order's amounts"),
    C("merchandise_amount", NUM, nonneg=True,
      doc="goods value, net of discounts, without tax and shipping"),
    C("shipping_amount_charged", NUM, nonneg=True, doc="shipping fee charged to the customer"),
    C("cancelled_at", TS, doc="when the whole order was cancelled (null = not cancelled)"),
    C("cancel_initiator", TEXT, enum=CANCEL_INITIATORS,
      doc="who cancelled; `fraud` orders leave the customer-service KPIs"),
    C("cancel_reason", TEXT, enum=CANCEL_REASONS,
      doc="why; `duplicate` orders leave the customer-service KPIs"),
), ("order_id",), required=True, doc="One row per customer, replacement, transfer or B2B order."))

_add(Table("order_lines", (
    C("order_line_id", TEXT, True, doc="line key, unique across all orders"),
    C("order_id", TEXT, True, ref="orders.order_id", doc="the order the line belongs to"),
    C("sku", TEXT, True, ref="products.sku", doc="the product ordered"),
    C("parent_line_id", TEXT, ref="order_lines.order_line_id",
      doc="for a kit component: the sold kit line"),
    C("created_at", TS, True, doc="when the line was added; the order's creation time unless "
      "added by a later edit"),
    C("qty_ordered", NUM, True, nonneg=True, doc="units ordered, in the SKU's base unit"),
    C("qty_cancelled_customer", NUM, True, nonneg=True,
      doc="units the customer cancelled; removed from what must be delivered (0 if none)"),
    C("qty_cancelled_merchant", NUM, True, nonneg=True,
      doc="units the merchant or a system cancelled; a failure for in-full and fill KPIs"),
    C("assigned_node_id", TEXT, ref="nodes.node_id", doc="node the line is (last) assigned to"),
    C("requested_delivery_at", TS, doc="delivery date the customer asked for"),
    C("promised_delivery_at_original", TS, True,
      doc="first promise confirmed to the customer; never changes; defines the commit unit"),
    C("promised_delivery_at_current", TS, doc="latest promise after changes"),
    C("promise_change_initiator", TEXT, enum=("customer", "merchant", "carrier"),
      doc="who changed the promise; only a customer change replaces the original deadline"),
    C("promise_is_date", BOOL, True,
      doc="the promise is a calendar day: its deadline is the end of that day in the ship-to "
      "zone"),
    C("planned_ship_by_at", TS, doc="latest planned ship time; the on-time shipment deadline"),
    C("ship_by_is_date", BOOL, doc="date-level ship deadline: end of day, node (else ship-to) tz"),
    C("unit_price", NUM, True, nonneg=True, doc="net selling price per unit"),
    C("substitution_approved", BOOL,
      doc="the customer accepted a different SKU; an unapproved substitution is a wrong item"),
), ("order_line_id",), required=True, doc="One row per order line."))

_add(Table("order_events", (
    C("event_id", TEXT, True, doc="event key"),
    C("order_id", TEXT, True, ref="orders.order_id", doc="the order the event concerns"),
    C("order_line_id", TEXT, ref="order_lines.order_line_id",
      doc="the line it concerns; null = the whole order"),
    C("node_id", TEXT, ref="nodes.node_id", doc="node involved (release, allocation, ...)"),
    C("event_type", TEXT, True, enum=EVENT_TYPES, doc="what happened"),
    C("event_at", TS, True, doc="when it happened"),
    C("actor_type", TEXT, True, enum=ACTOR_TYPES,
      doc="who did it; a `user` (a person) makes a touch event manual"),
    C("actor_id", TEXT, doc="user or system name"),
    C("reason_code", TEXT, doc="free reason code (hold reason, replacement reason, ...)"),
    C("qty", NUM, nonneg=True,
      doc="allocation attempt: units requested; other events: units affected"),
    C("qty_confirmed", NUM, nonneg=True, doc="allocation attempt: units allocated"),
), ("event_id",), doc="Status history, holds, touches, allocation and quality events."))

_add(Table("exceptions", (
    C("exception_id", TEXT, True, doc="exception key"),
    C("order_id", TEXT, ref="orders.order_id",
      doc="the order concerned; null for inbound or inventory exceptions"),
    C("order_line_id", TEXT, ref="order_lines.order_line_id", doc="the line concerned"),
    C("node_id", TEXT, ref="nodes.node_id", doc="node whose queue holds it"),
    C("exception_type", TEXT, True, doc="kind of exception (address, payment, stock, ...)"),
    C("severity", TEXT, doc="free severity code; a segment of the queue-age KPIs"),
    C("is_informational", BOOL, True,
      doc="a notice needing no action; left out of exception KPIs"),
    C("opened_at", TS, True, doc="when it was raised; never reset when reopened"),
    C("resolved_at", TS, doc="when it was closed (null = open)"),
    C("resolution_code", TEXT, doc="how it was closed"),
), ("exception_id",), doc="Exception queue items (order, inbound and inventory)."))

_add(Table("shipments", (
    C("shipment_id", TEXT, True, doc="shipment (parcel group) key"),
    C("order_id", TEXT, True, ref="orders.order_id", doc="the order shipped"),
    C("node_id", TEXT, True, ref="nodes.node_id", absent=("default",),
      doc="node that shipped it (left out: one node, `default`, which a `nodes` table must "
      "then list)"),
    C("carrier", TEXT, doc="carrier name; the `carrier` segment"),
    C("service_level", TEXT, doc="carrier service (standard, express, ...); the "
      "`service_level` segment"),
    C("created_at", TS, True, doc="when the shipment was created (label or pack)"),
    C("shipped_at", TS, doc="ship confirmation / hand-over to the carrier (null = not yet)"),
    C("first_delivery_attempt_at", TS, doc="first attempt by the carrier to deliver"),
    C("delivered_at", TS, doc="carrier delivery scan"),
    C("delivery_status", TEXT, True, enum=DELIVERY_STATUSES,
      doc="carrier status; `delivered` without `delivered_at` is a missing delivery scan"),
    C("delivery_failure_reason", TEXT,
      doc="why a delivery failed, e.g. `customer_unavailable`"),
    C("parcel_cost", NUM, nonneg=True, doc="total carrier charge, surcharges included"),
    C("parcel_cost_final", BOOL, doc="the carrier invoice is reconciled: the cost is final"),
), ("shipment_id",), doc="One row per outbound shipment (parcel group)."))

_add(Table("shipment_lines", (
    C("shipment_id", TEXT, True, ref="shipments.shipment_id", doc="the shipment"),
    C("order_line_id", TEXT, True, ref="order_lines.order_line_id", doc="the line shipped"),
    C("qty_shipped", NUM, True, nonneg=True, doc="units of the line in this shipment"),
), ("shipment_id", "order_line_id"), doc="Quantity of each order line in each shipment."))

_add(Table("pick_tasks", (
    C("task_id", TEXT, True, doc="pick task key"),
    C("node_id", TEXT, True, ref="nodes.node_id", doc="node where the pick happens"),
    C("wave_id", TEXT, ref="waves.wave_id", doc="wave the task was released in; null = unwaved"),
    C("order_line_id", TEXT, True, ref="order_lines.order_line_id", doc="line being picked"),
    C("sku", TEXT, True, ref="products.sku", doc="SKU actually picked (differs from the "
      "line's SKU for a substitution)"),
    C("location_id", TEXT, doc="bin or location picked from"),
    C("qty_requested", NUM, True, nonneg=True, doc="units to pick"),
    C("qty_picked", NUM, nonneg=True, doc="units picked"),
    C("released_at", TS, True, doc="when the task was released to the floor"),
    C("picked_at", TS, doc="pick confirmation (null = not picked)"),
    C("picker_id", TEXT, doc="who picked"),
    C("status", TEXT, enum=("open", "picked", "cancelled"), doc="task state"),
    C("short_reported", BOOL, doc="the picker reported a short; a correctly reported short is "
      "not a pick error"),
    C("error_detected", BOOL, doc="a pick error was found later"),
    C("error_type", TEXT, enum=("wrong_sku", "wrong_qty", "wrong_lot", "damaged"),
      doc="kind of pick error"),
    C("error_detection_point", TEXT, enum=("pack_verify", "audit", "customer"),
      doc="where the error was found; `customer` makes the order's line a wrong item"),
    C("error_detected_at", TS, doc="when the error was found"),
), ("task_id",), doc="One row per pick of one order line from one location."))

_add(Table("waves", (
    C("wave_id", TEXT, True, doc="wave key"),
    C("node_id", TEXT, True, ref="nodes.node_id", doc="node running the wave"),
    C("released_at", TS, True, doc="when the wave was released to the floor"),
    C("cutoff_at", TS, doc="carrier or ship cutoff the wave must make"),
    C("planned_lines_per_hour", NUM, nonneg=True,
      doc="planned pick rate, used when the node has no measured rate yet"),
    C("closed_at", TS, doc="when the wave was closed (null = open)"),
), ("wave_id",), doc="Pick waves released to the floor."))

_add(Table("receipts", (
    C("receipt_line_id", TEXT, True, doc="receipt line key"),
    C("receipt_id", TEXT, doc="receipt (delivery) the line belongs to"),
    C("node_id", TEXT, True, ref="nodes.node_id", doc="receiving node"),
    C("po_id", TEXT, doc="purchase order or transfer received against"),
    C("supplier_id", TEXT, doc="supplier that delivered"),
    C("sku", TEXT, True, ref="products.sku", doc="SKU received"),
    C("qty_expected", NUM, nonneg=True, doc="units announced"),
    C("qty_received", NUM, True, nonneg=True, doc="units received"),
    C("dock_arrival_at", TS, doc="trailer check-in or unload start; starts dock-to-stock"),
    C("received_at", TS, True, doc="receipt scan (dock-to-stock start when no arrival time)"),
    C("qa_hold", BOOL, doc="the units went on quality hold"),
    C("qa_released_at", TS, doc="when quality released them"),
    C("putaway_completed_at", TS, doc="last unit put away; ends dock-to-stock (null = open)"),
    C("is_crossdock", BOOL, doc="cross-docked, never put away; left out of dock-to-stock"),
), ("receipt_line_id",), doc="Inbound receipt lines."))

_add(Table("inventory_movements", (
    C("movement_id", TEXT, True, doc="movement key; orders movements with the same time"),
    C("node_id", TEXT, True, ref="nodes.node_id", doc="node whose stock changes"),
    C("sku", TEXT, True, ref="products.sku", doc="SKU whose stock changes"),
    C("location_id", TEXT, doc="bin or location"),
    C("moved_at", TS, True, doc="when the stock changed"),
    C("movement_type", TEXT, True, enum=MOVEMENT_TYPES,
      doc="what changed it (receipt, shipment, transfer leg, count adjustment, ...)"),
    C("qty_delta", NUM, True, doc="signed change of on-hand units (+ in, - out)"),
    C("unit_cost", NUM, True, nonneg=True, doc="cost per unit of the units moved"),
    C("reference_id", TEXT, doc="source document (order_line_id, receipt_line_id, count_id)"),
    C("transfer_group_id", TEXT,
      doc="links the two legs of a transfer; the units keep their age across it"),
), ("movement_id",), doc="The stock ledger: every signed change of on-hand quantity."))

_add(Table("inventory_snapshots", (
    C("snapshot_date", DATE, True, doc="the day whose end-of-day stock the row holds"),
    C("node_id", TEXT, True, ref="nodes.node_id", doc="node"),
    C("sku", TEXT, True, ref="products.sku", doc="SKU"),
    C("qty_on_hand", NUM, True, doc="physical units on hand"),
    C("qty_allocated", NUM, True, nonneg=True, doc="units reserved for orders"),
    C("qty_held", NUM, True, nonneg=True, doc="units blocked: quality hold, damaged, quarantine"),
    C("qty_available", NUM, True, doc="on hand - allocated - held: what can still be promised"),
    C("qty_on_order", NUM, nonneg=True, doc="open inbound units (purchase orders, transfers)"),
    C("inventory_value", NUM, True, doc="on-hand units at cost"),
    C("is_active", BOOL, True, doc="sellable and replenished; only active rows count in "
      "stockout KPIs"),
    C("stockout_minutes", INT, nonneg=True,
      doc="minutes out of stock during the day, when the system tracks it"),
), ("snapshot_date", "node_id", "sku"), doc="End-of-day stock per SKU and node."))

_add(Table("inventory_counts", (
    C("count_id", TEXT, True, doc="count line key"),
    C("node_id", TEXT, True, ref="nodes.node_id", doc="node counted"),
    C("location_id", TEXT, True, doc="location counted"),
    C("sku", TEXT, True, ref="products.sku",
      doc="SKU found or expected; one row per SKU per counted location"),
    C("counted_at", TS, True, doc="when the location was counted"),
    C("qty_system_at_count", NUM, True, nonneg=True,
      doc="units the system expected, frozen at count time"),
    C("qty_counted", NUM, True, nonneg=True, doc="units found"),
    C("is_recount", BOOL, True, doc="a recount of an earlier count; not a new count event"),
    C("count_program", TEXT, enum=("cycle", "full", "ad_hoc"), doc="why the count was made"),
), ("count_id",), doc="Cycle and full counts, one row per SKU per counted location."))

_add(Table("forecasts", (
    C("sku", TEXT, True, ref="products.sku", doc="SKU forecast"),
    C("node_id", TEXT, True, doc="node, or `UNASSIGNED` / a region for forecasts above node "
      "level"),
    C("target_period_start", DATE, True, doc="first day of the period forecast"),
    C("period_granularity", TEXT, True, enum=("day", "week", "month"),
      doc="length of the target period"),
    C("forecast_made_at", TS, True, doc="when the forecast snapshot was taken"),
    C("qty_forecast", NUM, True, nonneg=True, doc="units forecast for the target period"),
    C("forecast_version", TEXT, doc="model or method that made it"),
), ("sku", "node_id", "target_period_start", "period_granularity", "forecast_made_at"),
    doc="Forecast snapshots per SKU, node and target period."))

_add(Table("returns", (
    C("return_line_id", TEXT, True, doc="return line key"),
    C("rma_id", TEXT, doc="return authorisation (RMA) the line belongs to"),
    C("order_id", TEXT, True, ref="orders.order_id", doc="order returned from"),
    C("order_line_id", TEXT, True, ref="order_lines.order_line_id", doc="line returned"),
    C("sku", TEXT, True, ref="products.sku", doc="SKU returned"),
    C("qty", NUM, True, nonneg=True, doc="units returned"),
    C("return_reason", TEXT, True, enum=RETURN_REASONS,
      doc="why; damage and wrong-item reasons are evidence against the order"),
    C("rma_requested_at", TS, True, doc="when the customer asked to return"),
    C("rma_decided_at", TS, doc="when the request was decided (null = undecided)"),
    C("rma_decision", TEXT, enum=("approved", "rejected", "withdrawn"), doc="the decision"),
    C("received_at", TS, doc="when the returned units arrived"),
    C("receiving_node_id", TEXT, ref="nodes.node_id", doc="node that received them"),
    C("disposition", TEXT,
      enum=("restock", "refurbish", "liquidate", "scrap", "return_to_vendor"),
      doc="what was done with the units"),
    C("disposition_at", TS, doc="when the disposition was recorded; ends return processing"),
    C("refund_issued_at", TS, doc="when the customer was refunded (may precede receipt)"),
), ("return_line_id",), doc="Return (RMA) lines."))

_add(Table("labor_hours", (
    C("node_id", TEXT, True, ref="nodes.node_id", doc="node"),
    C("work_date", DATE, True, doc="working day"),
    C("activity", TEXT, True, enum=LABOR_ACTIVITIES, doc="what the hours were spent on"),
    C("worker_id", TEXT, doc="worker, for per-picker rates (null = node total)"),
    C("hours", NUM, True, nonneg=True, doc="paid productive hours, breaks excluded"),
), (), doc="Labour hours per node, day, activity (and optionally worker). No key."))

_add(Table("node_capacity_daily", (
    C("node_id", TEXT, True, ref="nodes.node_id", doc="node"),
    C("capacity_date", DATE, True, doc="day"),
    C("capacity_unit", TEXT, True, enum=("positions", "m3"),
      doc="unit of the two figures; each unit is rolled up on its own"),
    C("usable_capacity", NUM, True, nonneg=True, doc="storage that can be used"),
    C("occupied", NUM, True, nonneg=True, doc="storage in use that day"),
), ("node_id", "capacity_date"), doc="Daily storage capacity and occupancy per node."))

_add(Table("fulfillment_costs", (
    C("node_id", TEXT, True, ref="nodes.node_id", doc="node the cost belongs to"),
    C("period_start", DATE, True, doc="first day of the cost period"),
    C("period_end", DATE, True, doc="inclusive last day of the cost period"),
    C("cost_pool", TEXT, True, enum=COST_POOLS, doc="kind of cost"),
    C("amount", NUM, True, doc="cost of the pool over the period"),
    C("currency", TEXT, True, doc="ISO 4217 code of the amount"),
), (), doc="Fulfilment operating cost per node, cost pool and cost period. No key."))

_add(Table("replenishment_recommendations", (
    C("rec_id", TEXT, True, doc="recommendation key"),
    C("node_id", TEXT, True, ref="nodes.node_id", doc="node to replenish"),
    C("sku", TEXT, True, ref="products.sku", doc="SKU to replenish"),
    C("supplier_id", TEXT, doc="proposed supplier"),
    C("created_at", TS, True, doc="when the system made the recommendation"),
    C("decision_due_at", TS, True, doc="when a planner must have decided"),
    C("qty_recommended", NUM, True, nonneg=True, doc="units recommended"),
    C("decision", TEXT, enum=REC_DECISIONS, doc="the planner's decision; null = pending"),
    C("decided_at", TS, doc="when it was decided"),
    C("qty_ordered", NUM, nonneg=True, doc="units actually ordered"),
    C("resulting_po_id", TEXT, doc="purchase order created from it"),
    C("superseded_by", TEXT, doc="the newer recommendation that replaced it"),
), ("rec_id",), doc="System replenishment recommendations and planners' decisions."))

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.required)
# NOT NULL columns a source may lack as a whole: ("table", "column") -> default (None = empty)
ABSENT_DEFAULTS: dict[tuple[str, str], object] = {
    (t.name, c.name): c.absent[0] for t in TABLES.values() for c in t.columns if c.absent}


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
