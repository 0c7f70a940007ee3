"""The generator's stages in order, wired together; ``generate`` is the public entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from kpilib.schema import TABLES
from kpilib.synth import (
    allocation,
    catalog,
    costs,
    events,
    finalize,
    forecasts,
    frames,
    frames_inv,
    inventory,
    orders,
    returns,
    transfers,
    transport,
    warehouse,
    writer,
)
from kpilib.synth.params import get_scenario
from kpilib.synth.state import SimState, ids, to_ts

STAGES = ("catalog", "demand", "allocation", "warehouse", "transport", "returns", "inventory",
          "forecasts", "events", "tables")


def generate(scenario: str = "omnichannel", seed: int = 0, start: str = "2024-01-01",
             days: int = 365, scale: float = 1.0, out: str | Path | None = None,
             fmt: str = "parquet", progress: Callable[[str], None] | None = None,
             ) -> tuple[dict[str, pd.DataFrame], dict]:
    """Simulate ``days`` days of an ecommerce network and return ``(tables, truth)``.

    Parameters
    ----------
    scenario : one of ``kpilib.synth.SCENARIOS`` (omnichannel, beauty_stockouts, apparel_surge).
    seed : RNG seed; the same arguments give the same tables (and the same file bytes).
    start : first UTC day simulated; ``days`` : horizon (data are "as of" start + days).
    scale : multiplies order volume and catalogue size (1.0 = about 50,000 orders, 500 SKUs).
    out, fmt : when ``out`` is given also write ``<out>/<table>.<fmt>`` and ``truth.json``.
    progress : optional callback called with each stage name as it starts.
    """
    from kpilib.errors import ParameterError

    if days < 14:
        raise ParameterError(f"days must be >= 14, got {days}")
    if not scale > 0:
        raise ParameterError(f"scale must be > 0, got {scale}")
    if fmt not in ("parquet", "csv"):
        raise ParameterError(f"unknown format {fmt!r}; use 'parquet' or 'csv'")
    step = progress or (lambda _name: None)
    st = SimState(get_scenario(scenario), int(seed), pd.Timestamp(start, tz="UTC").normalize(),
                  int(days), float(scale))
    st.truth.update({"scenario": scenario, "seed": int(seed), "start": str(st.start.date()),
                     "days": int(days), "scale": float(scale),
                     "data_as_of": str(st.start + pd.Timedelta(days=int(days))),
                     "snapshot_day_boundary": "UTC midnight: snapshot_date d = all movements "
                                              "with moved_at < d + 1 day"})
    step("catalog")
    cat = catalog.build_catalog(st)
    step("demand")
    ob = orders.build_orders(st, cat)
    step("allocation")
    al = allocation.run_allocation(st, cat, ob)
    TF = transfers.append_transfer_orders(st, ob, al["transfers"])
    step("warehouse")
    F = warehouse.fills_and_release(st, ob, al, TF)
    P = warehouse.waves_and_picks(st, cat, F)
    P["sku"] = ob["L"]["sku"][P["line"]]
    P["fill_t"] = F["t_fill"][P["fill"]]
    SH = warehouse.parcels(st, F, P)
    step("transport")
    SH = transport.ship_out(st, ob, F, SH)
    step("returns")
    forced = returns.replacement_causes(st, ob, SH, P)
    _pick_error_times(st, P, SH)
    R = returns.build_returns(st, cat, ob, SH, forced)
    finalize.line_outcomes(st, ob, al, F, SH)
    step("inventory")
    M = inventory.base_movements(st, cat, ob, al, P, SH, R)
    C, M = inventory.count_program(st, cat, al, P, M)
    snap = inventory.snapshots(st, cat, M, F, P, SH, al["po"])
    step("forecasts")
    Fc = forecasts.build_forecasts(st, cat, ob)
    step("events")
    E = events.build_events(st, ob, al, F, SH, R)
    X = events.build_exceptions(st, ob, al, P, SH, al["po"])
    LB = costs.labor(st, P, SH, al["po"], R)
    CP = costs.capacity(st, cat, snap)
    step("tables")
    tables = _tables(st, cat, ob, al, P, SH, R, M, C, snap, Fc, E, X, LB, CP)
    _truth(st, cat, ob)
    if out is not None:
        writer.write_tables(tables, st.truth, out, fmt)
    return tables, st.truth


def _pick_error_times(st: SimState, P: dict, SH: dict) -> None:
    """Detection time per pick error: pack verify / audit soon after the pick, the customer
    1-5 days after delivery (audit instead when the parcel was never delivered)."""
    rng = st.rng
    n = len(P["line"])
    deliv = SH["delivered"][SH["task_ship"]]
    cust = (P["err_point"] == 2) & P["err"]
    no_dl = cust & np.isnan(deliv)
    P["err_point"][no_dl] = 1
    at = np.select([P["err_point"] == 0, P["err_point"] == 1],
                   [P["picked"] + rng.uniform(0.1, 0.5, n), P["picked"] + rng.uniform(0.5, 4, n)],
                   deliv + rng.uniform(24, 120, n))
    for k, v in P.get("err_at_override", {}).items():
        at[k] = v
    P["err_at"] = np.where(P["err"], at, np.nan)


def _tables(st, cat, ob, al, P, SH, R, M, C, snap, Fc, E, X, LB, CP) -> dict:
    """Build each table and conform it at once, so only one raw frame is alive at a time."""
    out: dict[str, pd.DataFrame] = {}

    def put(name: str, df: pd.DataFrame) -> None:
        out[name] = writer.conform(name, df)

    put("products", catalog.products_frame(st, cat))
    put("nodes", catalog.nodes_frame())
    O_df, L_df = frames.orders_lines(st, ob)
    L_df["sku"] = cat["sku"][L_df["sku"].to_numpy()]
    order_ids = O_df["order_id"].to_numpy()
    line_ids = L_df["order_line_id"].to_numpy()
    put("orders", O_df)
    put("order_lines", L_df)
    del O_df, L_df
    put("order_events", frames.events_frame(st, ob, E, line_ids, order_ids))
    put("exceptions", frames.exceptions_frame(st, X, line_ids, order_ids))
    ships, slines, sid_all = frames.shipments_frames(st, SH, line_ids, order_ids)
    put("shipments", ships)
    put("shipment_lines", slines)
    del ships, slines
    waves, tasks = frames.picks_frames(st, cat, P, SH, sid_all, line_ids)
    tasks["sku"] = cat["sku"][tasks["sku"].to_numpy()]
    put("pick_tasks", tasks)
    put("waves", waves)
    del waves, tasks
    rec, rl = frames_inv.receipts_frame(st, cat, al["po"])
    put("receipts", rec)
    counts, count_ref = frames_inv.counts_frame(st, cat, C)
    put("inventory_counts", counts)
    put("returns", _returns_frame(st, cat, R, line_ids, order_ids))
    ret_ids = ids("RT", len(R["line"]), 8)
    put("inventory_movements",
        frames_inv.movements_frame(st, cat, M, rl, line_ids, count_ref, ret_ids))
    put("inventory_snapshots",
        frames_inv.snapshots_frame(st, cat, inventory.snapshot_frame(st, cat, snap)))
    fc = forecasts.forecast_frame(st, cat, Fc)
    put("forecasts", pd.DataFrame({
        "sku": cat["sku"][fc["sku"]],
        "node_id": np.array(["DC-1", "DC-2", "DS-1"], dtype=object)[fc["node"]],
        "target_period_start": fc["target_period_start"], "period_granularity": "week",
        "forecast_made_at": to_ts(fc["made"].to_numpy(), st.start),
        "qty_forecast": fc["qty"], "forecast_version": fc["version"]}))
    del fc
    labor, cap = frames_inv.labor_capacity_frames(st, LB, CP)
    put("labor_hours", labor)
    put("node_capacity_daily", cap)
    put("fulfillment_costs", costs.fulfillment_costs(st, LB, SH))
    put("replenishment_recommendations", frames_inv.recs_frame(st, cat, al["recs"]))
    return {name: out[name] for name in TABLES}


def _returns_frame(st, cat, R, line_ids, order_ids) -> pd.DataFrame:
    T = st.t_end
    n = len(R["line"])
    rid = ids("RT", n, 8)
    keep = R["requested"] <= T

    def cut(h):
        return np.where(h <= T, h, np.nan)

    dec_at = cut(R["decided"])
    rec_at = cut(R["received"])
    disp_at = cut(R["disp_at"])
    rma_key = R["order"] * 10_000 + np.floor(R["requested"] / 24).astype(np.int64)
    _, rinv = np.unique(rma_key, return_inverse=True)
    df = pd.DataFrame({
        "return_line_id": rid, "rma_id": ids("RMA", rinv.max() + 1 if n else 0, 7)[rinv]
        if n else np.zeros(0, object),
        "order_id": order_ids[R["order"]], "order_line_id": line_ids[R["line"]],
        "sku": cat["sku"][R["sku"]], "qty": R["qty"], "return_reason": R["reason"],
        "rma_requested_at": to_ts(R["requested"], st.start), "rma_decided_at": to_ts(dec_at,
                                                                                    st.start),
        "rma_decision": np.where(np.isnan(dec_at), None, R["decision"]),
        "received_at": to_ts(rec_at, st.start),
        "receiving_node_id": np.where(np.isnan(rec_at), None,
                                      np.array(["DC-1", "DC-2", "DS-1", None],
                                               dtype=object)[R["node"]]),
        "disposition": np.where(np.isnan(disp_at), None, R["disp"]),
        "disposition_at": to_ts(disp_at, st.start),
        "refund_issued_at": to_ts(cut(R["refund"]), st.start)})
    return df[keep]


def _truth(st: SimState, cat: dict, ob: dict) -> None:
    """What the scenario injected, for tests that check KPIs recover it."""
    sc = st.scenario
    promo = ob["cal"]["promo_start"]
    st.truth.update({
        "description": sc.description,
        "parameters": {k: v for k, v in asdict(sc).items() if k not in ("name", "description")},
        "forecast_bias_note": (
            "forecast = multiplier x planned demand x mean-one lognormal noise, weekly per "
            "SKU-node, snapshots 1, 2 and 4 weeks ahead; expected_bias_ratio = sum of lag-1 "
            "forecasts / sum of actual ordered units (test, fraud, duplicate and transfer orders "
            "excluded) - 1 over the weeks inside the horizon; it differs from multiplier - 1 "
            "where unplanned demand (marketplace spikes) or kits shift actual demand"),
        "promotion_start_dates": [str((st.start + pd.Timedelta(days=int(d))).date())
                                  for d in promo],
        "promotion_length_days": 4,
        "n_skus": int(cat["n"]),
        "nodes": {"primary": "DC-1", "secondary": "DC-2", "dropship": "DS-1"},
        "marketplace_batch_interval_hours": sc.marketplace_batch_hours,
        "marketplace_channels": ["marketplace_a", "marketplace_b"],
        "fast_mover_skus": sorted(cat["sku"][cat["fast"]].tolist()),
    })
    if sc.slow_bundles:
        st.truth["slow_bundle_skus"] = sorted(cat["sku"][cat["slow_bundle"]].tolist())
        st.truth["slow_bundle_node"] = "DC-2"
