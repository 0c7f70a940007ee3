"""E4 warehouse backlog by wave: the wave snapshot records behind the KPIs.

At each snapshot time ``t`` every wave with ``released_at ≤ t`` and not closed
(``closed_at`` null or later) is one record:

- ``lines_open`` = its pick tasks released by ``t`` and not picked by ``t`` (cancelled tasks
  and test orders' tasks left out); ``units_open`` = Σ (qty_requested − qty picked by t);
- ``rate`` = lines picked at the node in the trailing 60 minutes ``(t − 1h, t]``, fallback
  ``waves.planned_lines_per_hour`` when that count is 0;
- ``backlog_hours`` = lines_open / rate (0 when nothing is open; undefined when rate = 0);
- ``at_risk`` = lines_open > 0 and a cutoff exists and (rate = 0 or t + backlog > cutoff);
- ``late`` = t > cutoff_at and lines_open > 0.

Work released to the node but not yet waved forms one bucket per node, ``wave_id`` null
(no cutoff, no planned rate; kept apart from source waves by a flag, not a made-up id, so no
source wave id can merge with it), present when it holds open lines: pick tasks with no
``wave_id``, plus order lines of slices released to a node that has pick tasks, from the
release until their first pick task exists (or the slice ships, or the order is cancelled). Cut by
``channel`` a wave's record is split into the sub-units of its lines per channel:
lines, units and hours are those of the sub-unit; at-risk/late are the wave's flags, counted
in each channel that still has open lines in the wave.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.slices import leaf_lines
from kpilib.fact_tables.timeline import expand_open
from kpilib.fact_tables.times import ts_min, utc_ns
from kpilib.fact_tables.warehouse import pick_tasks

E4_DIMS = ("node", "channel")
_SHIFT = np.int64(1) << np.int64(40)


def _trailing_rate(tasks: pd.DataFrame, node: pd.Series, t: pd.Series) -> np.ndarray:
    """Picks per node in (t − 1 h, t] for each (node, t) query, vectorised."""
    done = tasks.loc[tasks["picked_at"].notna()]
    codes, uniq = pd.factorize(pd.concat([done["node_id"], node], ignore_index=True))
    pc, qc = codes[:len(done)].astype(np.int64), codes[len(done):].astype(np.int64)
    picked, asked = utc_ns(done["picked_at"]).view("int64"), utc_ns(t).view("int64")
    base = min(picked.min(initial=0), asked.min(initial=0)) // 10**9 - 7200
    pk = np.sort(pc * _SHIFT + (picked // 10**9 - base))
    qs = asked // 10**9 - base
    hi = np.searchsorted(pk, qc * _SHIFT + qs, side="right")
    lo = np.searchsorted(pk, qc * _SHIFT + qs - 3600, side="right")
    return (hi - lo).astype(float)


def _unwaved_lines(ctx: Context, t_all: pd.DataFrame, pts: pd.DataFrame) -> pd.DataFrame:
    """Order lines released to a node with pick data (waves or tasks), not yet on any pick
    task: open from the
    slice's release until the line's first task, the slice's first ship confirm or the
    order's cancellation (test orders and lines with nothing left to ship left out)."""
    cols = ["wave_id", "unwaved", "node_id", "channel", "qty_requested"]
    if ctx.table("order_events") is None:
        return pd.DataFrame(columns=[*cols, "period", "t", "_pt"])
    wms_nodes = pd.concat([t_all["node_id"], ctx.table("waves")["node_id"]]).unique()
    lines = leaf_lines(ctx)
    sl = ctx.fact("order_node_slices")[["key", "warehouse_exclusion", "released_at",
                                          "first_shipped_at", "cancelled_at", "channel"]]
    sl = sl.set_index("key")
    at = sl.reindex(lines["key"].to_numpy())
    rem = (lines["qty_ordered"] - lines["qty_cancelled_customer"]
           - lines["qty_cancelled_merchant"]).to_numpy()
    keep = (np.isin(lines["node"].to_numpy(), wms_nodes) & (rem > 0)
            & at["warehouse_exclusion"].isna().to_numpy() & at["released_at"].notna().to_numpy())
    first_task = t_all["released_at"].groupby(t_all["lp"].to_numpy()).min()
    task_at = first_task.reindex(lines["line_pos"].to_numpy())
    end = ts_min(pd.Series(task_at.array).astype("datetime64[ns, UTC]"),
                 pd.Series(at["first_shipped_at"].array).astype("datetime64[ns, UTC]"),
                 pd.Series(at["cancelled_at"].array).astype("datetime64[ns, UTC]"))
    frame = pd.DataFrame({"wave_id": None, "unwaved": True, "node_id": lines["node"].to_numpy(),
                          "channel": at["channel"].to_numpy(), "qty_requested": rem})
    start = pd.Series(at["released_at"].array).astype("datetime64[ns, UTC]")
    return expand_open(frame.loc[keep].reset_index(drop=True),
                       start[keep].reset_index(drop=True), end[keep].reset_index(drop=True),
                       pts)


