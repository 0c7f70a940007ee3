"""Benchmark (a script, not a test): time the default sample generation and a validated load.

Usage: .venv/bin/python benchmarks/bench_generate.py [--scenario omnichannel] [--scale 1.0]
       [--days 365] [--out data/bench_sample]
Prints generation time, rows per table, peak memory (RSS) and, when kpilib.dataset exists,
the time of ``load_dataset`` (full contract validation) on the written folder.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="omnichannel")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="data/bench_sample")
    args = ap.parse_args()

    from kpilib.synth import generate

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    t0, c0 = time.perf_counter(), time.process_time()
    tables, _ = generate(args.scenario, seed=args.seed, days=args.days, scale=args.scale)
    t_gen, c_gen = time.perf_counter() - t0, time.process_time() - c0
    from kpilib.synth.writer import write_tables

    t1 = time.perf_counter()
    write_tables(tables, _, out)
    t_write = time.perf_counter() - t1
    print(f"scenario={args.scenario} scale={args.scale} days={args.days} seed={args.seed}")
    print(f"generate (in memory): {t_gen:6.1f} s wall, {c_gen:.1f} s CPU")
    print(f"write parquet:        {t_write:6.1f} s  -> {out}")
    for name, df in tables.items():
        print(f"  {name:<32}{len(df):>10,}")
    print(f"  {'total rows':<32}{sum(len(d) for d in tables.values()):>10,}")
    try:
        from kpilib.loading import load_dataset
    except ImportError:
        print("kpilib.loading.load_dataset not available: validated load skipped")
    else:
        t2, c2 = time.perf_counter(), time.process_time()
        load_dataset(out)
        print(f"load_dataset (validated): {time.perf_counter() - t2:6.1f} s wall, "
              f"{time.process_time() - c2:.1f} s CPU")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
