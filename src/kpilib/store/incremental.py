"""Incremental recompute: a batch recomputes only the periods its changes can reach.

A refresh knows the stored results (computed on the data before the batch) and the merged,
validated data after it. It finds ``since``, the earliest time the batch can affect:

- every row that differs between the stored and the merged table (added, changed or deleted:
  rows whose key the batch carries compared by a hash of the whole row, the others by
  position in their typed columns), its earliest timestamp or date;
- for such a row of an order (order lines, events, exceptions, shipments and their lines,
  pick tasks, returns), the creation time of its order (order KPIs anchor on the order);
- for such a row of no order and without any time (a node, a product without launch or
  discontinue date: segment attributes of every period), the earliest time there is
  (``MIN_TIME``), so every KPI is recomputed whole;
- the previous ``data_as_of``: records anchored between the old and the new data end enter
  the window now;
- minus ``lookback`` (default 61 days): KPIs whose records change with ``as_of`` alone (a
  unit stays ``preliminary`` for 14 or 30 days, a parcel cost for 60 days) and anchors a
  little before the order's creation (a period start) must fall inside the recompute.

``P0`` is the start of the period holding ``since``. **Period-local** KPIs (a period's value
depends only on records anchored in that period: rates, ratios, means and sums over order,
line, shipment, pick, receipt, return, RMA, count, replenishment and allocation records) are
computed with ``start=P0`` on the data *restricted* to what can be anchored from ``P0`` on
(orders with a timestamp at or after ``P0 - ANCHOR_SLACK``, with all their rows; every other
table whole), and their rows from ``P0`` on replace the stored ones; rows before ``P0`` are
kept. The lookback is applied once, to ``since``; the restriction only needs the slack of
anchors that lie after every stored time of their order (a date promise's deadline is the end
of its local calendar day, less than one day after the stored date). The period grid crosses
every segment seen in either part, so a segment seen only before ``P0`` still gets its empty
cells after it, as in a full recompute.

**Order snapshot KPIs** (open orders, backorders, unreleased slices, open exceptions,
returns, RMAs) are recomputed from ``P0`` on too, on that subset plus the orders the previous
refresh saw open at its last snapshot point (:mod:`kpilib.store.open_records`, which says why
that is exact); without those stored orders they are recomputed in full.

**Not period-local**, always recomputed in full on the whole merged data: other snapshot
KPIs (open receipts, waves, FIFO ageing, available to promise, days of supply, open
exception counts: their value at a period end depends on every record open then, however
old), custom reductions (capacity utilisation, tracking signal: rolling windows), forecast
KPIs (cells in the forecast's own periods, demand of
every order), stock-day KPIs (turnover and sell-through average stock over the period,
stockout runs span periods), cost per order (cost periods of their own), every KPI when the
set has no ``freq`` (one period: the whole history) or is cut by ``abc_class`` /
``xyz_class`` or an extra dimension (classes ranked over the whole history), and any KPI
without a stored row before ``P0`` or with an ``unavailable`` row (nothing to keep).

Bands depend on the whole series (control limits), so the caller re-bands every series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpilib import periods, registry, schema
from kpilib.context import Context
from kpilib.contracts.plausibility import MIN_TIME
from kpilib.store import open_records
from kpilib.store.merging import merge_all

LOOKBACK = pd.Timedelta(days=61)
ANCHOR_SLACK = pd.Timedelta(days=2)
NON_LOCAL_FACTS = {"forecast_cells", "stock_days", "inventory_layers"}
NON_LOCAL_KPIS = {"cost_per_order", "cost_per_order_incl_freight"}
GLOBAL_DIMS = {"abc_class", "xyz_class"}
ORDER_TABLES = ("order_lines", "order_events", "exceptions", "shipments", "returns")


@dataclass
class Plan:
    """What one set's recompute does: ``local`` KPIs and order snapshot KPIs ``snap``
    (:mod:`kpilib.store.open_records`) from ``start`` on, ``full`` ones whole; after it,
    ``open_orders``: the orders the order snapshot KPIs saw open last (None: unknown)."""

    start: pd.Timestamp | None
    local: list[str]
    full: list[str]
    snap: list[str] = field(default_factory=list)
    open_orders: pd.Series | None = None


def is_local(kdef: registry.KpiDef) -> bool:
    """Whether a KPI's period value depends only on records anchored in that period."""
    return not (kdef.snapshot or kdef.kind == "custom" or kdef.fact in NON_LOCAL_FACTS
                or kdef.id in NON_LOCAL_KPIS)