def wave_snapshots(ctx: Context) -> pd.DataFrame:
    """One row per (snapshot, wave[, channel]) record with the E4 measures (module doc)."""
    return ctx.memo(f"_e4_{'channel' in ctx.by}", lambda: _build(ctx))


def _build(ctx: Context) -> pd.DataFrame:
    pts = ctx.snapshot_points()
    split = "channel" in ctx.by
    t_all = pick_tasks(ctx)
    tasks = t_all.loc[t_all["warehouse_exclusion"].isna()]
    w = ctx.table("waves")[["wave_id", "node_id", "released_at", "closed_at", "cutoff_at",
                            "planned_lines_per_hour"]]
    open_w = expand_open(w, w["released_at"], w["closed_at"], pts)
    sub = ["channel"] if split else []
    open_t = expand_open(tasks[["wave_id", "node_id", "channel", "qty_requested"]],
                         tasks["released_at"], tasks["picked_at"], pts)
    open_t["unwaved"] = open_t["wave_id"].isna()
    unwaved = _unwaved_lines(ctx, t_all, pts)
    if len(unwaved):
        open_t = pd.concat([open_t, unwaved[open_t.columns]], ignore_index=True)
    counts = open_t.groupby(["unwaved", "wave_id", "node_id", "_pt", "t", *sub], dropna=False,
                            sort=False).agg(
        lines_open=("qty_requested", "size"), units_open=("qty_requested", "sum")
    ).reset_index()
    in_waves, unw = counts.loc[~counts["unwaved"]], counts.loc[counts["unwaved"]].copy()
    waved = open_w
    if split:
        chans = tasks.loc[tasks["wave_id"].notna(), ["wave_id", "channel"]].drop_duplicates()
        waved = waved.merge(chans, on="wave_id", how="left")
    in_waves = in_waves.astype({"wave_id": waved["wave_id"].dtype})  # all-null when none waved
    rec = waved.merge(in_waves.drop(columns=["node_id", "unwaved"]),
                      on=["wave_id", "_pt", "t", *sub], how="left")
    unw["period"] = pts["period"].iloc[unw["_pt"].to_numpy()].array
    if len(unw):
        for c in rec.columns.difference(unw.columns):
            unw[c] = pd.Series(index=unw.index, dtype=rec[c].dtype)
        with warnings.catch_warnings():  # same dtypes on both sides: the all-NA rule is moot
            warnings.simplefilter("ignore", FutureWarning)
            rec = pd.concat([rec, unw[rec.columns]], ignore_index=True)
    for c in ("lines_open", "units_open"):
        rec[c] = rec[c].fillna(0.0).astype(float)
    wave_lines = rec.groupby(["wave_id", "node_id", "_pt"], dropna=False, sort=False)[
        "lines_open"].transform("sum")
    rate = _trailing_rate(t_all, rec["node_id"], rec["t"])
    planned = rec["planned_lines_per_hour"].fillna(0.0).to_numpy()
    rate = np.where(rate > 0, rate, planned)
    rec["rate"] = rate
    with np.errstate(divide="ignore", invalid="ignore"):
        rec["backlog_hours"] = np.where(rec["lines_open"] == 0, 0.0,
                                        np.where(rate > 0, rec["lines_open"] / rate, np.nan))
        wave_hours = np.where(rate > 0, wave_lines / rate, np.inf)
    finish = rec["t"] + pd.to_timedelta(np.where(np.isfinite(wave_hours), wave_hours, 0.0),
                                        unit="h")
    has_cut = rec["cutoff_at"].notna()
    busy = wave_lines > 0
    rec["at_risk"] = busy & has_cut & (~np.isfinite(wave_hours) | (finish > rec["cutoff_at"]))
    rec["late"] = busy & has_cut & (rec["t"] > rec["cutoff_at"])
    if split:
        rec["at_risk"] &= rec["lines_open"] > 0
        rec["late"] &= rec["lines_open"] > 0
    rec["node"] = rec["node_id"]
    return rec


def snapshot_pads(ctx: Context) -> pd.DataFrame:
    """One zero record per snapshot and segment (nodes of waves and tasks, channels of tasks)
    so that an empty backlog reads 0 rather than undefined: ``num = 0``, ``den = 1``,
    ``n = 0``."""
    pads = ctx.snapshot_points()[["period"]]
    if ctx.table("waves").empty:          # nothing released yet: no backlog to speak of
        pads = pads.iloc[:0]
    tasks = pick_tasks(ctx)
    values = {"node": pd.concat([ctx.table("waves")["node_id"], tasks["node_id"]]),
              "channel": tasks.loc[tasks["warehouse_exclusion"].isna(), "channel"]}
    for d in ctx.by:
        uniq = values[d].dropna().drop_duplicates().sort_values()
        pads = pads.merge(pd.DataFrame({d: uniq.to_numpy()}), how="cross")
    return pads.assign(num=0.0, den=1.0, n=0)
