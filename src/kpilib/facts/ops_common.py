"""Small vectorised helpers shared by the fulfillment-operations facts and KPIs (B, E4).

- :func:`ns` turns a UTC timestamp column into int64 nanoseconds (NaT -> ``NAT``);
- :func:`hours` is the elapsed time between two UTC columns, in hours;
- :func:`day_anchor` places a calendar ``date`` column at local midnight of ``tz`` (as UTC), so a
  node-day lands in its own day when periods are bucketed in the reporting time zone;
- :func:`engine_periods` reproduces the engine's window filter and bucketing (for KPIs that
  must reduce per period themselves: B6 roll-ups, B7 allocation);
- :func:`expand_open` crosses records that are open on ``[start, end)`` with the snapshot
  points (§11.12) at which they are open, without building the full cross product.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import periods
from kpilib.context import Context

NAT = np.iinfo(np.int64).min
HOUR_NS = 3_600_000_000_000


def ns(s: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch of a tz-aware (UTC) or naive column; NaT -> ``NAT``."""
    if s.dtype == object:
        s = pd.to_datetime(s, utc=True)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[ns]").view("int64")


def ts_min(*cols: pd.Series) -> pd.Series:
    """Row-wise earliest of several UTC timestamp columns, ignoring NaT (NaT when all are)."""
    big = np.iinfo(np.int64).max
    stack = np.vstack([np.where(ns(c) == NAT, big, ns(c)) for c in cols]).min(axis=0)
    out = pd.Series(np.where(stack == big, NAT, stack).view("datetime64[ns]"),
                    index=cols[0].index)
    return out.dt.tz_localize("UTC")


def hours(end: pd.Series, start: pd.Series) -> pd.Series:
    """``end − start`` in hours (NaN where either is missing)."""
    return (end - start).dt.total_seconds() / 3600.0


def day_anchor(dates: pd.Series, tz: str) -> pd.Series:
    """Local midnight in ``tz`` of each naive calendar date, as a UTC timestamp."""
    local = pd.to_datetime(dates).dt.tz_localize(tz, ambiguous=True,
                                                 nonexistent="shift_forward")
    return local.dt.tz_convert("UTC")


def engine_periods(ctx: Context, anchor: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(keep mask, period) exactly as the engine would assign them (aggregate.py)."""
    keep = anchor.notna() & (anchor <= ctx.as_of)
    if ctx.start is not None:
        keep &= anchor >= ctx.start
    if ctx.end is not None:
        keep &= anchor < ctx.end
    return keep, periods.bucket(anchor, ctx.freq, ctx.tz)


def expand_open(frame: pd.DataFrame, start: pd.Series, end: pd.Series,
                points: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` repeated once per snapshot point ``t`` with ``start <= t < end``.

    ``start`` NaT means never open; ``end`` NaT means still open. Adds columns ``period``
    and ``t`` from ``points`` (``Context.snapshot_points``) and ``_pt``, the point's
    position. The work is proportional to the number of (record, point) pairs returned, not
    to records × points.
    """
    t = ns(points["t"])
    s, e = ns(start), ns(end)
    i0 = np.searchsorted(t, s, side="left")
    i1 = np.where(e == NAT, len(t), np.searchsorted(t, e, side="left"))
    counts = np.where(s == NAT, 0, np.clip(i1 - i0, 0, None))
    rows = np.repeat(np.arange(len(frame)), counts)
    offs = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    pidx = np.repeat(i0, counts) + offs
    out = frame.iloc[rows].reset_index(drop=True)
    out["period"] = points["period"].iloc[pidx].reset_index(drop=True)
    out["t"] = points["t"].iloc[pidx].reset_index(drop=True)
    out["_pt"] = pidx
    return out


def guard_mean(ctx: Context, obs: pd.DataFrame) -> pd.DataFrame:
    """Work around the engine's mean reduction failing on an empty population.

    When no row of ``obs`` would survive the engine's window filter with a value (every
    record pending, excluded or outside the window), add one row with ``x = NaN`` inside the
    window (or, for snapshot observations, one per snapshot period). ``x = NaN`` is not
    counted (``n = 0``), so the result is ``undefined``, as the engine gives for any empty
    population. Rows are only added when nothing else is left, so no segment is invented.
    """
    if "period" in obs.columns:
        live = obs["x"].notna()
        if "excluded" in obs.columns:
            live &= obs["excluded"].isna()
        if live.any():
            return obs
        pts = ctx.snapshot_points()
        pad = pd.DataFrame({"period": pts["period"], "x": np.nan})
        return pd.concat([obs, pad], ignore_index=True)
    keep, _ = engine_periods(ctx, obs["anchor"])
    if "excluded" in obs.columns:
        keep &= obs["excluded"].isna()
    if keep.any():
        return obs
    t = ctx.as_of if ctx.end is None else min(ctx.as_of, ctx.end - pd.Timedelta(1, "ns"))
    if ctx.start is not None and t < ctx.start:
        return obs
    pad = pd.DataFrame({"anchor": pd.Series([t], dtype="datetime64[ns, UTC]"), "x": [np.nan]})
    return pd.concat([obs, pad], ignore_index=True)
