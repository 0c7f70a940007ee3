"""Time helpers shared by the fact builders and KPIs.

- :func:`utc_ns` turns a UTC timestamp column into naive ``datetime64[ns]`` values (view them
  as int64 for nanoseconds, NaT -> ``NAT``) and :func:`utc_series` turns them back;
- :func:`ts_min` is the row-wise earliest of several timestamp columns;
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


def utc_ns(s: pd.Series) -> np.ndarray:
    """A timestamp column (tz-aware, naive UTC or ISO text) as naive UTC ``datetime64[ns]``
    values, for fast numpy comparisons; NaT stays NaT (``.view("int64")`` reads it as ``NAT``)."""
    if s.dtype == object:
        s = pd.to_datetime(s, utc=True)
    return s.to_numpy(dtype="datetime64[ns]")


def utc_series(a: np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """Naive UTC ``datetime64[ns]`` values back to a tz-aware UTC Series."""
    return pd.Series(np.asarray(a, dtype="datetime64[ns]"), index=index).dt.tz_localize("UTC")


def ts_min(*cols: pd.Series) -> pd.Series:
    """Row-wise earliest of several UTC timestamp columns, ignoring NaT (NaT when all are)."""
    big = np.iinfo(np.int64).max
    values = [utc_ns(c).view("int64") for c in cols]
    stack = np.vstack([np.where(v == NAT, big, v) for v in values]).min(axis=0)
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
