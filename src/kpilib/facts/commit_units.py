"""Commit-unit facts for A1-A6 (kpi-spec §1.6, §1.7, §2 notation, §11.1-§11.4).

``commit_unit_lines``: one row per A-domain order line (kit components rolled into their
parent, §1.5) with its commit unit (``unit_id`` = order_id + original promise, §1.6), the
unit deadline ``D_u`` (latest line deadline on the ``commit_basis``), required ``r`` and
merchant-cancelled ``cm`` quantities, delivered quantity ``d`` (delivered shipments only),
quantity delivered by ``D_u`` for timing (``d_by_due``), late / early / missing-scan flags and
the first time of each kind of evidence (``wrong_item_at``, ``doc_defect_at``,
``condition_at``). ``commit_units`` is the same table reduced to one row per unit with the
default maturity windows, for drill-down. Both come from :func:`evaluate`, the single code
path the KPIs use (grouping lines by ``[unit_id, *by]`` gives the sub-unit of §1.10).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import segments
from kpilib.context import Context, fact
from kpilib.facts import line_base
from kpilib.facts.unit_evidence import delivery_events, evidence_times

EPS = 1e-9
UNIT_COLS = ["order_id", "promise_original", "due_at", "window_start_at", "last_delivery_at",
             "terminal", "exclusion", "channel"]


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
    x = base.loc[~base["is_component"]].copy()
    p = _basis_promise(x, ctx.param("commit_basis"))
    x["line_due_at"], x["line_window_at"] = _deadlines(
        p, x["promise_is_date"].astype(bool), x["ship_to_timezone"])
    x["promise_original"] = x["promised_delivery_at_original"]
    x["unit_id"] = x.groupby(["order_id", "promise_original"], sort=True).ngroup()
    g = x.groupby("unit_id")
    x["due_at"] = g["line_due_at"].transform("max")
    x["window_start_at"] = g["line_window_at"].transform("max")

    per_line, own = delivery_events(ctx, base, x)
    ev = evidence_times(ctx, base)
    per_line = per_line.join(ev, how="outer")
    rolled = line_base.rollup_kits(
        per_line, qty=("d", "d_by_due"),
        tmin=("first_delivery_at", "wrong_item_at", "doc_defect_at", "condition_at"),
        tmax=("last_delivery_at",), flags=("late", "early", "timed", "missing_scan",
                                           "contact"),
        base=base, own_data=own)
    x = x.join(rolled, on="order_line_id")
    x = _order_level_evidence(ctx, x)
    x["last_delivery_at"] = x.groupby("unit_id")["last_delivery_at"].transform("max")
    tol = float(ctx.param("tol_units") or 0.0)
    open_now = (x["r"] - x["cm"] - x["d"]) > tol + EPS
    got = (x["d"] > EPS).groupby(x["unit_id"]).transform("any")
    x["terminal"] = ~open_now.groupby(x["unit_id"]).transform("any") & got
    keep = ["unit_id", "order_line_id", *UNIT_COLS, "sku", "r", "cm", "d", "d_by_due",
            "first_delivery_at", "late", "early", "timed", "missing_scan", "contact",
            "wrong_item_at", "doc_defect_at", "condition_at"]
    return x[keep].sort_values(["unit_id", "order_line_id"], kind="stable").reset_index(
        drop=True)


def _order_level_evidence(ctx: Context, x: pd.DataFrame) -> pd.DataFrame:
    """Evidence recorded against the order (no line) applies to every line of the order."""
    from kpilib.facts.unit_evidence import order_level_times

    lvl = order_level_times(ctx)
    if lvl.empty:
        return x
    y = x.join(lvl, on="order_id", rsuffix="_order")
    for c in lvl.columns:
        x[c] = pd.concat([y[c], y[f"{c}_order"]], axis=1).min(axis=1).astype(
            "datetime64[ns, UTC]")
    return x


def evaluate(ctx: Context, maturity_days: float, by: tuple[str, ...] | None = None
             ) -> pd.DataFrame:
    """One row per (unit, segment) with in_full, on_time, doc_ok, condition_ok and status.

    Line flags are reduced over the lines of the unit in the segment (§1.10): all() for
    in-full, any() for lateness, open quantity, defects and exclusions.
    """
    by = ctx.by if by is None else by
    return ctx.memo(f"_cu_eval_{float(maturity_days)}_{by}",
                    lambda: _evaluate(ctx, maturity_days, by)).copy()


def _evaluate(ctx: Context, maturity_days: float, by: tuple[str, ...]) -> pd.DataFrame:
    x = ctx.fact("commit_unit_lines")
    if by:
        x = segments.attach(x, segments.line_dims(ctx), "order_line_id", ctx)
    tol = float(ctx.param("tol_units") or 0.0)
    early_tol = ctx.param("early_tolerance_hours")
    mat = pd.Timedelta(days=float(maturity_days))
    end = x["last_delivery_at"] + mat
    no_end = end.isna()

    def within(col: str) -> pd.Series:
        t = x[col]
        return t.notna() & (no_end | (t <= end))

    f = pd.DataFrame({"unit_id": x["unit_id"]})
    for d in by:
        f[d] = x[d]
    f["in_full"] = ((x["d"] - x["r"]).abs() <= tol + EPS) & (x["cm"] <= EPS) & ~within(
        "wrong_item_at")
    f["open_at_due"] = (x["r"] - x["cm"] - x["d_by_due"]) > tol + EPS
    f["late"] = x["late"]
    f["early"] = x["early"] if early_tol is not None else False
    f["timed"] = x["timed"]
    f["contact"] = x["contact"]
    f["doc_bad"] = within("doc_defect_at")
    f["cond_bad"] = within("condition_at")
    f["missing_scan"] = x["missing_scan"]
    f["required"] = x["r"] > EPS
    keys = ["unit_id", *by]
    g = f.groupby(keys, sort=False, dropna=False)
    out = g.agg(in_full=("in_full", "all"), open_at_due=("open_at_due", "any"),
                late=("late", "any"), early=("early", "any"), timed=("timed", "any"),
                contact=("contact", "any"), doc_bad=("doc_bad", "any"),
                cond_bad=("cond_bad", "any"), missing_scan=("missing_scan", "any"),
                required=("required", "any")).reset_index()
    units = x.drop_duplicates("unit_id").set_index("unit_id")[UNIT_COLS]
    out = out.join(units, on="unit_id", rsuffix="_unit")
    out["on_time"] = out["timed"] & ~out["late"] & ~out["open_at_due"] & ~out["early"]
    out["doc_ok"] = ~out["doc_bad"]
    out["condition_ok"] = ~out["cond_bad"]
    reason = np.select(
        [out["exclusion"].notna().to_numpy(), ~out["required"].to_numpy(),
         out["missing_scan"].to_numpy()],
        [out["exclusion"].astype(object).to_numpy(), "customer_cancel", "missing_delivery_scan"],
        default=None)
    out["excluded"] = pd.Series(reason, index=out.index, dtype=object)
    out["preliminary"] = out["last_delivery_at"].notna() & (
        out["last_delivery_at"] > ctx.as_of - mat)
    delivered_anchor = out["last_delivery_at"].where(out["terminal"])
    if ctx.param("cohort") == "delivered":
        out["anchor"] = delivered_anchor.where(out["excluded"].isna(),
                                               delivered_anchor.fillna(out["due_at"]))
    else:
        out["anchor"] = out["due_at"]
    return out


def default_maturity(ctx: Context, days: int) -> float:
    """``maturity_days`` when given, else the KPI's own window (§11.2)."""
    m = ctx.param("maturity_days")
    return float(days if m is None else m)


@fact("commit_units", grain="commit unit", tables=("orders", "order_lines"))
def commit_units(ctx: Context) -> pd.DataFrame:
    """One row per commit unit: in_full/doc_ok (14-day window), condition_ok (30), on_time."""
    a = evaluate(ctx, default_maturity(ctx, 14), by=())
    b = evaluate(ctx, default_maturity(ctx, 30), by=())
    a["condition_ok"] = b["condition_ok"].to_numpy()
    cols = ["unit_id", *UNIT_COLS, "anchor", "in_full", "on_time", "doc_ok", "condition_ok",
            "contact", "late", "open_at_due", "missing_scan", "excluded"]
    return a[cols].sort_values("unit_id", kind="stable").reset_index(drop=True)
