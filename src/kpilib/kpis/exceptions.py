"""Exception KPIs: order exception rate (A16) and the exception queue snapshot (E1).

A16 is order-grain on the creation cohort; E1 looks at the queue of open, actionable
exceptions at snapshot times (§11.12), order-related or not.

A16 notes
---------
Grain: order (sub-unit for node / fulfillment_model: an exception on a line belongs to
that line's sub-unit, an order-level exception to every sub-unit of the order); anchor:
order creation (A16). Only exceptions with ``is_informational = false`` and an order_id.

Edge cases
----------
- ``preliminary`` while an order of the cohort is not terminal (delivered or cancelled)
  and younger than 30 days at as_of.
- Exceptions not tied to an order (inbound, inventory) are left out (they are in E1).
- Population exclusions of §1.5 counted by reason.
- ``by=["exception_type"]``: every type segment has the whole cohort as denominator and
  counts that type only in the numerator (types = those seen among non-informational order
  exceptions); segments are not additive for the rate (an order with two types is in both).

E1 notes
--------
Snapshot (§11.12) at t = as_of with ``freq=None``, else at each period end capped at
as_of. Open at t: ``opened_at <= t`` and (``resolved_at`` null or > t) and
``is_informational = false``; age = t - opened_at (hours).

Edge cases
----------
- Reopened exceptions keep their original ``opened_at`` (age never resets, §8.6).
- Exceptions resolved within ``min_age_minutes`` (default 5) of opening are excluded
  ``auto_resolved``; exceptions of test orders ``is_test`` (counted where they were open).
- Segments: exception_type, node (``exceptions.node_id``), channel (of the order; "(unknown)"
  for inbound/inventory exceptions), severity, age_bucket ([0,4) [4,24) [24,72) [72,inf) h).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import periods
from kpilib.context import Context, fact
from kpilib.facts.orders import (
    flow_lines,
    hours,
    join_on,
    line_by,
    observations,
    per_context,
    subunits,
)
from kpilib.facts.population import order_population
from kpilib.facts.timeline import open_positions
from kpilib.kpis.order_flow import PRELIM_DAYS
from kpilib.registry import kpi, register_param

register_param("sla_hours", 24.0, "E1: SLA of an open exception in hours; a number, or a mapping "
               "exception_type -> hours (types not listed: 24)")
register_param("min_age_minutes", 5.0, "E1: exceptions resolved within this many minutes of "
               "opening (auto-resolved) are excluded; 0 keeps them")

A16_DIMS = ("channel", "node", "fulfillment_model", "exception_type")
E1_DIMS = ("exception_type", "node", "channel", "severity", "age_bucket")
AGE_BUCKETS = ((0.0, "[0,4)"), (4.0, "[4,24)"), (24.0, "[24,72)"), (72.0, "[72,inf)"))
DEFAULT_SLA = 24.0
_NA = "__missing__"  # stands for a missing segment value inside a group key


# --- A16 -------------------------------------------------------------------------------------


@per_context
def _exception_counts(ctx: Context, keys: list[str], by_type: bool) -> pd.DataFrame:
    """Non-informational order exceptions counted per sub-unit key (and type)."""
    ex = ctx.table("exceptions")
    ex = ex.loc[~ex["is_informational"] & ex["order_id"].notna(),
                ["order_id", "order_line_id", "exception_type"]]
    group = [*keys, "exception_type"] if by_type else keys
    if len(keys) == 1:
        rows = ex
    else:
        lines = flow_lines(ctx)
        ref = pd.concat([lines[[*keys, "order_line_id"]].rename(columns={"order_line_id": "k"}),
                         lines[[*keys, "top_line_id"]].rename(columns={"top_line_id": "k"})]
                        ).drop_duplicates()
        hit = ex.merge(ref, left_on=["order_id", "order_line_id"], right_on=["order_id", "k"])
        whole = ex.loc[~ex["order_line_id"].isin(ref["k"]) | ex["order_line_id"].isna()]
        units = lines[keys].drop_duplicates()
        rows = pd.concat([hit, whole.merge(units, on="order_id")], ignore_index=True)
    return rows.groupby(group, dropna=False).size().rename("n_exc").reset_index()


def _exception_obs(ctx: Context, per_100: bool) -> pd.DataFrame:
    u = subunits(ctx)
    keys = ["order_id", *line_by(ctx)]
    by_type = "exception_type" in ctx.by
    counts = _exception_counts(ctx, keys, by_type)
    if by_type:
        types = sorted(counts["exception_type"].dropna().unique())
        u = u.loc[u.index.repeat(len(types))].reset_index(drop=True)
        u["exception_type"] = np.tile(np.array(types, dtype=object), len(u) // max(len(types), 1))
        keys = [*keys, "exception_type"]
    u = join_on(u, counts, keys)
    n = u["n_exc"].fillna(0.0)
    young = (ctx.as_of - u["created_at"]) < pd.Timedelta(days=PRELIM_DAYS)
    prelim = ~u["order_is_terminal"].astype("boolean").fillna(False).astype(bool) & young
    num = 100.0 * n if per_100 else (n > 0).astype(float)
    return observations(u, ctx, anchor=u["created_at"], num=num, den=1.0, excluded=u["exclusion"],
                        preliminary=prelim)


@kpi("exception_rate", name="Exception rate", domain="order", unit="fraction",
     direction="lower", grain="order", kind="rate", tables=("orders", "order_lines",
                                                            "exceptions"), dims=A16_DIMS)
def exception_rate(ctx: Context) -> pd.DataFrame:
    """|{o created in P : ∃ exception with is_informational = false}| / |{o created in P}|.

    Grain, population and edge cases: see the A16 notes in the module docstring.
    """
    return _exception_obs(ctx, per_100=False)


@kpi("exceptions_per_100_orders", name="Exceptions per 100 orders", domain="order",
     unit="exceptions/100 orders", direction="lower", grain="order", kind="ratio",
     tables=("orders", "order_lines", "exceptions"), dims=A16_DIMS)
def exceptions_per_100_orders(ctx: Context) -> pd.DataFrame:
    """100 × count(non-informational exceptions of orders created in P) / |{o created in P}|.

    Notes
    -----
    Reading: ``count(exceptions)`` counts the non-informational exceptions only, the same set
    as the exception rate. By exception_type the segment numerators add up to the total.

    Grain, population and edge cases: see the A16 notes in the module docstring.
    """
    return _exception_obs(ctx, per_100=True)


# --- E1 --------------------------------------------------------------------------------------


@fact("exception_queue", grain="exception", tables=("orders", "order_lines", "exceptions"))
def exception_queue(ctx: Context) -> pd.DataFrame:
    """One row per actionable exception: opened/resolved, channel, node, severity, exclusion.

    exclusion: ``is_test`` (exception of a test order, §11.9: leading indicators drop only
    test orders) or ``auto_resolved`` (resolved within ``min_age_minutes`` of opening).
    Informational exceptions are not in the queue at all.
    """
    ex = ctx.table("exceptions")
    ex = ex.loc[~ex["is_informational"], ["exception_id", "order_id", "node_id",
                                          "exception_type", "severity", "opened_at",
                                          "resolved_at"]].reset_index(drop=True)
    pop = order_population(ctx).set_index("order_id")
    out = ex.rename(columns={"node_id": "node"})
    out["channel"] = out["order_id"].map(pop["channel"]).array
    test = out["order_id"].map(pop["warehouse_exclusion"]).eq("is_test")
    quick = (hours(out["resolved_at"] - out["opened_at"]) * 60.0
             < float(ctx.param("min_age_minutes")))
    out["exclusion"] = np.where(test, "is_test", np.where(quick, "auto_resolved", None))
    return out


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


@kpi("exception_queue_age_hours", name="Exception queue age", domain="leading", unit="hours",
     direction="lower", grain="open exception (snapshot)", kind="mean",
     tables=("exceptions",), dims=E1_DIMS, params=("min_age_minutes",), snapshot=True)
def exception_queue_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t - opened_at (hours) over exceptions open at snapshot t; mean, p50, p90, n.

    Grain, population and edge cases: see the E1 notes in the module docstring.
    """
    rows = _open_rows(ctx)
    return observations(rows, ctx, period=rows["period"], x=rows["age"], excluded=rows["exclusion"])


