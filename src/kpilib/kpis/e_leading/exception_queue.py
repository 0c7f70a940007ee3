"""E1 exception queue: age, share over SLA and count of open, actionable exceptions at
snapshot times, order-related or not.

E1 notes
--------
Snapshot at t = as_of with ``freq=None``, else at each period end capped at
as_of. Open at t: ``opened_at <= t`` and (``resolved_at`` null or > t) and
``is_informational = false``; age = t - opened_at (hours).

Edge cases
----------
- Reopened exceptions keep their original ``opened_at`` (age never resets).
- Exceptions resolved within ``min_age_minutes`` (default 5) of opening are excluded
  ``auto_resolved``; exceptions of test orders ``is_test`` (counted where they were open).
- Segments: exception_type, node (``exceptions.node_id``), channel (of the order; "(unknown)"
  for inbound/inventory exceptions), severity, age_bucket ([0,4) [4,24) [24,72) [72,inf) h).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import periods
from kpilib.context import Context
from kpilib.fact_tables.orders import (
    hours,
    per_context,
)
from kpilib.fact_tables.timeline import open_positions
from kpilib.kpis.common import observations
from kpilib.registry import kpi, register_param

register_param("sla_hours", 24.0, "E1: SLA of an open exception in hours; a number, or a mapping "
               "exception_type -> hours (types not listed: 24)")

E1_DIMS = ("exception_type", "node", "channel", "severity", "age_bucket")
AGE_BUCKETS = ((0.0, "[0,4)"), (4.0, "[4,24)"), (24.0, "[24,72)"), (72.0, "[72,inf)"))
DEFAULT_SLA = 24.0
_NA = "__missing__"  # stands for a missing segment value inside a group key


# --- A16 -------------------------------------------------------------------------------------


# --- E1 --------------------------------------------------------------------------------------


def _sla(ctx: Context, types: pd.Series) -> pd.Series:
    sla = ctx.param("sla_hours")
    if isinstance(sla, dict):
        return types.map(lambda t: float(sla.get(t, DEFAULT_SLA)))
    return pd.Series(float(sla), index=types.index)


def _age_bucket(age: pd.Series) -> np.ndarray:
    edges = [lo for lo, _ in AGE_BUCKETS[1:]]
    labels = np.array([lab for _, lab in AGE_BUCKETS], dtype=object)
    return labels[np.searchsorted(edges, age.to_numpy(), side="right")]


@per_context
def _open_rows(ctx: Context) -> pd.DataFrame:
    """(snapshot, open exception) rows with ``period``, ``t``, ``age`` and ``age_bucket``."""
    q = ctx.fact("exception_queue")
    points = ctx.snapshot_points()
    ent, pt = open_positions(points, q["opened_at"], q["resolved_at"])
    rows = q.iloc[ent].reset_index(drop=True)
    rows["period"] = points["period"].iloc[pt].array
    rows["t"] = points["t"].iloc[pt].array
    rows["age"] = hours(rows["t"] - rows["opened_at"])
    rows["age_bucket"] = _age_bucket(rows["age"])
    return rows


def _known_counts(points: pd.DataFrame, q: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Per (snapshot, segment): exceptions opened at or before t (cumulative, vectorised)."""
    t = points["t"].to_numpy(dtype="datetime64[ns]")
    lo = np.searchsorted(t, q["opened_at"].to_numpy(dtype="datetime64[ns]"), side="left")
    df = q[dims].astype(object).fillna(_NA).assign(_seg=0, lo=lo)
    df = df.loc[df["lo"] < len(points)]
    wide = df.groupby([*dims, "_seg", "lo"]).size().unstack("lo", fill_value=0)
    wide = wide.reindex(columns=range(len(points)), fill_value=0).cumsum(axis=1)
    long = wide.stack(future_stack=True).rename("den").reset_index()
    long = long.loc[long["den"] > 0]
    long["period"] = points["period"].iloc[long["lo"].to_numpy()].array
    for d in dims:
        long[d] = long[d].where(long[d] != _NA, None)
    return long.drop(columns=["_seg", "lo"]).reset_index(drop=True)


@kpi("exception_queue_age_hours", code="E1", fact="exception_queue",
     name="Exception queue age", domain="leading", unit="hours",
     direction="lower", grain="open exception (snapshot)", kind="mean",
     tables=("exceptions",), dims=E1_DIMS, params=("min_age_minutes",), snapshot=True)
