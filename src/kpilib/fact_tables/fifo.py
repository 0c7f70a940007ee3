"""FIFO stock layers, vectorised.

Replaying the ledger with first-in-first-out consumption (ERPNext's Stock Ageing) leaves, at
any time, exactly the **most recently arrived** units on hand: every outbound unit consumes
the oldest arrival still there, and a shortfall (negative stock) is offset by the next
arrival, whose excess alone becomes a layer. So with arrivals in order ``(moved_at,
movement_id)`` and ``cum_in`` the running arrived quantity, the part of an arrival still on
hand at ``t`` is::

    remaining = clip(cum_in_through_it − total_out(t), 0, qty)

which needs no per-unit loop. Arrivals are positive ``qty_delta`` rows (receipts, positive
count adjustments dated at the adjustment, restocked returns dated at the restock, transfer
ins); outbound rows are negative ones.

Transfers keep their age (rule 4): the inbound leg of a transfer (``transfer_in`` sharing a
``transfer_group_id`` with a ``transfer_out``) is not dated at its arrival; its units carry
the layer dates that the outbound leg consumed at the source, oldest first. Consumed
positions are found by intersecting the outbound leg's consumption interval ``[out_before,
out_after)`` with the source's arrival intervals; chains (a transferred unit transferred
again) are resolved in rounds. Units a transfer took from negative stock (no arrival yet)
are dated at the transfer. ``partition="company"`` ages each SKU across all nodes and
ignores inter-node transfers (both legs), as company-wise ageing does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_TRANSFER_ROUNDS = 8


def _prepare(mv: pd.DataFrame, as_of: pd.Timestamp, partition: str) -> pd.DataFrame:
    mv = mv.loc[mv["moved_at"] <= as_of, ["movement_id", "node_id", "sku", "moved_at",
                                          "movement_type", "qty_delta", "unit_cost",
                                          "transfer_group_id"]]
    if partition == "company":
        is_transfer = mv["movement_type"].isin(["transfer_in", "transfer_out"])
        mv = mv.loc[~is_transfer].assign(node_id="ALL")
    elif partition != "node":
        raise ValueError(f"partition must be 'node' or 'company', got {partition!r}")
    mv = mv.sort_values(["sku", "node_id", "moved_at", "movement_id"], kind="stable")
    return mv.reset_index(drop=True)


def _arrival_pieces(mv: pd.DataFrame) -> pd.DataFrame:
    """Arrivals as pieces with a layer date; transfer-in pieces get dates resolved later."""
    arr = mv.loc[mv["qty_delta"] > 0].copy()
    arr["layer_date"] = arr["moved_at"].dt.floor("D")
    arr["qty"] = arr["qty_delta"]
    arr["inherit"] = arr["movement_type"].eq("transfer_in") & arr["transfer_group_id"].notna()
    return arr[["sku", "node_id", "movement_id", "moved_at", "qty", "unit_cost", "layer_date",
                "inherit", "transfer_group_id"]]


def _with_positions(pieces: pd.DataFrame) -> pd.DataFrame:
    """Add ``pos_end`` (cumulative arrived qty through the piece) per partition, in order."""
    pieces = pieces.sort_values(["sku", "node_id", "moved_at", "movement_id", "sub"],
                                kind="stable").reset_index(drop=True)
    pieces["pos_end"] = pieces.groupby(["sku", "node_id"], sort=False)["qty"].cumsum()
    return pieces


def _consumption_intervals(mv: pd.DataFrame) -> pd.DataFrame:
    """Each outbound row's consumed position interval [before, after) in its partition."""
    out = mv.assign(out_qty=(-mv["qty_delta"]).clip(lower=0))
    out["after"] = out.groupby(["sku", "node_id"], sort=False)["out_qty"].cumsum()
    out["before"] = out["after"] - out["out_qty"]
    return out.loc[out["out_qty"] > 0]


