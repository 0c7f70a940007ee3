"""Leading indicators on orders and returns: allocation failures (E2) and RMA decision delay
(E5). Leading indicators count the work that happened: only test orders leave the
population (§11.9).

E2 notes
--------
Edge cases
----------
- Lines held for payment/fraud have no attempt and are not in the population.
- A partial allocation is a failure even if the policy ships partially; a later
  successful re-sourcing to another node does not undo a failed first attempt.
- Test orders are excluded (``is_test``); fraud/duplicate/transfer orders stay in
  (leading indicators count the work that happened, §11.9).
- Segments: node = the attempted node (event node_id), fulfillment_model of that node;
  channel of the order; sku, supplier, product_class, abc/xyz class of the line's SKU.

E5 notes
--------
Grain: RMA line; anchor: ``rma_decided_at`` (E5). Undecided requests are pending (§11.1,
see ``open_rma_age_hours``).

Edge cases
----------
- Requests withdrawn by the customer are excluded (``withdrawn``), test orders
  (``is_test``); a decision before the request is ``negative_duration``.
- Distinct from B9, which starts at physical receipt.
- Segments: channel, return_reason, product_class / supplier / sku of the returned SKU,
  node / fulfillment_model of the line (node that shipped it, else assigned; reading
  chosen, the receiving node is rarely known at decision time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import keys, segments
from kpilib.context import Context, fact
from kpilib.facts.orders import hours, observations, per_context
from kpilib.facts.population import order_population
from kpilib.facts.timeline import open_positions
from kpilib.registry import kpi

E2_DIMS = ("node", "channel", "supplier", "product_class", "sku", "abc_class", "xyz_class",
           "fulfillment_model")
E5_DIMS = ("channel", "product_class", "return_reason", "node", "supplier", "sku",
           "fulfillment_model")
SKU_DIMS = ("sku", "supplier", "product_class", "abc_class", "xyz_class")
AUTO_DECISION = pd.Timedelta(minutes=1)


# --- E2 --------------------------------------------------------------------------------------


@fact("allocation_attempts", grain="allocation attempt", tables=("orders", "order_lines",
                                                                  "order_events"))
def allocation_attempts(ctx: Context) -> pd.DataFrame:
    """One row per ``allocation_attempt`` event: line, attempted node, time, requested and
    confirmed qty, ``failed`` (qty_confirmed < qty), ``is_first`` (the line's earliest attempt;
    ties by event_id) and ``exclusion`` (``is_test`` only, §11.9).

    A null ``qty`` falls back to the line's qty_ordered; a null ``qty_confirmed`` counts as
    nothing confirmed (failed). Attempts without an order_line_id are order-level and are
    kept for the attempt rate only (``is_first`` False).
    """
    ev = ctx.table("order_events")
    a = ev.loc[ctx.event_mask("allocation_attempt"),
               ["event_id", "order_id", "order_line_id", "node_id", "event_at", "qty",
                "qty_confirmed"]].rename(columns={"node_id": "node"})
    lines = ctx.ds.order_lines.set_index("order_line_id")
    qty = a["qty"].fillna(a["order_line_id"].map(lines["qty_ordered"]))
    a["failed"] = (a["qty_confirmed"].fillna(0.0) < qty).to_numpy()
    a["sku"] = a["order_line_id"].map(lines["sku"]).to_numpy()
    line_code = pd.factorize(a["order_line_id"])[0]            # -1 = no line
    id_rank = keys.text_rank(a["event_id"])
    when = a["event_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    order = np.lexsort((id_rank, when, line_code))
    first = np.zeros(len(a), dtype=bool)
    sorted_codes = line_code[order]
    starts = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]] & (sorted_codes >= 0)
    first[order[starts]] = True
    a["is_first"] = first
    pop = order_population(ctx).set_index("order_id")
    a["channel"] = a["order_id"].map(pop["channel"]).to_numpy()
    a["exclusion"] = a["order_id"].map(pop["warehouse_exclusion"]).to_numpy()
    return a.reset_index(drop=True)


def _attempt_obs(ctx: Context, first_only: bool) -> pd.DataFrame:
    a = ctx.fact("allocation_attempts")
    if first_only:
        a = a.loc[a["is_first"]]
    a = _attempt_obs_frame(ctx, a)
    return observations(a, ctx, anchor=a["event_at"], num=a["failed"].astype(float), den=1.0,
                        excluded=a["exclusion"])


def _attempt_obs_frame(ctx: Context, a: pd.DataFrame) -> pd.DataFrame:
    """Attempts plus the requested SKU and node attributes."""
    sku_want = [d for d in ctx.by if d in SKU_DIMS and d != "sku"]
    if sku_want:
        a = a.merge(segments.sku_dims(ctx)[["sku", *sku_want]], on="sku", how="left")
    if "fulfillment_model" in ctx.by:
        model = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
        a = a.assign(fulfillment_model=a["node"].map(model).to_numpy())
    return a


@kpi("allocation_failure_rate", name="Allocation failure rate", domain="leading",
     unit="fraction", direction="lower", grain="order line (first attempt)", kind="rate",
     tables=("order_events",), dims=E2_DIMS,
     requires=('order_events.event_type=allocation_attempt',))
def allocation_failure_rate(ctx: Context) -> pd.DataFrame:
    """failed first attempts / order lines with a first allocation attempt in P; failed =
    qty_confirmed < qty.

    Grain: order line; first attempt = earliest ``allocation_attempt`` event of the line;
    anchor: first attempt time (E2).

    Grain, population and edge cases: see the E2 notes in the module docstring.
    """
    return _attempt_obs(ctx, first_only=True)


@kpi("allocation_attempt_failure_rate", name="Allocation attempt failure rate",
     domain="leading", unit="fraction", direction="lower", grain="allocation attempt",
     kind="rate", tables=("order_events",), dims=E2_DIMS,
     requires=('order_events.event_type=allocation_attempt',))
def allocation_attempt_failure_rate(ctx: Context) -> pd.DataFrame:
    """failed allocation attempts / all allocation attempts in P (retries included).

    Grain: allocation attempt; anchor: attempt time (E2 frequency view).

    Grain, population and edge cases: see the E2 notes in the module docstring.
    """
    return _attempt_obs(ctx, first_only=False)


@kpi("allocation_failures_per_sku_day", name="Allocation failures per SKU-node-day",
     domain="leading", unit="failures/SKU-node-day", direction="lower",
     grain="SKU-node-day", kind="ratio", tables=("order_events",),
     dims=("node", "sku", "supplier", "product_class", "abc_class", "xyz_class",
           "fulfillment_model"),
     requires=('order_events.event_type=allocation_attempt',))
def allocation_failures_per_sku_day(ctx: Context) -> pd.DataFrame:
    """Σ failed allocation attempts / |{SKU-node-days with at least one attempt}| in P.

    Grain: SKU x attempted node x calendar day (in the reporting time zone ``tz``); every
    attempt row carries its failure (numerator) and the first attempt of each cell carries
    the cell (denominator), so any roll-up is Σ failures / Σ active cells (E2 frequency view
    per stock cell). Anchor: attempt time.

    Notes
    -----
    Reading: the spec's "count of failed attempts per SKU-node-day" is a table; as a KPI
    value it is the mean over SKU-node-days that saw an attempt. ``by=["channel"]`` is not
    offered (a cell mixes channels).

    Grain, population and edge cases: see the E2 notes in the module docstring.
    """
    a = ctx.fact("allocation_attempts")
    day = a["event_at"].dt.tz_convert(ctx.tz).dt.tz_localize(None).dt.normalize()
    cell = pd.DataFrame({"sku": a["sku"].to_numpy(), "node": a["node"].to_numpy(),
                         "day": day.to_numpy(), "out": a["exclusion"].notna().to_numpy()})
    first = ~cell.duplicated().to_numpy() & ~cell["out"].to_numpy()
    obs = _attempt_obs_frame(ctx, a.assign(_first=first))
    return observations(obs, ctx, anchor=obs["event_at"], num=obs["failed"].astype(float),
                        den=obs["_first"].astype(float), n=obs["_first"].astype(int),
                        excluded=obs["exclusion"])


# --- E5 --------------------------------------------------------------------------------------


@fact("rma_requests", grain="RMA line", tables=("orders", "order_lines", "returns"))
def rma_requests(ctx: Context) -> pd.DataFrame:
    """One row per return line: requested/decided times, ``delay_hours``, ``exclusion``.

    exclusion: ``is_test`` (test order, §11.9) or ``withdrawn`` (``rma_decision =
    'withdrawn'``, E5). Segments: channel of the order, return_reason, and the line's
    node / SKU attributes (§1.10: the node that shipped the line, else its assigned node).
    """
    r = ctx.table("returns")
    out = r[["return_line_id", "order_id", "order_line_id", "sku", "return_reason",
             "rma_requested_at", "rma_decided_at", "rma_decision"]].reset_index(drop=True)
    pop = order_population(ctx).set_index("order_id")
    out["channel"] = out["order_id"].map(pop["channel"]).to_numpy()
    test = out["order_id"].map(pop["warehouse_exclusion"]).eq("is_test").to_numpy()
    withdrawn = out["rma_decision"].eq("withdrawn").to_numpy()
    out["exclusion"] = np.where(test, "is_test", np.where(withdrawn, "withdrawn", None))
    out["delay_hours"] = hours(out["rma_decided_at"] - out["rma_requested_at"])
    return out


@per_context
def _rma(ctx: Context) -> pd.DataFrame:
    r = ctx.fact("rma_requests")
    line_want = [d for d in ctx.by if d in ("node", "fulfillment_model")]
    if line_want:
        dims = segments.line_dims(ctx)[["order_line_id", *line_want]]
        r = r.merge(dims, on="order_line_id", how="left")
    sku_want = [d for d in ctx.by if d in SKU_DIMS and d != "sku"]
    if sku_want:
        r = r.merge(segments.sku_dims(ctx)[["sku", *sku_want]], on="sku", how="left")
    return r


def _decided(ctx: Context) -> pd.DataFrame:
    r = _rma(ctx)
    r = r.loc[r["rma_decided_at"].notna()].reset_index(drop=True)
    excluded = r["exclusion"].where(r["exclusion"].notna() | (r["delay_hours"] >= 0),
                                    "negative_duration")
    return r.assign(excluded=excluded)


@kpi("rma_decision_delay_hours", name="RMA decision delay", domain="leading", unit="hours",
     direction="lower", grain="RMA line", kind="mean", tables=("returns",), dims=E5_DIMS,
     requires=('returns.rma_decided_at',))
def rma_decision_delay_hours(ctx: Context) -> pd.DataFrame:
    """delay = rma_decided_at - rma_requested_at (hours) per RMA line decided in P; mean, p50, p90,
    n.

    Grain, population and edge cases: see the E5 notes in the module docstring.
    """
    r = _decided(ctx)
    return observations(r, ctx, anchor=r["rma_decided_at"], x=r["delay_hours"],
                        excluded=r["excluded"])


@kpi("auto_decision_share", name="RMA auto-decision share", domain="leading",
     unit="fraction", direction="none", grain="RMA line", kind="rate", tables=("returns",),
     dims=E5_DIMS,
     requires=('returns.rma_decided_at',))
def auto_decision_share(ctx: Context) -> pd.DataFrame:
    """|{RMA lines decided in P within 1 minute of the request}| / |{RMA lines decided in P}|.

    Notes
    -----
    "Within 1 minute" is read as delay <= 60 seconds.

    Grain, population and edge cases: see the E5 notes in the module docstring.
    """
    r = _decided(ctx)
    auto = (r["rma_decided_at"] - r["rma_requested_at"]) <= AUTO_DECISION
    return observations(r, ctx, anchor=r["rma_decided_at"], num=auto.astype(float), den=1.0,
                        excluded=r["excluded"])


@kpi("open_rma_age_hours", name="Open RMA age", domain="leading", unit="hours",
     direction="lower", grain="RMA line (snapshot)", kind="mean", tables=("returns",),
     dims=E5_DIMS, snapshot=True)
def open_rma_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t - rma_requested_at (hours) over RMA lines requested by t and undecided at t; mean,
    p50, p90, n.

    Snapshot (§11.12): t = as_of with ``freq=None``, else each period end capped at as_of.

    Edge cases
    ----------
    - Withdrawn requests are excluded at every snapshot (``withdrawn``; reading chosen: E5
      drops them from the population, so they never count as waiting), test orders
      ``is_test``; both are counted where they were open.
    - Segments as ``rma_decision_delay_hours``.
    """
    r = _rma(ctx)
    points = ctx.snapshot_points()
    ent, pt = open_positions(points, r["rma_requested_at"], r["rma_decided_at"])
    rows = r.iloc[ent].reset_index(drop=True)
    t = points["t"].iloc[pt].reset_index(drop=True)
    return observations(rows, ctx, period=points["period"].iloc[pt],
                        x=hours(t - rows["rma_requested_at"]), excluded=rows["exclusion"])
