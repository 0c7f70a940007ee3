"""Warehouse operations KPIs: B2 picking accuracy, B3 pick productivity, B4 dock-to-stock,
B6 capacity utilization (kpi-spec §3) and E4 wave backlog (§6, computed in
kpilib.facts.waves). Warehouse population: only test orders are excluded (§11.9)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import segments
from kpilib.context import Context
from kpilib.facts.ops_common import day_anchor, hours
from kpilib.facts.timeline import expand_open
from kpilib.facts.warehouse import capacity_observations, pick_tasks, pick_units
from kpilib.facts.waves import E4_DIMS, snapshot_pads, wave_snapshots
from kpilib.registry import kpi

PICK_DIMS = ("node", "fulfillment_model", "picker", "channel", "product_class", "supplier",
             "sku")


def _dims(frame: pd.DataFrame, ctx: Context) -> dict[str, pd.Series]:
    return {d: frame[d] for d in ctx.by if d in frame.columns}


def _accuracy_obs(ctx: Context, unit: str) -> pd.DataFrame:
    u = pick_units(ctx, unit)
    return pd.DataFrame({
        **_dims(u, ctx),
        "anchor": u["last_picked_at"].where(u["picked"]),
        "num": (~u["error"]).astype(float), "den": 1.0,
        "excluded": u["warehouse_exclusion"], "preliminary": u["preliminary"],
    })


_B2_DOC = """

    A pick error is a task with ``error_detected`` at any detection point (pack
    verification, audit, customer: errors caught at pack still count), or a return with
    reason ``wrong_item``/``missing_item`` on the line requested within ``maturity_days``
    (default 14) of the line's last pick. A short the picker reported (``short_reported``
    with error type ``wrong_qty`` or none) is not a pick error (it is an inventory-accuracy
    issue, C6). Cancelled tasks are ignored; a unit with an open task is pending. Transfer
    orders are included; test orders excluded (§11.9). ``preliminary`` while a unit's last
    pick is younger than the maturity window (§11.2: B2 14 days; measured from the pick, as
    the pick is what is being judged). Cut by a task-level dimension (picker,
    product_class...) the unit is the sub-unit of its tasks in the segment (§1.10).
    """


@kpi("order_picking_accuracy", name="Order picking accuracy", domain="fulfillment",
     unit="fraction", direction="higher", grain="order-node slice (picked)", kind="rate",
     tables=("orders", "order_lines", "pick_tasks"), dims=PICK_DIMS, params=("maturity_days",))
def order_picking_accuracy(ctx: Context) -> pd.DataFrame:
    """order_picking_accuracy = |{slices picked in P with no pick error}| / |{slices picked
    in P}|; slice = the pick tasks of one order at one node; anchor = its last pick."""
    return _accuracy_obs(ctx, "order")


@kpi("line_picking_accuracy", name="Line picking accuracy", domain="fulfillment",
     unit="fraction", direction="higher", grain="pick line (order line at a node)",
     kind="rate", tables=("orders", "order_lines", "pick_tasks"), dims=PICK_DIMS,
     params=("maturity_days",))
def line_picking_accuracy(ctx: Context) -> pd.DataFrame:
    """line_picking_accuracy = |{pick lines picked in P with no error}| / |{pick lines picked
    in P}|; pick line = the pick tasks of one order line at one node; anchor = last pick."""
    return _accuracy_obs(ctx, "line")


order_picking_accuracy.__doc__ += _B2_DOC
line_picking_accuracy.__doc__ += _B2_DOC

PROD_DIMS = ("node", "fulfillment_model", "picker")


def _productivity_obs(ctx: Context, units: bool) -> pd.DataFrame:
    t = pick_tasks(ctx)
    t = t.loc[t["picked_at"].notna() & (t["qty_picked"] > 0)]
    picks = pd.DataFrame({**_dims(t, ctx), "anchor": t["picked_at"],
                          "num": t["qty_picked"] if units else 1.0, "den": 0.0, "n": 1,
                          "excluded": t["warehouse_exclusion"]})
    lh = ctx.table("labor_hours")
    lh = lh.loc[lh["activity"].eq("pick")]
    fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
    labor_dims = {"node": lh["node_id"], "picker": lh["worker_id"],
                  "fulfillment_model": lh["node_id"].map(fm)}
    hours_rows = pd.DataFrame({**{d: labor_dims[d] for d in ctx.by},
                               "anchor": day_anchor(lh["work_date"], ctx.tz), "num": 0.0,
                               "den": lh["hours"], "n": 0, "excluded": None})
    return pd.concat([picks, hours_rows], ignore_index=True)


_B3_DOC = """

    Grain: node-day; anchors = ``picked_at`` for picks, local midnight of ``work_date`` (in
    the reporting time zone) for hours. A pick line is one ``pick_tasks`` row confirmed with
    ``qty_picked > 0`` (a location visit serving three order lines is three rows). Only
    ``activity='pick'`` hours are in the denominator (indirect time excluded). Zero pick hours
    → undefined. Test orders' picks are excluded. Cut by ``picker`` the hours are matched on
    ``labor_hours.worker_id``. Automated picks cannot be told apart (§8 has no tag), so all
    confirmed picks count; product_class is not offered (hours carry no product class).
    """


@kpi("lines_picked_per_hour", name="Lines picked per hour", domain="fulfillment",
     unit="lines/hour", direction="higher", grain="node-day", kind="ratio",
     tables=("orders", "order_lines", "pick_tasks", "labor_hours"), dims=PROD_DIMS)
def lines_picked_per_hour(ctx: Context) -> pd.DataFrame:
    """lines_picked_per_hour = |{pick lines confirmed in P}| / Σ labor_hours.hours
    (activity 'pick') with work_date in P."""
    return _productivity_obs(ctx, units=False)


@kpi("units_picked_per_hour", name="Units picked per hour", domain="fulfillment",
     unit="units/hour", direction="higher", grain="node-day", kind="ratio",
     tables=("orders", "order_lines", "pick_tasks", "labor_hours"), dims=PROD_DIMS)
def units_picked_per_hour(ctx: Context) -> pd.DataFrame:
    """units_picked_per_hour = Σ qty_picked of pick lines confirmed in P / Σ labor_hours.hours
    (activity 'pick') with work_date in P."""
    return _productivity_obs(ctx, units=True)


lines_picked_per_hour.__doc__ += _B3_DOC
units_picked_per_hour.__doc__ += _B3_DOC

RECEIPT_DIMS = ("node", "fulfillment_model", "supplier", "product_class", "sku")


@kpi("dock_to_stock_hours", name="Dock-to-stock cycle time", domain="fulfillment",
     unit="hours", direction="lower", grain="receipt line", kind="mean", tables=("receipts",),
     dims=RECEIPT_DIMS,
     requires=('receipts.putaway_completed_at',))
def dock_to_stock_hours(ctx: Context) -> pd.DataFrame:
    """dock_to_stock = putaway_completed_at − dock_arrival_at (hours; fallback received_at);
    mean, p50, p90, n over receipt lines put away in P.

    Grain: receipt line; anchor = ``putaway_completed_at`` (the last unit put away, so a
    partial putaway is measured to its end). Cross-dock lines are excluded (``crossdock``),
    negative durations too (``negative_duration``). Lines with no ``dock_arrival_at`` are
    measured from ``received_at`` and kept in the value; they are *counted* under
    ``fallback_received_at`` in the ``excluded`` JSON, which is the result's only per-reason
    counter (so that key is a count of fallbacks, not an exclusion). Lines on hold (QA or
    supplier discrepancy) stay in the gross figure. Lines not yet put away: see
    ``open_receipt_age_hours``. Supplier = the receipt's supplier, else the product's.
    """
    rl = ctx.fact("receipt_lines")
    obs = pd.DataFrame({**_dims(rl, ctx), "anchor": rl["putaway_completed_at"],
                        "x": rl["dock_to_stock_hours"].where(rl["exclusion"].isna()),
                        "excluded": rl["exclusion"]})
    marks = obs.loc[obs["excluded"].isna() & rl["fallback_received_at"]].assign(
        x=np.nan, excluded="fallback_received_at")
    return pd.concat([obs, marks], ignore_index=True)


@kpi("open_receipt_age_hours", name="Open receipt age (snapshot)", domain="fulfillment",
     unit="hours", direction="lower", grain="receipt line (snapshot)", kind="mean",
     tables=("receipts",), dims=RECEIPT_DIMS, snapshot=True)
def open_receipt_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t − dock_arrival_at (fallback received_at) of receipt lines received by t and
    not put away by t (hours); mean, p50, p90, n.

    Snapshot (§11.12) at ``as_of`` (``freq=None``) or each period end capped at ``as_of``.
    Cross-dock lines are not in the population. A line is open from its receipt scan (the
    record exists from then, asof.py) until its putaway.
    """
    rl = ctx.fact("receipt_lines")
    rl = rl.loc[~rl["is_crossdock"]]
    base = rl[[*[d for d in ctx.by if d in rl.columns], "start_at"]]
    rows = expand_open(base, rl["received_at"], rl["putaway_completed_at"],
                       ctx.snapshot_points())
    rows["x"] = hours(rows["t"], rows["start_at"])
    return rows.drop(columns=["t", "start_at"])


