"""Order-line building blocks shared by the commit-unit (A1-A6) and fill (A7-A10) facts.

Everything is keyed by the line's *position* ``li`` in ``order_lines`` (integers group and
join far faster than text ids on a million orders).

- :func:`lines` - one row per order line (row ``i`` = ``order_lines`` row ``i``) with ``li``,
  the order position ``oi``, the evaluated line ``ei`` (itself, or its kit parent), required
  quantity ``r = qty_ordered - qty_cancelled_customer`` and merchant-cancelled ``cm`` (a
  full-order cancellation raises them to the unshipped rest, by initiator; SQL definition
  ``kpilib/sql/facts/line_required.sql``), the order's attributes and population exclusion.
- :func:`shipment_rows` - shipment lines joined to their shipment, with ``li``.
- :func:`rollup_kits` - kit parents are judged at the parent line: when the parent has
  no delivery records of its own, each quantity of the parent is ``min_c(q_c / ratio_c)`` over
  its components (``ratio_c = qty_ordered_c / qty_ordered_parent``), each time the min / max
  over them and each flag their any(). Component lines then leave the A-domain.
- :func:`positions`, :func:`order_index`, :func:`line_index` - positions of line and order
  ids, the one place every fact builder finds them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.fact_tables.population import order_population
from kpilib.fact_tables.times import utc_ns, utc_series
from kpilib.sql import run

UTC = "datetime64[ns, UTC]"
ORDER_COLS = ["created_at", "earliest_ship_at", "ship_to_timezone", "cancelled_at",
              "cancel_initiator"]


def lines(ctx: Context) -> pd.DataFrame:
    """Every order line, positional (see module doc); built once per context."""
    return ctx.memo("_a_lines", lambda: _build_lines(ctx))


def _build_lines(ctx: Context) -> pd.DataFrame:
    """The frame behind :func:`lines`."""
    ol = ctx.ds.order_lines
    o = ctx.ds.orders
    out = ol.reset_index(drop=True).copy()
    n = len(out)
    oi = order_index(ctx).get_indexer(out["order_id"])
    out["li"] = np.arange(n)
    out["oi"] = oi
    for c in ORDER_COLS:
        name = "order_created_at" if c == "created_at" else c
        out[name] = o[c].iloc[oi].reset_index(drop=True)
    pop = order_population(ctx)          # one row per order, in orders' row order
    out["channel"] = pop["channel"].to_numpy()[oi]
    out["exclusion"] = pop["exclusion"].to_numpy()[oi]
    req = run.frame(ctx, "line_required")     # r, cm: SQL, one row per line in row order
    out["r"] = req["r"].to_numpy()
    out["cm"] = req["cm"].to_numpy()
    qty = out["qty_ordered"].to_numpy(float)
    parent = positions(ctx, out["parent_line_id"])
    out["is_component"] = parent >= 0
    ei = np.where(parent >= 0, parent, np.arange(n))
    out["ei"] = ei
    out["is_kit_parent"] = np.isin(np.arange(n), parent[parent >= 0])
    pq = qty[ei]
    ratio = np.where(pq > 0, qty / np.where(pq > 0, pq, 1.0), 1.0)
    out["kit_ratio"] = np.where((parent >= 0) & (ratio > 0), ratio, 1.0)
    return out


def subset(frame: pd.DataFrame, mask: np.ndarray, cols: list[str]) -> pd.DataFrame:
    """``frame.loc[mask, cols]`` as a new frame in one copy (row labels kept: positions);
    ``mask`` is a boolean array, so each column is a fresh array the frame can own.

    On a million lines, copying every column of ``lines`` and then selecting a few costs
    seconds; this copies only the columns asked for."""
    return pd.DataFrame({c: frame[c].array[mask] for c in cols},
                        index=frame.index[mask], copy=False)  # fresh arrays: no 2nd copy


def renumbered(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a fresh RangeIndex, set in place (pass a frame you own), without
    ``reset_index``'s extra copy."""
    frame.index = pd.RangeIndex(len(frame))
    return frame


NAT = np.datetime64("NaT", "ns")


def reduce_times(op: np.ufunc, pos: np.ndarray, t: np.ndarray, n: int) -> np.ndarray:
    """Per position 0..n-1: ``op`` (np.fmin / np.fmax, which skip NaT) of the naive times
    ``t`` at ``pos``; NaT where there are none."""
    out = np.full(n, NAT)
    op.at(out, pos, t)
    return out


