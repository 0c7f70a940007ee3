"""Time helpers shared by fact builders: which records are open at which snapshot points.

``open_positions`` is the one implementation of "record open at snapshot t" used by every
snapshot KPI: a record is open at ``t`` when ``opened <= t < closed``; ``closed``
NaT means still open and ``opened`` NaT means never open. It is vectorised with
``searchsorted``: the work is proportional to the (record, point) pairs it returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_BIG = np.iinfo(np.int64).max


def _ns(ts: pd.Series) -> np.ndarray:
    """Nanoseconds since epoch (NaT → int64 max, i.e. "never")."""
    values = ts.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return np.where(ts.isna().to_numpy(), _BIG, values)


def open_positions(points: pd.DataFrame, opened: pd.Series,
                   closed: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(record position, point position) of every snapshot ``t`` with opened <= t < closed.

    ``points`` is ``Context.snapshot_points()`` (``t`` non-decreasing).
    """
    t = points["t"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    lo = np.searchsorted(t, _ns(opened), side="left")
    hi = np.searchsorted(t, _ns(closed), side="left")
    cnt = np.clip(hi - lo, 0, None)
    ent = np.repeat(np.arange(len(lo)), cnt)
    offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return ent, np.repeat(lo, cnt) + offs


def expand_open(frame: pd.DataFrame, opened: pd.Series, closed: pd.Series,
                points: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` repeated once per snapshot point at which they are open, with the
    point's ``period`` and ``t`` (and its position ``_pt``) added."""
    ent, pt = open_positions(points, opened, closed)
    out = frame.iloc[ent].reset_index(drop=True)
    out["period"] = points["period"].iloc[pt].reset_index(drop=True)
    out["t"] = points["t"].iloc[pt].reset_index(drop=True)
    out["_pt"] = pt
    return out