def exception_queue_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t - opened_at (hours) over exceptions open at snapshot t; mean, p50, p90, n.

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: actionable (not informational) exceptions open at the snapshot, order-related or
    not; exceptions resolved within ``min_age_minutes`` and those of test orders excluded by reason.

    Grain, population and edge cases: see the E1 notes in the module docstring.
    """
    rows = _open_rows(ctx)
    return observations(rows, ctx, period=rows["period"], x=rows["age"], excluded=rows["exclusion"])


@kpi("exception_share_over_sla", code="E1", fact="exception_queue",
     name="Exception share over SLA", domain="leading",
     unit="fraction", direction="lower", grain="open exception (snapshot)", kind="rate",
     tables=("exceptions",), dims=E1_DIMS, params=("min_age_minutes", "sla_hours"),
     snapshot=True)
def exception_share_over_sla(ctx: Context) -> pd.DataFrame:
    """|{open exceptions at t : age > SLA(exception_type)}| / |{open exceptions at t}|.

    Anchor: as ``exception_queue_age_hours``.

    Population: as ``exception_queue_age_hours``.

    Notes
    -----
    ``sla_hours``: one number (default 24) or a mapping exception_type -> hours; strictly
    older than the SLA is over it.

    Grain, population and edge cases: see the E1 notes in the module docstring.
    """
    rows = _open_rows(ctx)
    over = (rows["age"] > _sla(ctx, rows["exception_type"])).astype(float)
    return observations(rows, ctx, period=rows["period"], num=over, den=1.0,
                        excluded=rows["exclusion"])


@kpi("exception_open_count", code="E1", fact="exception_queue",
     name="Open exceptions", domain="leading", unit="count",
     direction="lower", grain="open exception (snapshot)", kind="sum",
     tables=("exceptions",), dims=E1_DIMS, params=("min_age_minutes",), snapshot=True)
def exception_open_count(ctx: Context) -> pd.DataFrame:
    """open_count(t) = |{exceptions open at t}| (value = numerator); denominator = actionable
    exceptions opened by t.

    Anchor: as ``exception_queue_age_hours``.

    Population: actionable exceptions opened by the snapshot; the value counts those still open.

    Notes
    -----
    The denominator (population) is every counted exception opened at or before t, so an
    empty queue with history reads 0 (status ok) and a dataset without any exception is
    ``undefined``. With ``by=["age_bucket"]`` the denominator is shared by the buckets.
    Period value = the end-of-period snapshot (the mean of daily counts is not produced).

    Grain, population and edge cases: see the E1 notes in the module docstring.
    """
    rows = _open_rows(ctx)
    opened = observations(rows, ctx, period=rows["period"], num=1.0, den=0.0, n=1,
                          excluded=rows["exclusion"])
    q = ctx.fact("exception_queue")
    q = q.loc[q["exclusion"].isna()]
    points = ctx.snapshot_points()
    dims = [d for d in ctx.by if d != "age_bucket"]
    den = _known_counts(points, q, dims)
    if "age_bucket" in ctx.by:
        labels = [lab for _, lab in AGE_BUCKETS]
        den = den.loc[den.index.repeat(len(labels))].reset_index(drop=True)
        den["age_bucket"] = np.tile(np.array(labels, dtype=object), len(den) // len(labels))
    den["num"] = 0.0
    den["n"] = 0
    return pd.concat([opened, den[[*ctx.by, "period", "num", "den", "n"]]],
                     ignore_index=True)


def _day_points(ctx: Context) -> pd.DataFrame:
    """End-of-day snapshot times in the window (tz days, capped at as_of) and their period."""
    first = ctx.start if ctx.start is not None else ctx.data_start()
    stop = min(ctx.as_of, ctx.end) if ctx.end is not None else ctx.as_of
    days = [d for d in periods.period_grid(first, stop, "D", ctx.tz)
            if ctx.end is None or d < ctx.end]
    t = [min(periods.period_end_utc(d, "D"), ctx.as_of) for d in days]
    day_start = pd.Series(days, dtype=f"datetime64[ns, {ctx.tz}]").dt.tz_convert("UTC")
    return pd.DataFrame({"period": periods.bucket(day_start, ctx.freq, ctx.tz).array,
                         "t": pd.Series(t, dtype="datetime64[ns, UTC]").array})


@kpi("exception_open_count_daily_mean", code="E1", fact="exception_queue",
     name="Open exceptions (mean of daily counts)",
     domain="leading", unit="count", direction="lower", grain="open exception (daily snapshot)",
     kind="ratio", tables=("exceptions",), dims=tuple(d for d in E1_DIMS if d != "age_bucket"),
     params=("min_age_minutes",), snapshot=True)
def exception_open_count_daily_mean(ctx: Context) -> pd.DataFrame:
    """Σ_days open_count(end of day) / number of days in P: the mean of daily open counts.

    Anchor: the end of each day of the period.

    Population: as ``exception_open_count``, one snapshot per day.

    Notes
    -----
    E1's second period value: each day of the period (days in ``tz``, the window
    [start, end) and as_of) contributes its end-of-day open count (capped at as_of for the
    current day); the denominator is the number of days, the same for every segment (a
    segment without open exceptions on a day counts 0). Not offered by age_bucket.

    Grain, population and edge cases: see the E1 notes in the module docstring.
    """
    q = ctx.fact("exception_queue")
    points = _day_points(ctx)
    ent, pt = open_positions(points, q["opened_at"], q["resolved_at"])
    rows = q.iloc[ent].reset_index(drop=True)
    opened = observations(rows, ctx, period=points["period"].iloc[pt], num=1.0, den=0.0, n=1,
                          excluded=rows["exclusion"])
    segs = q.loc[q["exclusion"].isna(), list(ctx.by)].drop_duplicates()
    days = points[["period"]].assign(num=0.0, den=1.0, n=0)
    days = days.merge(segs, how="cross") if ctx.by else days
    return pd.concat([opened, days], ignore_index=True)