@kpi("exception_share_over_sla", name="Exception share over SLA", domain="leading",
     unit="fraction", direction="lower", grain="open exception (snapshot)", kind="rate",
     tables=("exceptions",), dims=E1_DIMS, params=("min_age_minutes", "sla_hours"),
     snapshot=True)
def exception_share_over_sla(ctx: Context) -> pd.DataFrame:
    """|{open exceptions at t : age > SLA(exception_type)}| / |{open exceptions at t}|.

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


@kpi("exception_open_count", name="Open exceptions", domain="leading", unit="count",
     direction="lower", grain="open exception (snapshot)", kind="sum",
     tables=("exceptions",), dims=E1_DIMS, params=("min_age_minutes",), snapshot=True)
def exception_open_count(ctx: Context) -> pd.DataFrame:
    """open_count(t) = |{exceptions open at t}| (value = numerator); denominator = actionable
    exceptions opened by t.

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


@kpi("exception_open_count_daily_mean", name="Open exceptions (mean of daily counts)",
     domain="leading", unit="count", direction="lower", grain="open exception (daily snapshot)",
     kind="ratio", tables=("exceptions",), dims=tuple(d for d in E1_DIMS if d != "age_bucket"),
     params=("min_age_minutes",), snapshot=True)
def exception_open_count_daily_mean(ctx: Context) -> pd.DataFrame:
    """Σ_days open_count(end of day) / number of days in P: the mean of daily open counts.

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