def _row_times(frame: pd.DataFrame, table: str, reduce=np.fmin) -> pd.Series:
    """Earliest (``reduce=np.fmax``: latest) timestamp or date of each row, UTC (dates at
    midnight), NaT when the row has none."""
    cols = [c.name for c in schema.TABLES[table].columns
            if c.dtype in (schema.TS, schema.DATE) and c.name in frame.columns]
    out = np.full(len(frame), np.datetime64("NaT"), "datetime64[ns]")
    for c in cols:
        s = frame[c] if pd.api.types.is_datetime64_any_dtype(frame[c]) else pd.to_datetime(
            frame[c])
        # .values: an aware column's UTC instants, a naive one's own; NaT only where all are
        out = reduce(out, np.asarray(s.values).astype("datetime64[ns]", copy=False))
    return pd.Series(out, index=frame.index).dt.tz_localize("UTC")


def _times(frame: pd.DataFrame, table: str) -> pd.Series:
    """Earliest timestamp or date of each row (UTC; dates at midnight), NaT when none."""
    return _row_times(frame, table, np.fmin)


def _changed(old: pd.DataFrame | None, new: pd.DataFrame | None) -> list[pd.DataFrame]:
    """Rows of ``old`` and of ``new`` that the other lacks (whole-row hash)."""
    if old is None or new is None:
        return [f for f in (old, new) if f is not None]
    cols = [c for c in new.columns if c in old.columns]
    if len(cols) != len(new.columns) or len(cols) != len(old.columns):
        return [old, new]
    ho = pd.util.hash_pandas_object(old[cols], index=False).to_numpy()
    hn = pd.util.hash_pandas_object(new[cols], index=False).to_numpy()
    return [old[~np.isin(ho, hn)], new[~np.isin(hn, ho)]]


def _in_keys(frame: pd.DataFrame, keys: list[str], batch: pd.DataFrame) -> np.ndarray:
    """Mask of ``frame``'s rows whose primary key ``keys`` is among the ``batch`` rows' keys."""
    m = np.ones(len(frame), bool)
    for k in keys:  # each key column on its own first: cheap, and exact for a one-column key
        m &= frame[k].isin(batch[k]).to_numpy()
    if len(keys) > 1 and m.any():
        cand = pd.MultiIndex.from_frame(frame.loc[m, keys].astype(object))
        m[m] = cand.isin(pd.MultiIndex.from_frame(batch[keys].astype(object)))
    return m


def _differs(old: pd.DataFrame, new: pd.DataFrame) -> np.ndarray:
    """Per position, whether rows ``old`` and ``new`` (aligned) differ in a typed column
    (timestamps, dates, numbers, flags: the columns validation can rewrite)."""
    out = np.zeros(len(old), bool)
    for c in old.columns:
        a, b = old[c], new[c]
        if a.dtype == object or pd.api.types.is_string_dtype(a.dtype):
            continue
        if a.dtype != b.dtype:
            return np.ones(len(old), bool)
        a, b = a.reset_index(drop=True), b.reset_index(drop=True)
        out |= ~(a.eq(b) | (a.isna() & b.isna())).to_numpy(bool)
    return out


def _changed_by_key(old: pd.DataFrame | None, new: pd.DataFrame | None,
                    batch: pd.DataFrame, table: str) -> list[pd.DataFrame]:
    """The rows :func:`_changed` finds, found through the batch's primary keys: rows whose key
    the batch carries are compared whole; every other row was kept by the upsert in place and
    in order, so it is compared by position, in the typed columns only."""
    keys = list(schema.TABLES[table].primary_key)
    if (old is None or new is None or not keys or set(old.columns) != set(new.columns)
            or not set(keys) <= set(batch.columns)):
        return _changed(old, new)
    new = new[list(old.columns)] if list(new.columns) != list(old.columns) else new
    mo, mn = _in_keys(old, keys, batch), _in_keys(new, keys, batch)
    if (~mo).sum() != (~mn).sum():
        return _changed(old, new)
    rest_old, rest_new = old[~mo], new[~mn]
    moved = _differs(rest_old, rest_new)
    return [*_changed(old[mo], new[mn]), rest_old[moved], rest_new[moved]]


