"""The running period is never judged: mark result rows whose period has not ended at ``as_of``.

A period ``[start, start + freq)`` that is still running at ``as_of`` is ``partial``: it is
computed and shown, but gets no band and raises no alert, and headline figures use the last
complete period. ``mark_partial`` sets ``status = "partial"`` on those rows and writes
``partial: n of m days`` into ``note`` so charts and tables can say how much of it is in.

The period length is ``freq`` when given, else read from the spacing of the frame's periods
(1 day D, 7 days W, 28-31 days M, 89-92 days Q); a frame with one period or no period
(``freq=None`` results) has nothing to mark. ``as_of`` is the argument, else the latest value
of a ``data_as_of`` column (``kpilib compute --out`` writes one).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

PARTIAL = "partial"
OFFSETS = {"D": pd.DateOffset(days=1), "W": pd.DateOffset(weeks=1),
           "M": pd.DateOffset(months=1), "Q": pd.DateOffset(months=3)}


def infer_freq(period: pd.Series) -> str | None:
    """``D``/``W``/``M``/``Q`` from the smallest gap between distinct periods (None if unknown)."""
    p = pd.Series(pd.to_datetime(period).dropna().unique()).sort_values()
    gaps = p.diff().dropna() / pd.Timedelta(days=1)
    if gaps.empty:
        return None
    step = float(gaps.min())
    for freq, lo, hi in (("D", 0.9, 1.1), ("W", 6.9, 7.1), ("M", 27.9, 31.1), ("Q", 88.9, 92.1)):
        if lo <= step <= hi:
            return freq
    return None


def as_of_of(results: pd.DataFrame, as_of: Any = None) -> pd.Timestamp | None:
    """``as_of`` (naive = UTC), else the latest ``data_as_of`` of the frame, else None."""
    if as_of is None and "data_as_of" in results and results["data_as_of"].notna().any():
        as_of = pd.to_datetime(results["data_as_of"], utc=True).max()
    if as_of is None or (isinstance(as_of, str) and not as_of):
        return None
    ts = pd.Timestamp(as_of)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def partial_mask(period: pd.Series, freq: str | None, as_of: pd.Timestamp | None) -> np.ndarray:
    """True where the period ``[start, start + freq)`` ends after ``as_of``."""
    if freq is None or as_of is None or period.empty:
        return np.zeros(len(period), dtype=bool)
    start = pd.to_datetime(period)
    if start.dt.tz is None:
        start = start.dt.tz_localize("UTC")
    end = start + OFFSETS[freq]  # calendar arithmetic in the period's own time zone
    return (end > as_of).fillna(False).to_numpy(dtype=bool)


def days_in(start: pd.Timestamp, freq: str, as_of: pd.Timestamp) -> tuple[float, int]:
    """``(days elapsed, days in the period)`` of the running period starting at ``start``.

    Elapsed = (as_of - start) in days, rounded *down* to a tenth (at least 0.1 once the
    period has begun), so a week that ends in 20 minutes reads 6.9 of 7 days, never 7 of 7.
    """
    end = start + OFFSETS[freq]
    total = round((end - start) / pd.Timedelta(days=1))
    elapsed = (as_of - start) / pd.Timedelta(days=1)
    done = math.floor(elapsed * 10) / 10
    if elapsed > 0:
        done = max(done, 0.1)
    return max(0.0, min(done, total - 0.1)), total


def partial_note(done: float, total: int) -> str:
    """``partial: 2.5 of 7 days`` (whole days print without a decimal: ``3 of 7 days``)."""
    return f"partial: {done:g} of {total} days"


def mark_partial(results: pd.DataFrame, *, freq: str | None = None,
                 as_of: Any = None) -> pd.DataFrame:
    """A copy of ``results`` with the running period's rows set to ``status = "partial"``.

    Rows already ``unavailable`` keep their status. ``note`` says ``partial: n of m days``.
    Returns ``results`` itself when there is nothing to mark.
    """
    if results.empty or "period" not in results:
        return results
    freq = freq or infer_freq(results["period"])
    stamp = as_of_of(results, as_of)
    mask = partial_mask(results["period"], freq, stamp)
    if "status" in results:
        mask &= (results["status"].astype(str) != "unavailable").to_numpy()
    if not mask.any():
        return results
    out = results.copy()
    status = out["status"].astype(object) if "status" in out else pd.Series("ok", index=out.index)
    out["status"] = status.where(~mask, PARTIAL)
    notes = [partial_note(*days_in(pd.Timestamp(p), freq, stamp))
             for p in out.loc[mask, "period"]]
    note = out["note"].astype(object) if "note" in out else pd.Series("", index=out.index)
    note.loc[mask] = notes
    out["note"] = note
    return out