CAP_DIMS = ("node", "fulfillment_model")


_B6_DOC = """

    Grain: node-day; anchor = ``capacity_date`` (local midnight in the reporting time zone).
    Roll-ups over several nodes use ``Σoccupied / Σusable`` per day (capacity changes are
    handled by the daily denominator). Days with ``usable_capacity = 0`` are excluded
    (``usable_capacity_zero``). Units are never mixed: when one segment holds nodes in
    different ``capacity_unit`` (positions and m³), each unit is rolled up on its own and the
    day's value is the mean of the per-unit ratios. ``n`` counts node-days.
    """


@kpi("warehouse_capacity_utilization_avg", name="Warehouse capacity utilization (average)",
     domain="fulfillment", unit="fraction", direction="target", grain="node-day",
     kind="custom", tables=("node_capacity_daily",), dims=CAP_DIMS)
def warehouse_capacity_utilization_avg(ctx: Context) -> pd.DataFrame:
    """avg = mean over the days of P of u_d, u_d = Σoccupied / Σusable_capacity that day;
    numerator = Σ_d u_d, denominator = number of days."""
    return capacity_observations(ctx, peak=False)


@kpi("warehouse_capacity_utilization_peak", name="Warehouse capacity utilization (peak)",
     domain="fulfillment", unit="fraction", direction="target", grain="node-day",
     kind="custom", tables=("node_capacity_daily",), dims=CAP_DIMS)
