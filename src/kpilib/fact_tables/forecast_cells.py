"""Forecast cells: one row per (sku, node, target period) with actual A, forecast F.

- **Actual** ``A`` = Σ ``qty_ordered`` of demand lines (test, fraud and duplicate orders
  excluded, and also transfer orders, which are not customer demand: see
  ``kpilib.fact_tables.classes.demand_lines``; lines later merchant-cancelled included)
  created in the target period. A line's
  node is the node of its first line-level ``allocation_attempt`` or ``released_to_node``
  event, else ``order_lines.assigned_node_id``, else ``UNASSIGNED``.
- **Forecast** ``F`` = ``qty_forecast`` of the latest snapshot with ``forecast_made_at ≤
  target_period_start − forecast_lag periods``, at the granularity of ``error_level``.
- **Error** ``e = A − F`` (positive = under-forecast).

Cells exist where a forecast or a demand exists; a cell with demand but no eligible forecast is
excluded (``missing_forecast``) unless ``missing_forecast_as_zero``. A cell is pending until its
target period has ended by ``as_of``. Period boundaries are UTC days (``target_period_start`` is
a calendar date); weeks start on Monday. ``error_level`` is ``<sku|sku_node>_<day|week|month>``;
at ``sku_*`` levels nodes are summed before errors are taken (a different, smaller number).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables import segments
from kpilib.fact_tables.classes import demand_lines
from kpilib.registry import register_param

register_param("missing_forecast_as_zero", False, "D: demand cells without forecast count F=0")

UNASSIGNED = "UNASSIGNED"
_GRAINS = {"day": "D", "week": "W", "month": "M"}


def parse_error_level(level: str) -> tuple[bool, str]:
    """``"sku_node_week"`` → (by_node=True, granularity="week")."""
    head, _, gran = level.rpartition("_")
    if head not in ("sku", "sku_node") or gran not in _GRAINS:
        raise ValueError(f"error_level must be sku_node_<day|week|month> or sku_<...>, "
                         f"got {level!r}")
    return head == "sku_node", gran


def period_floor(t: pd.Series, gran: str) -> pd.Series:
    """Naive UTC period start of each UTC timestamp (or naive date) for day/week/month."""
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    day = t.dt.normalize()
    if gran == "week":
        return day - pd.to_timedelta(day.dt.weekday, unit="D")
    if gran == "month":
        return day - pd.to_timedelta(day.dt.day - 1, unit="D")
    return day


def shift(t: pd.Series | pd.Timestamp, gran: str, n: int):
    """Move period starts by ``n`` periods."""
    if gran == "month":
        return t + pd.DateOffset(months=n)
    return t + pd.Timedelta(days=n * (7 if gran == "week" else 1))


def _line_nodes(ctx: Context, lines: pd.DataFrame) -> pd.Series:
    node = ctx.ds.order_lines.set_index("order_line_id")["assigned_node_id"]
    ev = ctx.table("order_events")
    if ev is not None:
        first = ev.loc[ev["event_type"].isin(["allocation_attempt", "released_to_node"])
                       & ev["order_line_id"].notna() & ev["node_id"].notna()]
        first = first.sort_values(["event_at", "event_id"]).drop_duplicates("order_line_id")
        node = first.set_index("order_line_id")["node_id"].combine_first(node)
    return lines["order_line_id"].map(node).fillna(UNASSIGNED)


@fact("forecast_cells", grain="sku-node-period cell", tables=("orders", "order_lines",
                                                               "forecasts"))
def forecast_cells(ctx: Context) -> pd.DataFrame:
    """One row per cell: sku, node, target_start (UTC), actual, forecast, error, made_at,
    forecast_version, complete (target period ended by as_of), missing_forecast."""
    by_node, gran = parse_error_level(ctx.param("error_level"))
    lag = int(ctx.param("forecast_lag"))
    lines = demand_lines(ctx)
    lines = lines.assign(node=_line_nodes(ctx, lines) if by_node else "ALL",
                         target=period_floor(lines["created_at"], gran))
    actual = lines.groupby(["sku", "node", "target"])["qty_ordered"].sum().rename("actual")

    fc = ctx.ds.forecasts
    fc = fc.loc[fc["period_granularity"].eq(gran)].copy()
    fc["target"] = period_floor(fc["target_period_start"], gran)
    deadline = shift(fc["target"], gran, -lag).dt.tz_localize("UTC")
    fc = fc.loc[fc["forecast_made_at"] <= deadline]
    if not by_node:
        fc["node"] = "ALL"
        latest = fc.sort_values("forecast_made_at").groupby(
            ["sku", "node_id", "target"]).tail(1)
        forecast = latest.groupby(["sku", "node", "target"]).agg(
            forecast=("qty_forecast", "sum"), made_at=("forecast_made_at", "max"),
            forecast_version=("forecast_version", "last"))
    else:
        fc = fc.rename(columns={"node_id": "node"})
        latest = fc.sort_values(["forecast_made_at"], kind="stable").groupby(
            ["sku", "node", "target"]).tail(1)
        forecast = latest.set_index(["sku", "node", "target"])[
            ["qty_forecast", "forecast_made_at", "forecast_version"]].rename(
            columns={"qty_forecast": "forecast", "forecast_made_at": "made_at"})
    cells = forecast.join(actual, how="outer").reset_index()
    cells["actual"] = cells["actual"].fillna(0.0)
    cells["missing_forecast"] = cells["forecast"].isna()
    if ctx.param("missing_forecast_as_zero"):
        cells["forecast"] = cells["forecast"].fillna(0.0)
    cells["error"] = cells["actual"] - cells["forecast"]
    cells["target_start"] = cells["target"].dt.tz_localize("UTC")
    end = shift(cells["target"], gran, 1).dt.tz_localize("UTC")
    cells["complete"] = end <= ctx.as_of
    cells = cells.drop(columns="target").sort_values(["sku", "node", "target_start"])
    return cells.reset_index(drop=True)


def cell_observations(ctx: Context) -> pd.DataFrame:
    """Forecast cells as observations: anchor = target start (NaT while incomplete), the
    requested segments attached, ``excluded='missing_forecast'`` where F is unknown."""

    cells = ctx.fact("forecast_cells")
    obs = cells.assign(anchor=cells["target_start"].where(cells["complete"]))
    obs["excluded"] = np.where(obs["forecast"].isna(), "missing_forecast", None)
    return segments.attach(obs, segments.sku_dims(ctx), "sku", ctx)