def touched_since(old: dict[str, pd.DataFrame], new: dict[str, pd.DataFrame],
                  tables: list[str], old_as_of: pd.Timestamp,
                  batch: dict[str, pd.DataFrame] | None = None) -> pd.Timestamp:
    """The earliest time the change from ``old`` to ``new`` in ``tables`` can affect (see
    module docstring), before the lookback. With ``batch`` (the batch tables that turned
    ``old`` into ``new``), a keyed table's changed rows are found through the batch's keys
    instead of hashing every stored row; the result is the same."""
    times = [pd.Series([pd.Timestamp(old_as_of).tz_convert("UTC")])]
    order_ids, line_ids, shipment_ids = [], [], []
    for name in tables:
        pair = old.get(name), new.get(name)
        found = (_changed(*pair) if batch is None or name not in batch
                 else _changed_by_key(*pair, batch[name], name))
        for rows in found:
            times.append(_times(rows, name))
            linked = "order_id" in rows.columns or name in ("pick_tasks", "shipment_lines")
            if not linked and times[-1].isna().any():  # a node, a product: every period
                times.append(pd.Series([MIN_TIME]))
            if "order_id" in rows.columns:
                order_ids.append(rows["order_id"])
            if name in ("pick_tasks", "shipment_lines"):
                line_ids.append(rows["order_line_id"])
            if name == "shipment_lines":
                shipment_ids.append(rows["shipment_id"])
    for side in (old, new):
        if line_ids and side.get("order_lines") is not None:
            lines = side["order_lines"]
            order_ids.append(lines.loc[lines["order_line_id"].isin(pd.concat(line_ids)),
                                       "order_id"])
        if shipment_ids and side.get("shipments") is not None:
            sh = side["shipments"]
            order_ids.append(sh.loc[sh["shipment_id"].isin(pd.concat(shipment_ids)),
                                    "order_id"])
    if order_ids:
        ids = pd.concat(order_ids).dropna().unique()
        for side in (old, new):
            o = side.get("orders")
            if o is not None:
                times.append(_times(o.loc[o["order_id"].isin(ids), ["created_at"]], "orders"))
    return pd.concat([t for t in times if len(t)]).min()


def restrict(ds, cutoff: pd.Timestamp, extra: pd.Series | None = None):
    """``ds`` with only the orders (and their rows) having a timestamp at or after ``cutoff``,
    and the orders ``extra`` (ids); orderless rows and every other table are kept whole."""
    t = ds.tables
    o = t["orders"]
    keep = [o.loc[_latest(o, "orders").ge(cutoff), "order_id"]]
    for name in ORDER_TABLES:
        f = t.get(name)
        if f is not None:
            keep.append(f.loc[_latest(f, name).ge(cutoff), "order_id"])
    lines = t["order_lines"]
    pick = t.get("pick_tasks")
    if pick is not None:
        recent = pick.loc[_latest(pick, "pick_tasks").ge(cutoff), "order_line_id"]
        keep.append(lines.loc[lines["order_line_id"].isin(recent), "order_id"])
    if extra is not None:
        keep.append(pd.Series(extra, dtype=object))
    ids = pd.concat(keep).dropna().unique()
    out = {"orders": o[o["order_id"].isin(ids)]}
    for name in ORDER_TABLES:
        f = t.get(name)
        if f is not None:
            out[name] = f[f["order_id"].isin(ids) | f["order_id"].isna()]
    kept_lines = out["order_lines"]["order_line_id"]
    if pick is not None:
        out["pick_tasks"] = pick[pick["order_line_id"].isin(kept_lines)]
    sl = t.get("shipment_lines")
    if sl is not None and "shipments" in out:
        out["shipment_lines"] = sl[sl["shipment_id"].isin(out["shipments"]["shipment_id"])]
    return ds.replace(**out)


def _latest(frame: pd.DataFrame, table: str) -> pd.Series:
    """Latest timestamp or date of each row (UTC), NaT when none."""
    return _row_times(frame, table, np.fmax)