def _inherit_dates(pieces: pd.DataFrame, outs: pd.DataFrame) -> pd.DataFrame:
    """Replace each transfer-in piece by sub-pieces carrying the source's consumed dates."""
    legs = outs.loc[outs["movement_type"].eq("transfer_out") & outs["transfer_group_id"].notna(),
                    ["sku", "node_id", "moved_at", "transfer_group_id", "before", "after"]]
    for _ in range(MAX_TRANSFER_ROUNDS):
        todo = pieces["inherit"]
        if not todo.any():
            break
        pieces = _with_positions(pieces)
        pieces["pos_start"] = pieces["pos_end"] - pieces["qty"]
        src = pieces.loc[~pieces["inherit"]]
        # intersect each transfer_out interval with the source's resolved arrival pieces
        cand = legs.merge(src[["sku", "node_id", "pos_start", "pos_end", "layer_date",
                               "moved_at"]].rename(columns={"moved_at": "arr_at"}),
                          on=["sku", "node_id"])
        lo = np.maximum(cand["before"], cand["pos_start"])
        hi = np.minimum(cand["after"], cand["pos_end"])
        cand = cand.assign(piece=hi - lo).loc[(hi > lo) & (cand["arr_at"] <= cand["moved_at"])]
        # chains: a leg whose consumed range touches unresolved pieces waits for a later round
        unresolved = pieces.loc[pieces["inherit"], ["sku", "node_id", "pos_start", "pos_end"]]
        blocked = legs.merge(unresolved, on=["sku", "node_id"])
        blocked = blocked.loc[np.maximum(blocked["before"], blocked["pos_start"])
                              < np.minimum(blocked["after"], blocked["pos_end"]),
                              "transfer_group_id"].unique()
        ready = pieces["inherit"] & ~pieces["transfer_group_id"].isin(blocked)
        if not ready.any():
            ready = pieces["inherit"]  # a cycle cannot happen in time order; be safe
        sub = cand.loc[~cand["transfer_group_id"].isin(blocked),
                       ["transfer_group_id", "layer_date", "piece", "before", "pos_start"]]
        sub = sub.sort_values(["transfer_group_id", "pos_start"])
        tin = pieces.loc[ready]
        new = tin.drop(columns=["layer_date", "qty"]).merge(
            sub.rename(columns={"piece": "qty"}), on="transfer_group_id", how="left")
        # units taken from negative stock have no arrival: date them at the transfer
        covered = new.groupby("movement_id")["qty"].transform("sum").fillna(0)
        short = tin.assign(qty=tin["qty"] - tin["movement_id"].map(
            new.groupby("movement_id")["qty"].sum()).fillna(0))
        short = short.loc[short["qty"] > 1e-9].assign(layer_date=short["moved_at"].dt.floor("D"))
        new = new.loc[new["qty"].notna() & (covered > 0)]
        new["sub"] = new.groupby("movement_id").cumcount()
        pieces = pd.concat([pieces.loc[~ready], new.assign(inherit=False),
                            short.assign(inherit=False, sub=10**6)], ignore_index=True)
        pieces = pieces[["sku", "node_id", "movement_id", "moved_at", "qty", "unit_cost",
                         "layer_date", "inherit", "transfer_group_id", "sub"]]
    return pieces


def fifo_layers(mv: pd.DataFrame, as_of: pd.Timestamp, partition: str = "node") -> pd.DataFrame:
    """Layers on hand at ``as_of``: sku, node_id, layer_date (UTC day), qty, unit_cost.

    Partitions whose balance is ≤ 0 have no layers (their age is undefined).
    """
    mv = _prepare(mv, as_of, partition)
    pieces = _arrival_pieces(mv).assign(sub=0)
    outs = _consumption_intervals(mv)
    if pieces["inherit"].any():
        pieces = _inherit_dates(pieces, outs)
    pieces = _with_positions(pieces)
    total_out = outs.groupby(["sku", "node_id"])["out_qty"].sum().rename("total_out")
    pieces = pieces.merge(total_out, left_on=["sku", "node_id"], right_index=True, how="left")
    pieces["total_out"] = pieces["total_out"].fillna(0.0)
    remaining = (pieces["pos_end"] - pieces["total_out"]).clip(lower=0)
    pieces["qty"] = np.minimum(pieces["qty"], remaining)
    layers = pieces.loc[pieces["qty"] > 1e-9,
                        ["sku", "node_id", "layer_date", "qty", "unit_cost", "movement_id"]]
    return layers.reset_index(drop=True)


