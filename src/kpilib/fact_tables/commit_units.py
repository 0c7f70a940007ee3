"""Commit-unit facts for A1-A6.

``commit_unit_lines``: one row per A-domain order line (kit components rolled into their
parent) with its commit unit (``unit_id`` = order_id + original promise), the
unit deadline ``D_u`` (latest line deadline on the ``commit_basis``), required ``r`` and
merchant-cancelled ``cm`` quantities, delivered quantity ``d`` (delivered shipments only),
quantity delivered by ``D_u`` for timing (``d_by_due``), late / early / missing-scan flags and
the first time of each kind of evidence (``wrong_item_at``, ``doc_defect_at``,
``condition_at``). ``commit_units`` is the same table reduced to one row per unit with the
default maturity windows, for drill-down. Both come from :func:`evaluate`, the single code
path the KPIs use (grouping lines by ``[unit_id, *by]`` gives the sub-unit of a line-level segment).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables import line_base
from kpilib.fact_tables.times import utc_ns, utc_series
from kpilib.fact_tables.unit_evidence import delivery_events, evidence_times, order_level_times

EPS = 1e-9
UTC = "datetime64[ns, UTC]"
UNIT_COLS = ["order_id", "promise_original", "due_at", "window_start_at", "last_delivery_at",
             "terminal", "exclusion"]
EVIDENCE = ("wrong_item_at", "doc_defect_at", "condition_at")
FLAGS_ANY = ["open_at_due", "late", "early", "timed", "contact", "missing_scan", "required"]


def _basis_promise(x: pd.DataFrame, basis: str) -> pd.Series:
    orig = x["promised_delivery_at_original"]
    cur = x["promised_delivery_at_current"]
    if basis == "current":
        return cur.fillna(orig)
    if basis == "requested":
        return x["requested_delivery_at"].fillna(orig)
    by_customer = x["promise_change_initiator"].eq("customer") & cur.notna()
    return cur.where(by_customer, orig)


def _deadlines(p: pd.Series, is_date: pd.Series, tz: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(deadline, window start): a date promise runs over its whole local calendar day."""
    due = p.copy()
    start = p.copy()
    tzs = tz.fillna("UTC")
    for zone in tzs.loc[is_date].unique():  # one pass per time zone, not per row
        m = is_date & tzs.eq(zone)
        day = p.loc[m].dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
        loc = {"ambiguous": False, "nonexistent": "shift_forward"}
        s = day.dt.tz_localize(zone, **loc).dt.tz_convert("UTC")
        e = (day + pd.Timedelta(days=1)).dt.tz_localize(zone, **loc).dt.tz_convert("UTC")
        start.loc[m] = s
        due.loc[m] = e - pd.Timedelta(1, "ns")
    return due, start


@fact("commit_unit_lines", grain="order line within its commit unit",
      tables=("orders", "order_lines"))
def commit_unit_lines(ctx: Context) -> pd.DataFrame:
    """One row per A-domain line: unit, deadline, r, cm, d, timing flags, evidence times."""
    base = line_base.lines(ctx)
    n = len(base)
    top = ~base["is_component"].to_numpy()
    ei = base["ei"].to_numpy()
    p = _basis_promise(base, ctx.param("commit_basis"))
    line_due, line_win = _deadlines(p, base["promise_is_date"].astype(bool),
                                    base["ship_to_timezone"])
    porig = base["promised_delivery_at_original"]
    keys = pd.DataFrame({"o": base["oi"].to_numpy()[top],
                         "p": porig.to_numpy(dtype="datetime64[ns]").astype(np.int64)[top]})
    unit = np.full(n, -1, dtype=np.int64)
    unit[top] = keys.groupby(["o", "p"], sort=True).ngroup().to_numpy()
    unit = unit[ei]
    due_u = line_due[top].groupby(unit[top]).max()
    win_u = line_win[top].groupby(unit[top]).max()
    due = utc_series(utc_ns(due_u)[unit])
    win = utc_series(utc_ns(win_u)[unit])

    per_line, own = delivery_events(ctx, base, due, win)
    per_line = pd.concat([per_line, evidence_times(ctx, base)], axis=1)
    rolled = line_base.rollup_kits(
        per_line, base, own, qty=("d", "d_by_due"),
        tmin=("first_delivery_at", *EVIDENCE), tmax=("last_delivery_at",),
        flags=("late", "early", "timed", "missing_scan", "contact"))
    x = line_base.subset(base, top, ["li", "oi", "order_line_id", "order_id", "sku", "channel",
                                     "exclusion", "r", "cm"])
    x["promise_original"] = porig[top]
    x["unit_id"] = unit[top]
    x["due_at"] = due[top]
    x["window_start_at"] = win[top]
    x = pd.concat([x, rolled], axis=1)
    lvl = order_level_times(ctx)
    oi = x["oi"].to_numpy()
    for c in EVIDENCE:
        other = utc_series(utc_ns(lvl[c])[oi], index=x.index)
        x[c] = x[c].where(x[c].notna() & ~(other < x[c]), other).astype(UTC)
    uid = x["unit_id"]
    x["last_delivery_at"] = x["last_delivery_at"].groupby(uid).transform("max")
    tol = float(ctx.param("tol_units") or 0.0)
    open_now = (x["r"] - x["cm"] - x["d"]) > tol + EPS
    got = (x["d"] > EPS).groupby(uid).transform("any")
    x["terminal"] = ~open_now.groupby(uid).transform("any") & got
    keep = ["unit_id", "li", "order_line_id", *UNIT_COLS, "channel", "sku", "r", "cm", "d",
            "d_by_due", "first_delivery_at", "late", "early", "timed", "missing_scan",
            "contact", *EVIDENCE]
    order = np.lexsort((x["li"].to_numpy(), x["unit_id"].to_numpy()))
    x = x[keep]
    if (order != np.arange(len(order))).any():  # lines usually come in unit order already
        x = x.take(order)
    return line_base.renumbered(x)