def plan(ids: list[str], by: tuple[str, ...], freq: str | None, since: pd.Timestamp | None,
         old: pd.DataFrame, dimensions: dict[str, str], tz: str = "UTC",
         open_orders: pd.Series | None = None, as_of: pd.Timestamp | None = None) -> Plan:
    """Which KPIs of a set are recomputed from ``P0`` on and which in full; order snapshot
    KPIs from ``P0`` on only with the stored ``open_orders`` and a data end ``as_of`` not
    before ``P0``."""
    if (since is None or freq is None or set(by) & GLOBAL_DIMS
            or any(d in dimensions for d in by)):
        return Plan(None, [], list(ids))
    p0 = periods.bucket(pd.Series([since]), freq, tz).iloc[0]
    snap_ok = open_orders is not None and as_of is not None and as_of >= p0
    local, full, snap = [], [], []
    for k in ids:
        rows, kdef = old[old["kpi"] == k], registry.KPIS[k]
        kept = rows["period"].notna().all() and bool((rows["period"] < p0).any())
        group = (local if kept and is_local(kdef) else
                 snap if kept and snap_ok and open_records.is_order_snapshot(kdef) else full)
        group.append(k)
    return Plan(periods.to_utc(p0), local, full, snap)


def _compute_local(sub, full, ids: list[str], by: tuple[str, ...], freq: str,
                   params: dict | None, start: pd.Timestamp
                   ) -> tuple[pd.DataFrame, open_records.Observed]:
    """``compute(sub, ids, start=start)``, except that what the source records (capture
    flags such as "cancellation times are recorded") is judged on the whole data ``full``;
    with what the order snapshot KPIs saw open last."""
    from kpilib.engine import compute_one, make_context, observations, recorded

    ctx = make_context(sub, by=list(by), freq=freq, start=start, params=params)
    whole = Context(ds=full, as_of=full.data_as_of, source=full)
    for k in ids:
        for r in registry.KPIS[k].requires:
            ctx.memo(f"_recorded:{r}", lambda r=r: recorded(whole, r))
    seen, parts = open_records.Observed(ctx), []
    for k in ids:
        obs = observations(registry.KPIS[k], ctx)
        if not isinstance(obs, str):
            seen(registry.KPIS[k], obs)
        parts.append(compute_one(registry.KPIS[k], ctx, obs=obs))
    return pd.concat(parts, ignore_index=True), seen


def recompute_set(ds, kpis, by: tuple[str, ...], freq: str | None, params: dict | None,
                  old: pd.DataFrame | None, since: pd.Timestamp | None,
                  lookback: pd.Timedelta = LOOKBACK, open_orders: pd.Series | None = None
                  ) -> tuple[pd.DataFrame, Plan]:
    """The results of one maintained set on ``ds``, equal to ``compute(ds, kpis, by, freq)``,
    recomputing only what ``since`` can reach when the stored results ``old`` are given (and
    the order snapshot KPIs too when the orders they saw open last, ``open_orders``, are)."""
    from kpilib.engine import compute_in, make_context

    ids = registry.resolve(list(kpis))
    since = None if old is None or since is None else since - lookback
    pl = plan(ids, by, freq, since, old, ds.dimensions, open_orders=open_orders,
              as_of=ds.data_as_of)
    parts: dict[str, pd.DataFrame] = {}
    seen = []
    if pl.local or pl.snap:
        sub = restrict(ds, pl.start - ANCHOR_SLACK, open_orders if pl.snap else None)
        some = [k for k in ids if k in pl.local or k in pl.snap]
        new, observed = _compute_local(sub, ds, some, by, freq, params, pl.start)
        seen.append(observed)
        gone = set(new.loc[new["period"].isna(), "kpi"])  # unavailable on the subset
        pl.full += [k for k in some if k in gone]  # computed whole below
        pl.local = [k for k in pl.local if k not in gone]
        pl.snap = [k for k in pl.snap if k not in gone]
        parts.update(merge_all(old, new, [k for k in some if k not in gone], by, pl.start))
    if pl.full:
        ctx = make_context(ds, by=list(by), freq=freq, params=params)
        seen.append(open_records.Observed(ctx))
        res = compute_in(ctx, [k for k in ids if k in pl.full], ds, observe=seen[-1])
        for k in pl.full:
            parts[k] = res[res["kpi"] == k]
    out = pd.concat([parts[k] for k in ids], ignore_index=True)
    pl.open_orders = open_records.observed(seen)
    return out, pl
