"""Plausibility rules: values that parse and fit their type but cannot be true of an extract.

Each rule is one small vectorised function over the typed tables, returning problems built by
:func:`kpilib.contracts.problems.problem` (table, column, rule, rows, examples):

- ``timestamp_out_of_range``: a timestamp or date outside [1900-01-01, 2200-01-01), the range
  in which kpilib's duration arithmetic (nanoseconds since 1970) cannot overflow.
- ``future_event``: an observed event time (any ts/date column except the planned ones of
  ``schema.PLANNED_COLUMNS``) later than the extract time plus a tolerance. The extract time is
  ``extracted_at`` of the folder's ``dataset.json`` when given, else the load time.
- ``far_from_bulk``: an observed event time more than ``max(2 years, 4 x IQR)`` before the
  first or after the third quartile of all observed times of the dataset, such as an order
  dated 1900 in a 2024 extract.
- ``above_ceiling``: a quantity (``qty*`` columns) or an amount (prices, costs, order amounts)
  whose absolute value exceeds the ceiling (default 1e7 units, 1e10 currency units; set
  ``max_quantity`` / ``max_amount`` in ``dataset.json``), whatever other columns say.
- ``negative_cost``: ``fulfillment_costs.amount`` below zero (credits belong in their own
  cost period as a lower positive amount, not as a negative row).
- ``mixed_currency``: more than one currency across ``orders.currency`` and
  ``fulfillment_costs.currency``; kpilib does not convert currencies, so amounts in two
  currencies would be added as if they were one.
- ``status_contradiction``: a status the timestamps deny: a shipment with ``delivered_at`` whose
  ``delivery_status`` is pending, in_transit, failed or lost; a shipment in transit, delivered
  or lost without ``shipped_at``; a pick task ``picked`` without ``picked_at`` or ``open`` with
  it. (``delivered`` with a blank ``delivered_at`` is a *missing delivery scan*, which the
  delivery KPIs exclude and count; it is not an error.)
- ``cancelled_without_timestamp``: an order whose every line is fully cancelled
  (qty_cancelled_customer + qty_cancelled_merchant = qty_ordered > 0) but whose ``cancelled_at``
  is null, whoever cancelled: ``cancelled_at`` is the cancellation of the whole order, which an
  order with nothing left to ship is, also when the merchant cancelled every line for lack of
  stock (initiator ``merchant``, reason ``stockout``). The order-level cancellation rates count
  orders by ``cancelled_at``, so such an order would silently count as not cancelled.
- ``shipment_without_lines``: a shipment with no row in ``shipment_lines`` (checked when that
  table is present): its units are unknown, so fill and shipped-order KPIs would disagree.

Rows out of range are reported once, by ``timestamp_out_of_range``, not again as future or far;
future rows only as ``future_event``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpilib import schema
from kpilib.contracts.problems import problem
from kpilib.errors import DataContractError

MIN_TIME = pd.Timestamp("1900-01-01", tz="UTC")
MAX_TIME = pd.Timestamp("2200-01-01", tz="UTC")
BULK_MARGIN = pd.Timedelta(days=730)
BULK_IQRS = 4.0
EPS = 1e-9
AMOUNT_COLUMNS = frozenset({
    ("products", "unit_cost"), ("orders", "merchandise_amount"),
    ("orders", "shipping_amount_charged"), ("order_lines", "unit_price"),
    ("shipments", "parcel_cost"), ("inventory_movements", "unit_cost"),
    ("inventory_snapshots", "inventory_value"), ("fulfillment_costs", "amount"),
})


@dataclass(frozen=True)
class Limits:
    """Settings of the plausibility rules (``dataset.json`` may override each)."""

    extracted_at: pd.Timestamp | None = None  # None: the load time
    future_tolerance: pd.Timedelta = pd.Timedelta(days=1)
    max_quantity: float = 1e7
    max_amount: float = 1e10

    def extract_time(self) -> pd.Timestamp:
        """The extract time: ``extracted_at`` or now (UTC)."""
        return self.extracted_at if self.extracted_at is not None else pd.Timestamp.now("UTC")


def _time_columns(name: str, observed_only: bool) -> list[str]:
    return [c.name for c in schema.TABLES[name].columns
            if c.dtype in (schema.TS, schema.DATE)
            and not (observed_only and (name, c.name) in schema.PLANNED_COLUMNS)]


def _utc(s: pd.Series) -> pd.Series:
    return s.dt.tz_localize("UTC") if s.dt.tz is None else s


def out_of_range_masks(tables: dict[str, pd.DataFrame]) -> dict[tuple[str, str], np.ndarray]:
    """Per (table, column), the rows whose time lies outside [MIN_TIME, MAX_TIME)."""
    out = {}
    for name, frame in tables.items():
        for col in _time_columns(name, observed_only=False):
            s = _utc(frame[col])
            out[(name, col)] = ((s < MIN_TIME) | (s >= MAX_TIME)).to_numpy()
    return out


def narrow_time_units(name: str, raw: pd.DataFrame
                      ) -> tuple[pd.DataFrame, list[DataContractError], dict[str, np.ndarray]]:
    """Datetime columns stored at another unit (parquet: us, ms, s) whose values pandas cannot
    hold in nanoseconds (before 1677, after 2262) become null and ``timestamp_out_of_range``
    problems, so parsing never overflows. Returns the frame, problems and reported rows."""
    problems, reported, out = [], {}, raw
    for col in schema.TABLES[name].columns:
        if col.dtype not in (schema.TS, schema.DATE) or col.name not in raw.columns:
            continue
        s = raw[col.name]
        if not pd.api.types.is_datetime64_any_dtype(s) or getattr(s.dt, "unit", "ns") == "ns":
            continue
        naive = s.dt.tz_localize(None) if s.dt.tz is not None else s
        bad = ((naive < MIN_TIME.tz_localize(None)) | (naive >= MAX_TIME.tz_localize(None)))
        bad = bad.to_numpy()
        if bad.any():
            problems.append(problem(name, col.name, "timestamp_out_of_range",
                                    f"{col.name} outside {MIN_TIME.year}-{MAX_TIME.year}, the "
                                    "range kpilib computes with", frame=raw, mask=bad))
            reported[col.name] = bad
        if out is raw:
            out = raw.copy()
        out[col.name] = s.where(~bad).astype(s.dtype.name.replace(f"[{s.dt.unit}", "[ns"))
    return out, problems, reported


def check_range(tables: dict[str, pd.DataFrame],
                masks: dict[tuple[str, str], np.ndarray]) -> list[DataContractError]:
    """``timestamp_out_of_range`` problems."""
    return [problem(name, col, "timestamp_out_of_range",
                    f"{col} outside {MIN_TIME.year}-{MAX_TIME.year}, the range kpilib computes "
                    "with; a placeholder date (1677, 2262, 9999) or a typo?",
                    frame=tables[name], mask=bad)
            for (name, col), bad in masks.items() if bad.any()]


def check_future(tables: dict[str, pd.DataFrame], limits: Limits,
                 masks: dict[tuple[str, str], np.ndarray]) -> list[DataContractError]:
    """``future_event``: observed times after the extract time plus the tolerance."""
    extract = limits.extract_time()
    cutoff = extract + limits.future_tolerance
    source = "dataset.json extracted_at" if limits.extracted_at is not None else "load time"
    problems = []
    for name, frame in tables.items():
        for col in _time_columns(name, observed_only=True):
            bad = (_utc(frame[col]) > cutoff).to_numpy() & ~masks[(name, col)]
            if bad.any():
                problems.append(problem(
                    name, col, "future_event",
                    f"{col} later than the extract time {extract:%Y-%m-%d %H:%M}Z ({source}) "
                    f"+ {limits.future_tolerance}", frame=frame, mask=bad))
    return problems


def bulk_window(tables: dict[str, pd.DataFrame]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """[lo, hi] outside which an observed time is far from the bulk (None without times).

    The bulk is the interquartile range [q25, q75] of every observed time in the data; the
    window widens it by ``max(BULK_MARGIN, BULK_IQRS x (q75 - q25))`` on each side.
    """
    parts = []
    for name, frame in tables.items():
        for col in _time_columns(name, observed_only=True):
            s = _utc(frame[col])
            values = s.to_numpy(dtype="datetime64[ns]").view("int64")[s.notna().to_numpy()]
            parts.append(values)
    values = np.concatenate(parts) if parts else np.empty(0, "int64")
    values = values[(values >= MIN_TIME.value) & (values < MAX_TIME.value)]
    if values.size == 0:
        return None
    q25, q75 = (pd.Timestamp(int(q), tz="UTC") for q in np.quantile(values, [0.25, 0.75]))
    margin = max(BULK_MARGIN, (q75 - q25) * BULK_IQRS)
    return q25 - margin, q75 + margin


def check_far(tables: dict[str, pd.DataFrame], limits: Limits,
              masks: dict[tuple[str, str], np.ndarray]) -> list[DataContractError]:
    """``far_from_bulk``: observed times years away from the bulk (future ones excepted)."""
    window = bulk_window(tables)
    if window is None:
        return []
    lo, hi = window
    cutoff = limits.extract_time() + limits.future_tolerance  # later is future_event
    problems = []
    for name, frame in tables.items():
        for col in _time_columns(name, observed_only=True):
            s = _utc(frame[col])
            bad = ((s < lo) | ((s > hi) & (s <= cutoff))).to_numpy() & ~masks[(name, col)]
            if bad.any():
                problems.append(problem(
                    name, col, "far_from_bulk",
                    f"{col} outside {lo:%Y-%m-%d} .. {hi:%Y-%m-%d}, years away from the bulk of "
                    "the data", frame=frame, mask=bad))
    return problems


def check_ceilings(tables: dict[str, pd.DataFrame], limits: Limits) -> list[DataContractError]:
    """``above_ceiling``: quantities and amounts beyond the configured ceilings."""
    problems = []
    for name, frame in tables.items():
        for col in schema.TABLES[name].columns:
            if col.dtype != schema.NUM:
                continue
            if (name, col.name) in AMOUNT_COLUMNS:
                ceiling, what, key = limits.max_amount, "amount", "max_amount"
            elif col.name.startswith("qty"):
                ceiling, what, key = limits.max_quantity, "quantity", "max_quantity"
            else:
                continue
            bad = (frame[col.name].abs() > ceiling).to_numpy()
            if bad.any():
                problems.append(problem(
                    name, col.name, "above_ceiling",
                    f"{what} above {ceiling:g} (set {key} in dataset.json if real)",
                    frame=frame, mask=bad))
    return problems


def check_negative_cost(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """``negative_cost``: fulfillment cost amounts below zero."""
    costs = tables.get("fulfillment_costs")
    if costs is None:
        return []
    bad = (costs["amount"] < 0).to_numpy()
    if not bad.any():
        return []
    return [problem("fulfillment_costs", "amount", "negative_cost",
                    "a cost amount cannot be negative", frame=costs, mask=bad,
                    show=["cost_pool"])]


def check_currency(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """``mixed_currency``: the minority currencies, reported where they occur."""
    cols = [(n, "currency") for n in ("orders", "fulfillment_costs")
            if tables.get(n) is not None]
    if not cols:
        return []
    values = pd.concat([tables[n][c] for n, c in cols], ignore_index=True).dropna()
    counts = values.value_counts()
    if len(counts) < 2:
        return []
    main = str(counts.index[0])
    problems = []
    for name, col in cols:
        s = tables[name][col]
        bad = (s.notna() & (s != main)).to_numpy()
        if bad.any():
            problems.append(problem(
                name, col, "mixed_currency",
                f"currencies {sorted(map(str, counts.index))} in one dataset; kpilib does not "
                f"convert them, so keep one currency ({main!r} is the most common) or convert "
                "the amounts before loading", frame=tables[name], mask=bad))
    return problems


def check_statuses(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """``status_contradiction``: shipment and pick statuses the timestamps deny.

    ``delivered`` with an empty ``delivered_at`` is not one: it is a missing delivery scan,
    which the delivery KPIs exclude and count (``missing_delivery_scan``).
    """
    problems = []
    ships = tables.get("shipments")
    if ships is not None:
        status = ships["delivery_status"]
        rules = (
            ("delivered_at", ships["delivered_at"].notna()
             & status.isin(["pending", "in_transit", "failed", "lost"]),
             "delivered_at is set but delivery_status says not delivered"),
            ("shipped_at", ships["shipped_at"].isna()
             & status.isin(["in_transit", "delivered", "lost"]),
             "delivery_status in_transit, delivered or lost but shipped_at is empty"),
        )
        for col, bad, detail in rules:
            if bad.any():
                problems.append(problem("shipments", col, "status_contradiction", detail,
                                        frame=ships, mask=bad.to_numpy(),
                                        show=["delivery_status"]))
    picks = tables.get("pick_tasks")
    if picks is not None:
        bad = ((picks["status"] == "picked") & picks["picked_at"].isna()) | (
            (picks["status"] == "open") & picks["picked_at"].notna())
        if bad.any():
            problems.append(problem("pick_tasks", "picked_at", "status_contradiction",
                                    "status 'picked' without picked_at, or 'open' with it",
                                    frame=picks, mask=bad.to_numpy(), show=["status"]))
    return problems


def check_cancelled_orders(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """``cancelled_without_timestamp``: every line fully cancelled, order cancelled_at null."""
    orders, lines = tables.get("orders"), tables.get("order_lines")
    if orders is None or lines is None or lines.empty:
        return []
    cancelled = lines["qty_cancelled_customer"] + lines["qty_cancelled_merchant"]
    # over-cancelled lines are cancelled_exceeds_ordered already; they are not evidence here
    full = ((cancelled - lines["qty_ordered"]).abs() <= EPS) & (lines["qty_ordered"] > 0)
    all_full = full.groupby(lines["order_id"], sort=False).all()
    bad = (orders["order_id"].isin(all_full.index[all_full.to_numpy()])
           & orders["cancelled_at"].isna()).to_numpy()
    if not bad.any():
        return []
    return [problem("orders", "cancelled_at", "cancelled_without_timestamp",
                    "every line of the order is fully cancelled but cancelled_at is empty",
                    frame=orders, mask=bad)]


def check_shipment_lines(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """``shipment_without_lines``: shipments absent from shipment_lines."""
    ships, slines = tables.get("shipments"), tables.get("shipment_lines")
    if ships is None or slines is None:
        return []
    bad = (~ships["shipment_id"].isin(pd.unique(slines["shipment_id"].dropna()))).to_numpy()
    if not bad.any():
        return []
    return [problem("shipments", "shipment_id", "shipment_without_lines",
                    "shipment has no row in shipment_lines, so its units are unknown",
                    frame=ships, mask=bad, show=["order_id"])]


def check_plausibility(tables: dict[str, pd.DataFrame],
                       limits: Limits | None = None) -> list[DataContractError]:
    """Every plausibility problem of the typed ``tables`` (see the module docstring)."""
    limits = limits or Limits()
    masks = out_of_range_masks(tables)
    return (check_range(tables, masks) + check_future(tables, limits, masks)
            + check_far(tables, limits, masks) + check_ceilings(tables, limits)
            + check_negative_cost(tables) + check_currency(tables) + check_statuses(tables)
            + check_cancelled_orders(tables) + check_shipment_lines(tables))
