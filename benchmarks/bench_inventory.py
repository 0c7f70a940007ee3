"""Benchmark: inventory, forecast and E3 KPIs weekly by node, and FIFO ageing alone (issue 4).

For each generator scale (1 ≈ 54,000 orders and a year of stock ledger; 20 ≈ 1,000,000
orders) it prints: FIFO ageing of the whole ledger at ``as_of`` (the layers behind C3),
the same at every week end (what ``inventory_age_buckets`` by week does), and every KPI of
domains ``inventory`` and ``forecast`` plus ``replenishment_acceptance_rate`` computed
weekly by node, with wall time, CPU time and peak resident memory. Data are generated once
and cached as parquet under ``--cache`` (shared with bench_kpis.py).

Usage::

    .venv/bin/python benchmarks/bench_inventory.py                 # scales 1 and 20
    .venv/bin/python benchmarks/bench_inventory.py --scales 1      # default sample only
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_kpis import PeakRss, _load_avg, ensure_generated  # noqa: E402

KPIS = ["inventory", "forecast", "replenishment_acceptance_rate"]


def _timed(label: str, fn) -> object:
    with PeakRss() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label:<44} {wall:7.1f} s wall  {cpu:7.1f} s CPU  peak {mem.peak / 1e9:5.2f} GB",
          flush=True)
    return out


def run(path: Path) -> None:
    import kpilib
    from kpilib.engine import make_context
    from kpilib.fact_tables.fifo import fifo_layers, fifo_layers_at

    ds = _timed("load (validated)", lambda: kpilib.load_dataset(path))
    mv = ds.inventory_movements
    print(f"  {len(ds.orders):,} orders, {len(mv):,} ledger rows, "
          f"{len(ds.inventory_snapshots):,} snapshot rows, load average {_load_avg():.1f}")
    layers = _timed("FIFO layers at as_of (one year of ledger)",
                    lambda: fifo_layers(mv, ds.data_as_of))
    print(f"    -> {len(layers):,} layers on hand")
    points = make_context(ds, freq="W").snapshot_points()
    _timed(f"FIFO layers at {len(points)} week ends (one pass)",
           lambda: fifo_layers_at(mv, points["t"]))
    res = _timed("inventory + forecast + E3 KPIs, weekly by node",
                 lambda: kpilib.compute(ds, KPIS, by=["node"], freq="W"))
    print(f"    -> {res['kpi'].nunique()} KPIs, {len(res):,} rows; statuses "
          f"{res['status'].value_counts().to_dict()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", nargs="+", type=float, default=[1.0, 20.0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cache", type=Path, default=Path("data/bench"))
    args = ap.parse_args()
    for scale in args.scales:
        path = ensure_generated(args.cache, scale, args.seed)
        print(f"scale {scale:g} ({path}):", flush=True)
        run(path)


if __name__ == "__main__":
    main()
