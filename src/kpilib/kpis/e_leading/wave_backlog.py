"""E4 warehouse backlog by wave: open lines, units and hours, waves at risk and late.

The wave snapshots are computed in :mod:`kpilib.fact_tables.waves`.

E4 notes
--------
Snapshot at ``as_of`` (``freq=None``) or at each period end capped at ``as_of``. Records are the
open waves at the snapshot (plus the node's bucket of unwaved work, ``wave_id`` null,
when it holds open lines; ``n`` counts them). A snapshot with no open wave reads 0 (the
backlog is empty, which is a measurement, not a missing population), for every node and
channel known to the pick data; only a snapshot before any data is undefined. See
kpilib.fact_tables.waves for
rate, at-risk and late rules; rate = 0 (no pick in the last hour and no planned rate)
leaves projected finish undefined and makes a wave with open lines at risk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.waves import E4_DIMS, snapshot_pads, wave_snapshots
from kpilib.kpis.common import observations
from kpilib.registry import kpi


def _padded(obs: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Wave observations plus the zero rows of snapshots with no open wave."""
    return pd.concat([obs, snapshot_pads(ctx)], ignore_index=True)


_COMMON = dict(domain="leading", grain="wave (snapshot)", kind="sum",
               tables=("orders", "order_lines", "pick_tasks", "waves"), dims=E4_DIMS,
               snapshot=True, direction="lower")


@kpi("wave_backlog", code="E4", fact=None,
     name="Warehouse backlog by wave (open lines)", unit="lines", **_COMMON)
def wave_backlog(ctx: Context) -> pd.DataFrame:
    """lines_open = Σ over open waves of pick tasks released and not picked at the snapshot
    (headline of E4; companions wave_units_open, wave_backlog_hours, waves_at_risk,
    waves_late).

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: open waves at the snapshot, plus each node's unwaved open lines; an empty backlog
    reads 0.

    Grain, population and edge cases: see the E4 notes in the module docstring.
    """
    rec = wave_snapshots(ctx)
    return _padded(observations(rec, ctx, period=rec["period"], num=rec["lines_open"],
                                 den=1.0, n=1), ctx)


@kpi("wave_units_open", code="E4", fact=None,
     name="Warehouse backlog by wave (open units)", unit="units",
     **_COMMON)
def wave_units_open(ctx: Context) -> pd.DataFrame:
    """units_open = Σ (qty_requested − qty picked by t) over open tasks of open waves.

    Anchor: as ``wave_backlog``.

    Population: as ``wave_backlog``.

    Grain, population and edge cases: see the E4 notes in the module docstring.
    """
    rec = wave_snapshots(ctx)
    return _padded(observations(rec, ctx, period=rec["period"], num=rec["units_open"],
                                 den=1.0, n=1), ctx)


@kpi("wave_backlog_hours", code="E4", fact=None,
     name="Warehouse backlog hours", unit="hours", **_COMMON)
def wave_backlog_hours(ctx: Context) -> pd.DataFrame:
    """backlog_hours = Σ over open waves of lines_open / rate (rate = node picks in the
    trailing 60 min, fallback the wave's planned lines per hour); waves with open lines and
    rate 0 are excluded (``zero_rate``).

    Anchor: as ``wave_backlog``.

    Population: as ``wave_backlog``; waves with open lines and no pick rate excluded
    (``zero_rate``).

    Grain, population and edge cases: see the E4 notes in the module docstring.
    """
    rec = wave_snapshots(ctx)
    bad = rec["backlog_hours"].isna()
    return _padded(observations(rec, ctx, period=rec["period"],
                                num=rec["backlog_hours"].fillna(0.0), den=1.0, n=1,
                                excluded=np.where(bad, "zero_rate", None)), ctx)


@kpi("waves_at_risk", code="E4", fact=None,
     name="Waves at risk of missing cutoff", unit="count", **_COMMON)
def waves_at_risk(ctx: Context) -> pd.DataFrame:
    """waves_at_risk = |{open waves with t + lines_open / rate > cutoff_at}| (rate 0 with
    open lines counts as at risk; waves without a cutoff never are).

    Anchor: as ``wave_backlog``.

    Population: as ``wave_backlog``.

    Grain, population and edge cases: see the E4 notes in the module docstring.
    """
    rec = wave_snapshots(ctx)
    return _padded(observations(rec, ctx, period=rec["period"],
                                num=rec["at_risk"].astype(float), den=1.0, n=1), ctx)


@kpi("waves_late", code="E4", fact=None,
     name="Waves late (past cutoff with open lines)", unit="count", **_COMMON)
def waves_late(ctx: Context) -> pd.DataFrame:
    """waves_late = |{open waves with t > cutoff_at and lines_open > 0}|.

    Anchor: as ``wave_backlog``.

    Population: as ``wave_backlog``.

    Grain, population and edge cases: see the E4 notes in the module docstring.
    """
    rec = wave_snapshots(ctx)
    return _padded(observations(rec, ctx, period=rec["period"],
                                num=rec["late"].astype(float), den=1.0, n=1), ctx)


