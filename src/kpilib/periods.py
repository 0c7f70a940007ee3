"""Reporting periods: bucketing timestamps and building period grids (half-open, weeks from Monday).

Periods are half-open ``[start, end)``, bucketed in the reporting time zone ``tz``; weeks start
on Monday (ISO). A period is identified by its start, a tz-aware Timestamp in ``tz``.
``freq=None`` means one period for the whole range, labelled ``NaT``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.errors import ParameterError

_DAY_NS = 86_400 * 10**9

FREQS = (None, "D", "W", "M", "Q")
_OFFSETS = {"D": pd.DateOffset(days=1), "W": pd.DateOffset(weeks=1),
            "M": pd.DateOffset(months=1), "Q": pd.DateOffset(months=3)}


def check_freq(freq: str | None) -> str | None:
    """Return ``freq`` if valid (None, D, W, M, Q), else raise ParameterError."""
    if freq not in FREQS:
        raise ParameterError(f"freq must be one of None, 'D', 'W', 'M', 'Q'; got {freq!r}")
    return freq


def to_utc(value, name: str = "timestamp") -> pd.Timestamp | None:
    """Parse a user-supplied time to a UTC Timestamp; a naive value is read as UTC."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise ParameterError(f"{name}: cannot read {value!r} as a timestamp") from err
    if ts is pd.NaT:
        raise ParameterError(f"{name}: {value!r} is not a timestamp")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def bucket(ts: pd.Series, freq: str | None, tz: str = "UTC") -> pd.Series:
    """Period start (tz-aware in ``tz``) of each UTC timestamp; NaT stays NaT.

    ``freq=None`` gives NaT for every row (one period for the whole range).
    """
    if freq is None:
        return pd.Series(pd.NaT, index=ts.index, dtype=f"datetime64[ns, {tz}]")
    if tz == "UTC" and freq in ("D", "W"):  # fast path: integer day arithmetic, no calendar
        ns = ts.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").astype(np.int64)
        day = np.floor_divide(ns, _DAY_NS)
        if freq == "W":
            day = day - (day + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
        out = pd.Series((day * _DAY_NS).astype("datetime64[ns]"), index=ts.index)
        out[ts.isna().to_numpy()] = pd.NaT
        return out.dt.tz_localize("UTC")
    local = ts.dt.tz_convert(tz)
    # Work on naive local wall time, then re-localise: avoids DST arithmetic surprises.
    wall = local.dt.tz_localize(None).dt.normalize()
    if freq == "W":
        wall = wall - pd.to_timedelta(wall.dt.weekday, unit="D")
    elif freq == "M":
        wall = wall - pd.to_timedelta(wall.dt.day - 1, unit="D")
    elif freq == "Q":
        month0 = ((wall.dt.month - 1) // 3) * 3 + 1
        wall = pd.to_datetime(
            {"year": wall.dt.year, "month": month0, "day": 1}, errors="coerce"
        )
    return wall.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")


def period_start(ts: pd.Timestamp, freq: str | None, tz: str = "UTC") -> pd.Timestamp:
    """Start of the period containing one UTC timestamp."""
    return bucket(pd.Series([ts]), freq, tz).iloc[0]


def next_start(period: pd.Timestamp, freq: str) -> pd.Timestamp:
    """Start of the period after ``period`` (same time zone)."""
    wall = period.tz_localize(None) + _OFFSETS[freq]
    return wall.tz_localize(period.tz, ambiguous=True, nonexistent="shift_forward")


def period_grid(first: pd.Timestamp, last: pd.Timestamp, freq: str, tz: str) -> list:
    """Period starts from the period of ``first`` to the period of ``last`` (UTC inputs)."""
    p = period_start(first, freq, tz)
    stop = period_start(last, freq, tz)
    out = []
    while p <= stop:
        out.append(p)
        p = next_start(p, freq)
    return out


def period_end_utc(period: pd.Timestamp, freq: str) -> pd.Timestamp:
    """Exclusive end of a period, as a UTC Timestamp."""
    return next_start(period, freq).tz_convert("UTC")