def warehouse_capacity_utilization_peak(ctx: Context) -> pd.DataFrame:
    """peak = max over the days of P of u_d, u_d = Σoccupied / Σusable_capacity that day;
    numerator / denominator = Σoccupied / Σusable of the peak day (latest day on ties)."""
    return capacity_observations(ctx, peak=True)


warehouse_capacity_utilization_avg.__doc__ += _B6_DOC
warehouse_capacity_utilization_peak.__doc__ += _B6_DOC


def _obs(ctx: Context, value: pd.Series | float, rec: pd.DataFrame,
         excluded: pd.Series | None = None) -> pd.DataFrame:
    out = pd.DataFrame({"period": rec["period"], **{d: rec[d] for d in ctx.by},
                        "num": value, "den": 1.0, "n": 1})
    if excluded is not None:
        out["excluded"] = excluded
    return pd.concat([out, snapshot_pads(ctx)], ignore_index=True)


_COMMON = dict(domain="leading", grain="wave (snapshot)", kind="sum",
               tables=("orders", "order_lines", "pick_tasks", "waves"), dims=E4_DIMS,
               snapshot=True, direction="lower")

_E4_DOC = """

    Snapshot at ``as_of`` (``freq=None``) or at each period end capped at ``as_of``
    (§11.12). Records are the open waves at the snapshot (plus the node's ``UNWAVED`` bucket
    when it holds open lines; ``n`` counts them). A snapshot with no open wave reads 0 (the
    backlog is empty, which is a measurement, not a missing population), for every node and
    channel known to the pick data; only a snapshot before any data is undefined. See
    kpilib.facts.waves for
    rate, at-risk and late rules; rate = 0 (no pick in the last hour and no planned rate)
    leaves projected finish undefined and makes a wave with open lines at risk.
    """


@kpi("wave_backlog", name="Warehouse backlog by wave (open lines)", unit="lines", **_COMMON)
def wave_backlog(ctx: Context) -> pd.DataFrame:
    """lines_open = Σ over open waves of pick tasks released and not picked at the snapshot
    (headline of E4; companions wave_units_open, wave_backlog_hours, waves_at_risk,
    waves_late)."""
    rec = wave_snapshots(ctx)
    return _obs(ctx, rec["lines_open"], rec)


@kpi("wave_units_open", name="Warehouse backlog by wave (open units)", unit="units",
     **_COMMON)
def wave_units_open(ctx: Context) -> pd.DataFrame:
    """units_open = Σ (qty_requested − qty picked by t) over open tasks of open waves."""
    rec = wave_snapshots(ctx)
    return _obs(ctx, rec["units_open"], rec)


@kpi("wave_backlog_hours", name="Warehouse backlog hours", unit="hours", **_COMMON)
def wave_backlog_hours(ctx: Context) -> pd.DataFrame:
    """backlog_hours = Σ over open waves of lines_open / rate (rate = node picks in the
    trailing 60 min, fallback the wave's planned lines per hour); waves with open lines and
    rate 0 are excluded (``zero_rate``)."""
    rec = wave_snapshots(ctx)
    bad = rec["backlog_hours"].isna()
    return _obs(ctx, rec["backlog_hours"].fillna(0.0), rec,
                excluded=pd.Series(np.where(bad, "zero_rate", None), index=rec.index))


@kpi("waves_at_risk", name="Waves at risk of missing cutoff", unit="count", **_COMMON)
def waves_at_risk(ctx: Context) -> pd.DataFrame:
    """waves_at_risk = |{open waves with t + lines_open / rate > cutoff_at}| (rate 0 with
    open lines counts as at risk; waves without a cutoff never are)."""
    rec = wave_snapshots(ctx)
    return _obs(ctx, rec["at_risk"].astype(float), rec)


@kpi("waves_late", name="Waves late (past cutoff with open lines)", unit="count", **_COMMON)
def waves_late(ctx: Context) -> pd.DataFrame:
    """waves_late = |{open waves with t > cutoff_at and lines_open > 0}|."""
    rec = wave_snapshots(ctx)
    return _obs(ctx, rec["late"].astype(float), rec)


for _f in (wave_backlog, wave_units_open, wave_backlog_hours, waves_at_risk, waves_late):
    _f.__doc__ += _E4_DOC