def age_layers(layers: pd.DataFrame, as_of: pd.Timestamp, bounds=(30, 60, 90)) -> pd.DataFrame:
    """Add ``age_days`` (whole days from layer date to the as-of day), ``value`` (qty × layer
    cost) and ``age_bucket`` with inclusive upper bounds: 0-30, 31-60, 61-90, 91+."""
    bounds = tuple(int(b) for b in bounds)
    if list(bounds) != sorted(set(bounds)) or not bounds or bounds[0] < 0:
        raise ValueError(f"aging_buckets must be increasing non-negative days, got {bounds}")
    day = as_of.tz_convert("UTC").floor("D")
    age = (day - layers["layer_date"]).dt.days
    edges = [-1, *bounds, np.inf]
    labels = [f"{lo + 1}-{hi}" for lo, hi in zip([-1, *bounds[:-1]], bounds, strict=True)]
    labels[0] = f"0-{bounds[0]}"
    labels.append(f"{bounds[-1] + 1}+")
    bucket = pd.cut(age, bins=edges, labels=labels, right=True)
    return layers.assign(age_days=age, value=layers["qty"] * layers["unit_cost"],
                         age_bucket=bucket.astype(str))


def fifo_layers_at(mv: pd.DataFrame, times, partition: str = "node") -> pd.DataFrame:
    """Layers on hand at each of several times (column ``t``), in one pass over the ledger.

    Same result as ``fifo_layers(mv, t)`` for every ``t``: arrival positions and inherited
    transfer dates depend only on what happened before each arrival, so they are resolved
    once; each time then needs only its outbound total per partition and one clip.
    """
    times = sorted(pd.Timestamp(t) for t in times)
    cols = ["sku", "node_id", "layer_date", "qty", "unit_cost", "movement_id", "t"]
    if not times:
        return pd.DataFrame(columns=cols)
    mv = _prepare(mv, times[-1], partition)
    pieces = _arrival_pieces(mv).assign(sub=0)
    outs = _consumption_intervals(mv)
    if pieces["inherit"].any():
        pieces = _inherit_dates(pieces, outs)
    pieces = _with_positions(pieces)
    groups = pd.MultiIndex.from_frame(pieces[["sku", "node_id"]]).append(
        pd.MultiIndex.from_frame(outs[["sku", "node_id"]]))
    codes = pd.factorize(groups)[0].astype(np.int64)
    g_piece, g_out = codes[:len(pieces)], codes[len(pieces):]
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    def naive(ts: pd.Series) -> np.ndarray:
        return ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")

    piece_at, out_at = naive(pieces["moved_at"]), naive(outs["moved_at"])
    out_qty = outs["out_qty"].to_numpy(dtype=float)
    pos_end, qty = pieces["pos_end"].to_numpy(float), pieces["qty"].to_numpy(float)
    parts = []
    for t in times:
        t64 = np.datetime64(t.tz_convert("UTC").tz_localize(None), "ns")
        done = out_at <= t64
        total_out = np.bincount(g_out[done], weights=out_qty[done], minlength=n_groups)
        arrived = piece_at <= t64
        left = np.minimum(qty, np.clip(pos_end - total_out[g_piece], 0, None))
        keep = arrived & (left > 1e-9)
        part = pieces.loc[keep, ["sku", "node_id", "layer_date", "unit_cost", "movement_id"]]
        parts.append(part.assign(qty=left[keep], t=t))
    return pd.concat(parts, ignore_index=True)[cols]