def ready_times(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Per order-line position: (first, last) ``ready_for_pickup`` time of the line, of its
    kit line, or of its whole order (an event without order_line_id); naive UTC, NaT when
    none (store pickup). The SQL definition ``line_ready``, built once per context."""

    def build() -> tuple[np.ndarray, np.ndarray]:
        ready = run.frame(ctx, "line_ready")
        return utc_ns(ready["ready_first_at"]), utc_ns(ready["ready_last_at"])

    return ctx.memo("_a_ready_times", build)


def order_index(ctx: Context) -> pd.Index:
    """The ids of ``orders`` in row order: ``get_indexer`` gives order positions. Built once
    per context, for every fact builder."""
    return ctx.memo("_order_index", lambda: pd.Index(ctx.ds.orders["order_id"]))


def line_index(ctx: Context) -> pd.Index:
    """The ids of ``order_lines`` in row order (see :func:`order_index`)."""
    return ctx.memo("_line_index", lambda: pd.Index(ctx.ds.order_lines["order_line_id"]))


def positions(ctx: Context, ids: pd.Series) -> np.ndarray:
    """Positions in ``order_lines`` of line ids (-1 when unknown)."""
    return line_index(ctx).get_indexer(ids)


def shipment_rows(ctx: Context) -> pd.DataFrame:
    """shipment_lines joined to shipments, with the line position ``li`` (empty if absent)."""

    def build() -> pd.DataFrame:
        sl, sh = ctx.table("shipment_lines"), ctx.table("shipments")
        cols = ["created_at", "shipped_at", "delivered_at", "first_delivery_attempt_at",
                "delivery_status", "delivery_failure_reason"]
        if sl is None or sh is None:
            out = pd.DataFrame({"li": pd.Series(dtype=np.int64),
                                "qty_shipped": pd.Series(dtype=float)})
            for c in cols:
                out[c] = pd.Series(dtype=UTC if c.endswith("_at") else object)
            return out
        si = pd.Index(sh["shipment_id"]).get_indexer(sl["shipment_id"])
        li = positions(ctx, sl["order_line_id"])
        keep = (li >= 0) & (si >= 0)
        take = si[keep]
        data = {"li": li[keep], "qty_shipped": sl["qty_shipped"].to_numpy(float)[keep]}
        for c in cols:
            data[c] = sh[c].array.take(take)
        return pd.DataFrame(data)

    return ctx.memo("_a_shipment_rows", build)


def rollup_kits(per_line: pd.DataFrame, base: pd.DataFrame, own: np.ndarray, *,
                qty: tuple[str, ...] = (), tmin: tuple[str, ...] = (),
                tmax: tuple[str, ...] = (), flags: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows of ``per_line`` (positional, one per order line) for the evaluated lines.

    A kit parent with ``own[parent]`` False takes its figures from its components.
    """
    comp = base["is_component"].to_numpy()
    ei = base["ei"].to_numpy()
    use = comp & ~own[ei]
    out = per_line.loc[~comp].copy()
    if not use.any():
        return out
    c = per_line.loc[use].copy()
    ratio = base["kit_ratio"].to_numpy()[use]
    for col in qty:
        c[col] = c[col].to_numpy() / ratio
    agg = {**{k: "min" for k in qty}, **{k: "min" for k in tmin},
           **{k: "max" for k in tmax}, **{k: "any" for k in flags}}
    got = c.groupby(ei[use]).agg(agg)
    for col in got.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            arr = utc_ns(out[col]).copy()
            arr[out.index.get_indexer(got.index)] = utc_ns(got[col])
            out[col] = utc_series(arr, index=out.index)
        else:
            s = out[col].to_numpy().copy()
            s[out.index.get_indexer(got.index)] = got[col].to_numpy(dtype=s.dtype)
            out[col] = s
    return out


KIT_FILL_DIMS = ("node", "fulfillment_model", "carrier", "service_level")


def attach_dims(ctx: Context, x: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    """Add the ``by`` dimensions of each row's line (column ``li``) from segments.line_dims.

    A kit parent that never shipped itself takes node / fulfillment model / carrier /
    service level from its first component (sku, supplier and product class stay its own).
    """
    if not by:
        return x
    x = x.copy()
    li = x["li"].to_numpy()
    for d in by:
        if d in x.columns and d == "channel":
            continue
        x[d] = _dim_by_position(ctx, d)[li]
    return x


def _dim_by_position(ctx: Context, d: str) -> np.ndarray:
    """Dimension ``d`` of every order line, by line position (built once per context)."""

    def build() -> np.ndarray:
        dims = segments.line_dims(ctx)
        pos = positions(ctx, dims["order_line_id"])
        base = lines(ctx)
        comp = base["is_component"].to_numpy()
        ei = base["ei"].to_numpy()
        arr = pd.Series(np.full(len(base), None, dtype=object))
        arr.iloc[pos[pos >= 0]] = dims[d].to_numpy()[pos >= 0]
        if d in KIT_FILL_DIMS and comp.any():
            first = arr[comp].groupby(ei[comp]).first()
            arr.loc[first.index] = arr.loc[first.index].fillna(first)
        return arr.to_numpy()

    return ctx.memo(f"_a_dim_by_position:{d}", build)
