"""Perfect order and its components, A1-A6.

Every KPI here reads :func:`kpilib.fact_tables.commit_units.evaluate`: one row per commit unit (or
per sub-unit when cut by a line-level dimension), anchored at the unit deadline ``D_u``
(``cohort="due"``, default) or at its final delivery (``cohort="delivered"``; units with open
quantity are then pending). Rows carry ``excluded`` (population reasons,
``customer_cancel``, ``missing_delivery_scan``) and ``preliminary`` (a delivered unit younger
than the KPI's maturity window).
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.commit_units import default_maturity, evaluate
from kpilib.kpis.common import observations
from kpilib.registry import ORDER_DIMS, kpi

BASE_TABLES = ("orders", "order_lines", "shipments", "shipment_lines")
# a source declared without delivery scans (delivery_events: none) cannot say when a unit
# arrived (kpilib.engine.recorded)
DELIVERY = ("capture:delivery_events",)
COMMON = ("tol_units", "early_tolerance_hours", "count_failed_attempt_by_customer", "cohort",
          "commit_basis", "maturity_days")


def _obs(ctx: Context, ok: pd.Series, units: pd.DataFrame, preliminary: bool) -> pd.DataFrame:
    return observations(units, ctx, anchor=units["anchor"], num=ok.astype(float), den=1.0,
                        excluded=units["excluded"],
                        preliminary=units["preliminary"] if preliminary else False)


@kpi("perfect_order_rate", code="A1", fact="commit_units",
     name="Perfect order rate", domain="order", unit="fraction",
     direction="higher", grain="commit unit",
     kind="rate", tables=(*BASE_TABLES, "order_events", "returns"),
     dims=(*ORDER_DIMS, "carrier"), params=COMMON, requires=DELIVERY)
def perfect_order_rate(ctx: Context) -> pd.DataFrame:
    """Σ_u [in_full(u) ∧ on_time(u) ∧ doc_ok(u) ∧ condition_ok(u)] / |U| (SCOR RL.1.1).

    Anchor: the unit's deadline (default ``cohort="due"``), or its final delivery with
    ``cohort="delivered"``.

    Population: commit units of customer orders; test, fraud, duplicate, transfer and replacement
    orders and units the customer cancelled entirely are excluded, each under its reason; a
    delivered shipment without a delivery scan excludes its unit (``missing_delivery_scan``).

    Grain: commit unit (order_id, original promise); anchor ``D_u`` (due cohort) or
    final delivery (``cohort="delivered"``). Every component uses a 30-day evidence window
    (A1 inherits A5's window; ``maturity_days`` overrides).

    Edge cases: due but undelivered at ``as_of`` -> imperfect (late); fully
    customer-cancelled unit -> excluded ``customer_cancel``; test/fraud/duplicate/transfer/
    replacement orders -> excluded with their reason; any merchant cancellation or short ->
    imperfect; partial shipments judged on all shipments of the unit; a delivered shipment
    without delivery scan -> unit excluded ``missing_delivery_scan``; returns for
    non-defect reasons do not count; ``preliminary`` while a delivered unit is younger than
    30 days. An undelivered unit has no condition defect but already fails on time.

    Notes: needs ``order_events`` (A4) and ``returns`` (A5) as well as shipments, else
    ``unavailable``. Empty population -> undefined.
    """
    u = evaluate(ctx, default_maturity(ctx, 30))
    ok = u["in_full"] & u["on_time"] & u["doc_ok"] & u["condition_ok"]
    return _obs(ctx, ok, u, True)


@kpi("in_full_rate", code="A2", fact="commit_units",
     name="In-full rate", domain="order", unit="fraction", direction="higher",
     grain="commit unit", kind="rate", tables=BASE_TABLES, dims=ORDER_DIMS, params=COMMON,
     requires=DELIVERY)
def in_full_rate(ctx: Context) -> pd.DataFrame:
    """Σ_u in_full(u) / |U|, in_full(u) = ∀l: |d_l − r_l| ≤ tol ∧ cm_l = 0 ∧ no wrong item.

    Anchor: the unit's deadline (default ``cohort="due"``), or its final delivery with
    ``cohort="delivered"``.

    Population: commit units of customer orders; test, fraud, duplicate, transfer and replacement
    orders and units the customer cancelled entirely are excluded, each under its reason; as for
    perfect order.

    ``r_l`` = qty_ordered − qty_cancelled_customer; ``d_l`` = quantity of delivered shipments
    (all deliveries, also after ``D_u``: lateness belongs to A3); ``tol`` = ``tol_units``
    (absolute units per line; over-delivery beyond it fails). Wrong-item evidence within
    14 days of the unit's last delivery (``maturity_days`` overrides): customer-detected
    pick error, unapproved substitution (picked SKU ≠ line SKU), return wrong_item /
    missing_item, replacement order with such a reason (see ``facts.unit_evidence``).

    Edge cases: due and undelivered -> not in full (restated once delivered); kits judged at
    the parent line (components rolled up); exclusions as A1; preliminary while a
    delivered unit is younger than the window. Empty population -> undefined.
    """
    u = evaluate(ctx, default_maturity(ctx, 14))
    return _obs(ctx, u["in_full"], u, True)


@kpi("on_time_delivery_rate", code="A3", fact="commit_units",
     name="On-time delivery rate", domain="order", unit="fraction",
     direction="higher", grain="commit unit", kind="rate", tables=BASE_TABLES,
     dims=(*ORDER_DIMS, "carrier", "service_level"), params=COMMON, requires=DELIVERY)
def on_time_delivery_rate(ctx: Context) -> pd.DataFrame:
    """Σ_u on_time(u) / |U|, on_time(u) = Σd > 0 ∧ every delivery ≤ D_u ∧ nothing open at D_u.

    Anchor: the unit's deadline (default ``cohort="due"``), or its final delivery with
    ``cohort="delivered"``.

    Population: commit units of customer orders; test, fraud, duplicate, transfer and replacement
    orders and units the customer cancelled entirely are excluded, each under its reason; a missing
    delivery scan excludes the unit.

    ``D_u`` = latest line deadline of the unit on ``commit_basis`` (original, replaced by a
    customer-initiated change; or current / requested); a date-level promise ends at the end
    of its calendar day in ``orders.ship_to_timezone`` (UTC when null). Open at ``D_u`` =
    required − merchant-cancelled − delivered by ``D_u`` > ``tol_units`` on any line
    (merchant-cancelled quantity never makes a unit late; it fails A2). With
    ``early_tolerance_hours`` set, a delivery earlier than the promise window start minus that
    many hours is not on time (a date promise's window starts at its local midnight).

    Edge cases: undelivered past ``D_u`` -> late; carrier delay is late; failed,
    lost and returned shipments deliver nothing, except that with
    ``count_failed_attempt_by_customer=True`` a failure ``customer_unavailable`` counts at
    ``first_delivery_attempt_at``; store pickup = ``ready_for_pickup`` time; missing
    scan -> excluded. No maturity window (never preliminary).
    """
    u = evaluate(ctx, default_maturity(ctx, 14))
    return _obs(ctx, u["on_time"], u, False)


@kpi("documentation_accuracy_rate", code="A4", fact="commit_units",
     name="Documentation accuracy rate", domain="order",
     unit="fraction", direction="higher", grain="commit unit", kind="rate",
     tables=(*BASE_TABLES, "order_events"), dims=ORDER_DIMS, params=COMMON,
     requires=("order_events.event_type=doc_defect", *DELIVERY))
def documentation_accuracy_rate(ctx: Context) -> pd.DataFrame:
    """Σ_u doc_ok(u) / |U|, doc_ok(u) = no doc_defect event of u at or before delivery + 14 d.

    Anchor: the unit's deadline (default ``cohort="due"``), or its final delivery with
    ``cohort="delivered"``.

    Population: commit units of customer orders; test, fraud, duplicate, transfer and replacement
    orders and units the customer cancelled entirely are excluded, each under its reason; as for
    perfect order.

    A ``doc_defect`` event with an ``order_line_id`` belongs to that line's unit; one without
    a line applies to every unit of the order (A4). The window ends 14 days (``maturity_days``)
    after the unit's last delivery; an undelivered unit counts every defect known at
    ``as_of``. Absence of a recorded defect means accurate. Exclusions and anchor as A1;
    preliminary while a delivered unit is younger than the window.

    Notes: ``order_events`` has no shipment reference, so "defects linked to shipments" can
    only be recorded through the line or the order. ``n_defect_events`` is not a separate
    output (the engine has one value per KPI); count them with ``kpilib.facts``.
    """
    u = evaluate(ctx, default_maturity(ctx, 14))
    return _obs(ctx, u["doc_ok"], u, True)


@kpi("perfect_condition_rate", code="A5", fact="commit_units",
     name="Perfect condition rate", domain="order", unit="fraction",
     direction="higher", grain="commit unit", kind="rate",
     tables=(*BASE_TABLES, "returns"), dims=(*ORDER_DIMS, "carrier"), params=COMMON,
     requires=DELIVERY)
def perfect_condition_rate(ctx: Context) -> pd.DataFrame:
    """Σ_u condition_ok(u) / |U_delivered|, over units with at least one delivery.

    Anchor: the unit's deadline (default ``cohort="due"``), or its final delivery with
    ``cohort="delivered"``.

    Population: commit units of customer orders; test, fraud, duplicate, transfer and replacement
    orders and units the customer cancelled entirely are excluded, each under its reason; units
    without any delivery are excluded (``not_delivered``).

    condition_ok(u) = no damage_claim event, no return line damaged / defective /
    wrong_configuration, no replacement order with such a reason and no delivery refused for
    damage, for any line of u, within 30 days (``maturity_days``) of the unit's last delivery.

    Edge cases: units without any delivery (or refused delivery) leave this KPI's population
    (excluded ``not_delivered``); carrier damage included; a refused delivery with a damage
    reason counts as a claim (and as contact with the customer); order-level claims apply to
    every unit; preliminary while a delivered unit is younger than 30 days.
    """
    u = evaluate(ctx, default_maturity(ctx, 30))
    u = u.assign(excluded=u["excluded"].where(u["excluded"].notna() | u["contact"],
                                              "not_delivered"))
    return _obs(ctx, u["condition_ok"], u, True)


@kpi("otif_rate", code="A6", fact="commit_units",
     name="On-time in-full rate", domain="order", unit="fraction",
     direction="higher", grain="commit unit", kind="rate", tables=BASE_TABLES,
     dims=(*ORDER_DIMS, "carrier", "service_level"), params=COMMON, requires=DELIVERY)
def otif_rate(ctx: Context) -> pd.DataFrame:
    """Σ_u [in_full(u) ∧ on_time(u)] / |U| (A2 ∧ A3 on the same unit).

    Anchor: the unit's deadline (default ``cohort="due"``), or its final delivery with
    ``cohort="delivered"``.

    Population: commit units of customer orders; test, fraud, duplicate, transfer and replacement
    orders and units the customer cancelled entirely are excluded, each under its reason; as for
    in-full and on-time.

    Grain, anchor, exclusions and options as A2/A3; the wrong-item evidence window is 14 days
    (``maturity_days`` overrides); preliminary while a delivered unit is younger than
    it.
    """
    u = evaluate(ctx, default_maturity(ctx, 14))
    return _obs(ctx, u["in_full"] & u["on_time"], u, True)
