"""Helpers shared by the KPI modules to turn fact rows into observation rows."""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context

SKU_DIMS = ("sku", "supplier", "product_class", "abc_class", "xyz_class")


def order_node_slices(ctx: Context) -> pd.DataFrame:
    return ctx.fact("order_node_slices")


def slice_obs(sl: pd.DataFrame, ctx: Context, **cols) -> pd.DataFrame:
    """Observation frame: the requested dims of each slice plus ``cols``."""
    out = pd.DataFrame({d: sl[d].to_numpy() for d in ctx.by if d in sl.columns})
    for name, values in cols.items():
        out[name] = values.array if isinstance(values, pd.Series) else values
    return out


def first_reason(reason: pd.Series, cond: pd.Series, code: str) -> pd.Series:
    """First reason wins: set ``code`` where ``cond`` holds and no reason is set yet."""
    return reason.where(reason.notna() | ~cond, code)


def slice_duration_obs(ctx: Context, sl: pd.DataFrame, x: pd.Series, anchor: pd.Series,
                  reason: pd.Series) -> pd.DataFrame:
    reason = first_reason(reason, anchor.notna() & (x < 0), "negative_duration")
    return slice_obs(sl, ctx, anchor=anchor, x=x.where(reason.isna()), excluded=reason)


def dims_of(frame: pd.DataFrame, ctx: Context) -> dict[str, pd.Series]:
    return {d: frame[d] for d in ctx.by if d in frame.columns}
