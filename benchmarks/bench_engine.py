"""Benchmark: kpilib end to end against hand-written DuckDB SQL, six order KPIs weekly by channel.

For each dataset size it runs, back to back and alternating (kpilib, DuckDB, kpilib, ...),

- **kpilib**: ``kpilib.load_dataset`` (read + validate the contract) then ``kpilib.compute`` of
  order_cycle_time_hours, order_release_time_hours, cancellation_rate_pre_ship,
  split_shipment_rate, on_time_shipment_rate and line_fill_rate, ``by=["channel"],
  freq="W"``;
- **DuckDB**: the same six KPIs as SQL over the same parquet files
  (``benchmarks/reference_sql.py``; no contract checks),

each run in a fresh subprocess so that its peak RSS (``ru_maxrss``) is its own. It prints the
median wall time of the runs (and the load / compute split of kpilib), the median peak RSS,
the ratios kpilib / DuckDB and the machine's load average before and after. The two results
are compared cell by cell (numerator, denominator, n, p50, p90 of every non-empty week x
channel): the benchmark stops with an error unless they agree to 1e-9 relative, and prints the
largest difference.

Goals (issue 15, 2-core machine): kpilib end to end at most 1.5x DuckDB's time and memory at
1M orders; load + validate of 1M orders under 10 s.

Data: ``kpilib.synth.generate("omnichannel", seed, days=365, scale)`` (scale 1 is about 54,000
orders; 2 about 108k, 20 about 1.09M), generated once into ``--cache``. ``--tile N`` adds a
dataset made of the smallest scale tiled N times with new ids (``--tile 92`` on scale 2 is
about 10M orders), written by DuckDB without holding it in memory; on it only DuckDB runs
unless ``--tile-kpilib`` is given (kpilib would need far more than 24 GB today).

Usage::

    nice .venv/bin/python benchmarks/bench_engine.py                 # scales 2 and 20, 3 runs
    nice .venv/bin/python benchmarks/bench_engine.py --sizes 2 --runs 5
    nice .venv/bin/python benchmarks/bench_engine.py --sizes 2 --tile 92 --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

KPIS = ["order_cycle_time_hours", "order_release_time_hours", "cancellation_rate_pre_ship",
        "split_shipment_rate", "on_time_shipment_rate", "line_fill_rate"]
KEYS = ["kpi", "period", "channel"]
STATS = ["numerator", "denominator", "n", "p50", "p90"]
TOLERANCE = 1e-9
HERE = Path(__file__).resolve().parent


def _load_avg() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def ensure_generated(cache: Path, scale: float, seed: int) -> Path:
    """Generate (once) the omnichannel dataset of ``scale`` as parquet; return its folder."""
    out = cache / f"omnichannel_s{scale:g}_seed{seed}"
    if (out / "truth.json").exists():
        return out
    from kpilib.synth import generate

    t0 = time.perf_counter()
    generate("omnichannel", seed=seed, days=365, scale=scale, out=out, fmt="parquet")
    print(f"generated scale {scale:g} in {time.perf_counter() - t0:.0f} s -> {out}", flush=True)
    return out


def ensure_tiled(cache: Path, source: Path, times: int) -> Path:
    """``source`` tiled ``times`` times (ids suffixed ``~k``, as ``bench_kpis.py`` does),
    written table by table by DuckDB (streamed, not held in memory)."""
    import duckdb

    sys.path.insert(0, str(HERE))
    from bench_kpis import ID_COLUMNS, REPLICATED, SCALED

    out = cache / f"{source.name}_x{times}"
    if (out / "DONE").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    for file in sorted(source.glob("*.parquet")):
        table = file.stem
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM '{file}'").fetchall()]
        if table in REPLICATED:
            expr = ", ".join(
                f"CASE WHEN k = 0 THEN {c} ELSE {c} || '~' || k END AS {c}"
                if c in ID_COLUMNS else c for c in cols)
            sql = f"SELECT {expr} FROM range({times}) t(k), '{file}' ORDER BY k"
        elif table in SCALED:
            expr = ", ".join(f"{c} * {times} AS {c}" if c == SCALED[table] else c for c in cols)
            sql = f"SELECT {expr} FROM '{file}'"
        else:
            sql = f"SELECT * FROM '{file}'"
        con.execute(f"COPY ({sql}) TO '{out / file.name}' (FORMAT parquet)")
    (out / "DONE").write_text("ok\n")
    print(f"tiled {source.name} x{times} in {time.perf_counter() - t0:.0f} s -> {out}",
          flush=True)
    return out


# --- one measured run, in its own process --------------------------------------------------


def _run_kpilib(path: str, out: str) -> dict:
    import kpilib

    t0 = time.perf_counter()
    ds = kpilib.load_dataset(path)
    t1 = time.perf_counter()
    res = kpilib.compute(ds, KPIS, by=["channel"], freq="W")
    t2 = time.perf_counter()
    res = res.loc[res["n"] > 0, [*KEYS, *STATS]].copy()
    res["period"] = res["period"].dt.tz_convert("UTC")
    res.to_parquet(out)
    return {"orders": len(ds.orders), "load_s": t1 - t0, "compute_s": t2 - t1,
            "total_s": t2 - t0}


def _run_duckdb(path: str, out: str) -> dict:
    sys.path.insert(0, str(HERE))
    import reference_sql

    t0 = time.perf_counter()
    res = reference_sql.run(path)
    total = time.perf_counter() - t0
    res.to_parquet(out)
    return {"total_s": total}


def _child(side: str, path: str, out: str) -> None:
    figures = (_run_kpilib if side == "kpilib" else _run_duckdb)(path, out)
    figures["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print("RESULT " + json.dumps(figures), flush=True)


def _spawn(side: str, path: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", side, str(path), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"{side} run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


# --- comparison and report -------------------------------------------------------------------


def compare(kp: pd.DataFrame, ref: pd.DataFrame) -> float:
    """Largest relative difference between the two results; raises if the cells differ."""
    m = kp.merge(ref, on=KEYS, how="outer", suffixes=("", "_ref"), indicator=True)
    alone = m[m["_merge"] != "both"]
    if len(alone):
        raise SystemExit(f"results differ: {len(alone)} cell(s) on one side only:\n"
                         f"{alone[KEYS + ['_merge']].head(10)}")
    worst = 0.0
    for c in STATS:
        a, b = m[c].astype(float).to_numpy(), m[f"{c}_ref"].astype(float).to_numpy()
        if (np.isnan(a) != np.isnan(b)).any():
            raise SystemExit(f"results differ: {c} is null on one side only")
        ok = ~np.isnan(a)
        rel = np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1.0)
        worst = max(worst, float(rel.max(initial=0.0)))
    if worst > TOLERANCE:
        raise SystemExit(f"results differ: largest relative difference {worst:.3g}")
    return worst


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def bench(label: str, path: Path, runs: int, with_kpilib: bool) -> None:
    print(f"\n{label}: {path}  (load average before: {_load_avg()})", flush=True)
    kp_runs: list[dict] = []
    db_runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        kp_out, db_out = Path(tmp) / "kpilib.parquet", Path(tmp) / "duckdb.parquet"
        for i in range(runs):
            if with_kpilib:
                kp_runs.append(_spawn("kpilib", path, kp_out))
            db_runs.append(_spawn("duckdb", path, db_out))
            print(f"  run {i + 1}/{runs} done", flush=True)
        if with_kpilib:
            worst = compare(pd.read_parquet(kp_out), pd.read_parquet(db_out))
    db_t, db_m = _median(db_runs, "total_s"), _median(db_runs, "peak_rss_gb")
    print(f"  DuckDB SQL  total {db_t:7.1f} s   peak RSS {db_m:6.2f} GB")
    if not with_kpilib:
        print(f"  (kpilib not run on this size; load average after: {_load_avg()})")
        return
    kp_t, kp_m = _median(kp_runs, "total_s"), _median(kp_runs, "peak_rss_gb")
    print(f"  kpilib      total {kp_t:7.1f} s   peak RSS {kp_m:6.2f} GB   "
          f"(load+validate {_median(kp_runs, 'load_s'):.1f} s, compute "
          f"{_median(kp_runs, 'compute_s'):.1f} s; {kp_runs[0]['orders']:,} orders)")
    print(f"  ratio kpilib/DuckDB: time {kp_t / db_t:.1f}x, memory {kp_m / db_m:.1f}x "
          f"(goal <= 1.5x at 1M); values agree, largest relative difference {worst:.2g}")
    print(f"  medians of {runs} run(s); load average after: {_load_avg()}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--sizes", nargs="+", type=float, default=[2.0, 20.0], metavar="SCALE",
                    help="generator scales to run (default 2 20: about 108k and 1.09M orders)")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs per side and size; medians are printed (default 3)")
    ap.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kpilib-bench"),
                    help="folder for generated datasets, outside the repository "
                         "(default /tmp/kpilib-bench; 1M orders take about 0.5 GB)")
    ap.add_argument("--tile", type=int, default=0, metavar="N",
                    help="also run on the smallest scale tiled N times (92 x scale 2 = 10M)")
    ap.add_argument("--tile-kpilib", action="store_true",
                    help="run kpilib on the tiled dataset too (needs far more memory)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    print(f"kpilib vs hand-written DuckDB SQL, {len(KPIS)} KPIs weekly by channel; "
          f"{os.cpu_count()} cores; load average {_load_avg()}")
    folders = [ensure_generated(args.cache, s, args.seed) for s in args.sizes]
    for scale, folder in zip(args.sizes, folders, strict=True):
        bench(f"scale {scale:g}", folder, args.runs, with_kpilib=True)
    if args.tile:
        tiled = ensure_tiled(args.cache, folders[0], args.tile)
        bench(f"scale {args.sizes[0]:g} tiled x{args.tile}", tiled, args.runs,
              with_kpilib=args.tile_kpilib)


if __name__ == "__main__":
    main()
