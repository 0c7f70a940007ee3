"""Prove that a refactoring changes no KPI value: snapshot every KPI x cut x freq, then compare.

    python tools/kpi_parity.py snapshot DIR     # with the old code first on PYTHONPATH
    python tools/kpi_parity.py snapshot DIR2    # with the new code
    python tools/kpi_parity.py compare DIR DIR2

``snapshot`` generates the three synthetic scenarios (small, seeded), computes every
registered KPI with no cut and with each standard dimension the KPI supports, for
``freq=None`` and ``freq="W"``, and writes one parquet file per (scenario, cut, freq).
``compare`` checks each pair of files with ``assert_frame_equal(check_exact=True)`` after
ordering rows by KPI id (the order of rows within a KPI is kept as computed), and prints one
line per file plus a total; it exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

SCENARIOS = ("omnichannel", "beauty_stockouts", "apparel_surge")
FREQS = (None, "W")


def _name(scenario: str, cut: str | None, freq: str | None) -> str:
    return f"{scenario}__{cut or 'none'}__{freq or 'none'}.parquet"


def snapshot(out: Path, seed: int, days: int, scale: float) -> None:
    """Write the results of every KPI x cut x freq on each scenario under ``out``."""
    import kpilib
    from kpilib import registry
    from kpilib.synth import generate

    out.mkdir(parents=True, exist_ok=True)
    kpis = kpilib.list_kpis()
    cuts: list[str | None] = [None, *registry.STANDARD_DIMS]
    for scenario in SCENARIOS:
        frames, _truth = generate(scenario, seed=seed, days=days, scale=scale)
        ds = kpilib.Dataset.from_frames(**frames)
        for cut in cuts:
            ids = [k for k, dims in zip(kpis["id"], kpis["dims"], strict=True)
                   if cut is None or cut in dims]
            for freq in FREQS:
                t0 = time.perf_counter()
                res = kpilib.compute(ds, ids, by=[cut] if cut else None, freq=freq)
                res.to_parquet(out / _name(scenario, cut, freq))
                print(f"{scenario:17} {cut or '-':18} {freq or '-':2} {len(ids):3} KPIs "
                      f"{len(res):6} rows {time.perf_counter() - t0:6.1f}s", flush=True)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("kpi", kind="stable").reset_index(drop=True)


def compare(old: Path, new: Path) -> int:
    """Compare every parquet file of ``old`` with its namesake in ``new``; 0 when all equal."""
    files = sorted(p.name for p in old.glob("*.parquet"))
    missing = sorted({p.name for p in new.glob("*.parquet")} ^ set(files))
    failures = 0
    rows = 0
    for name in files:
        if name in missing:
            continue
        a, b = _ordered(pd.read_parquet(old / name)), _ordered(pd.read_parquet(new / name))
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        except AssertionError as err:
            failures += 1
            print(f"DIFFERENT {name}: {str(err).splitlines()[0:4]}")
        else:
            rows += len(a)
    for name in missing:
        print(f"MISSING in one side: {name}")
    print(f"{len(files) - failures - len(missing)} of {len(files)} files identical "
          f"({rows} result rows, {kpis_in(old)} KPIs); {failures} different, "
          f"{len(missing)} missing")
    return 1 if failures or missing else 0


def kpis_in(folder: Path) -> int:
    """Number of distinct KPI ids in the files of ``folder``."""
    ids: set[str] = set()
    for p in folder.glob("*.parquet"):
        ids |= set(pd.read_parquet(p, columns=["kpi"])["kpi"])
    return len(ids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    snap = sub.add_parser("snapshot", help="compute every KPI x cut x freq into DIR")
    snap.add_argument("dir", type=Path)
    snap.add_argument("--seed", type=int, default=1)
    snap.add_argument("--days", type=int, default=90)
    snap.add_argument("--scale", type=float, default=0.05)
    cmp_ = sub.add_parser("compare", help="compare two snapshot folders exactly")
    cmp_.add_argument("old", type=Path)
    cmp_.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "snapshot":
        snapshot(args.dir, args.seed, args.days, args.scale)
        return 0
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