def _group(ctx: Context, by: tuple[str, ...]) -> pd.DataFrame:
    """Window-independent reduction of the lines of each (unit, segment)."""
    x = line_base.attach_dims(ctx, ctx.fact("commit_unit_lines"), by)
    tol = float(ctx.param("tol_units") or 0.0)
    f = pd.DataFrame({"unit_id": x["unit_id"].to_numpy()})
    for d in by:
        f[d] = x[d].to_numpy()
    r, cm, d = x["r"].to_numpy(), x["cm"].to_numpy(), x["d"].to_numpy()
    f["qty_ok"] = (np.abs(d - r) <= tol + EPS) & (cm <= EPS)
    f["open_at_due"] = (r - cm - x["d_by_due"].to_numpy()) > tol + EPS
    for c in ("late", "early", "timed", "contact", "missing_scan"):
        f[c] = x[c].to_numpy(bool)
    f["required"] = r > EPS
    for c in EVIDENCE:
        f[c] = x[c].array
    keys = ["unit_id", *by]
    g = f.groupby(keys, sort=False, dropna=False)
    out = pd.concat([g[["qty_ok"]].min(), g[FLAGS_ANY].max(), g[list(EVIDENCE)].min()], axis=1)
    out = out.reset_index()
    units = x.drop_duplicates("unit_id").set_index("unit_id")[UNIT_COLS]
    idx = units.index.get_indexer(out["unit_id"])
    for c in UNIT_COLS:
        out[c] = units[c].iloc[idx].array
    return out


def evaluate(ctx: Context, maturity_days: float, by: tuple[str, ...] | None = None
             ) -> pd.DataFrame:
    """One row per (unit, segment) with in_full, on_time, doc_ok, condition_ok and status.

    Line flags are reduced over the lines of the unit in the segment: all() for the
    quantity test, any() for lateness, open quantity and exclusions, min() for evidence
    times, which are then compared with the unit's last delivery + ``maturity_days``.
    Built once per (window, segments) and context: callers must not modify the frame.
    """
    by = ctx.by if by is None else tuple(by)
    return ctx.memo(f"_cu_eval:{maturity_days}:{by}", lambda: _evaluate(ctx, maturity_days, by))


def _evaluate(ctx: Context, maturity_days: float, by: tuple[str, ...]) -> pd.DataFrame:
    out = ctx.memo(f"_cu_group_{by}", lambda: _group(ctx, by)).copy()
    early_tol = ctx.param("early_tolerance_hours")
    mat = pd.Timedelta(days=float(maturity_days))
    end = out["last_delivery_at"] + mat
    no_end = end.isna()

    def found(col: str) -> pd.Series:
        t = out[col]
        return t.notna() & (no_end | (t <= end))

    early = out["early"] if early_tol is not None else False
    out["in_full"] = out["qty_ok"] & ~found("wrong_item_at")
    out["on_time"] = out["timed"] & ~out["late"] & ~out["open_at_due"] & ~early
    out["doc_ok"] = ~found("doc_defect_at")
    out["condition_ok"] = ~found("condition_at")
    reason = np.select(
        [out["exclusion"].notna().to_numpy(), ~out["required"].to_numpy(bool),
         out["missing_scan"].to_numpy(bool)],
        [out["exclusion"].astype(object).to_numpy(), "customer_cancel", "missing_delivery_scan"],
        default=None)
    out["excluded"] = pd.Series(reason, index=out.index, dtype=object)
    out["preliminary"] = out["last_delivery_at"].notna() & (
        out["last_delivery_at"] > ctx.as_of - mat)
    delivered_anchor = out["last_delivery_at"].where(out["terminal"].astype(bool))
    if ctx.param("cohort") == "delivered":
        out["anchor"] = delivered_anchor.where(out["excluded"].isna(),
                                               delivered_anchor.fillna(out["due_at"]))
    else:
        out["anchor"] = out["due_at"]
    return out


def default_maturity(ctx: Context, days: int) -> float:
    """``maturity_days`` when given, else the KPI's own window."""
    m = ctx.param("maturity_days")
    return float(days if m is None else m)


@fact("commit_units", grain="commit unit", tables=("orders", "order_lines"))
def commit_units(ctx: Context) -> pd.DataFrame:
    """One row per commit unit: in_full/doc_ok (14-day window), condition_ok (30), on_time."""
    a = evaluate(ctx, default_maturity(ctx, 14), by=()).copy()
    b = evaluate(ctx, default_maturity(ctx, 30), by=())
    a["condition_ok"] = b["condition_ok"].to_numpy()
    cols = ["unit_id", *UNIT_COLS, "anchor", "in_full", "on_time", "doc_ok", "condition_ok",
            "contact", "late", "open_at_due", "missing_scan", "excluded"]
    return a[cols].sort_values("unit_id", kind="stable").reset_index(drop=True)
