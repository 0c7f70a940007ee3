"""Small vectorised helpers shared by the fulfillment-operations facts and KPIs (B, E4).

- :func:`ns` turns a UTC timestamp column into int64 nanoseconds (NaT -> ``NAT``);
- :func:`hours` is the elapsed time between two UTC columns, in hours;
- :func:`day_anchor` places a calendar ``date`` column at local midnight of ``tz`` (as UTC), so a
  node-day lands in its own day when periods are bucketed in the reporting time zone;

The engine's window rule and bucketing are ``Context.in_window`` / ``Context.period_of``;
snapshot expansion is :func:`kpilib.fact_tables.timeline.expand_open`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
