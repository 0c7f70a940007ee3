"""Prove that a refactoring changes no KPI value: snapshot every KPI x cut x freq, then compare.

    python tools/kpi_parity.py snapshot DIR     # with the old code first on PYTHONPATH
    python tools/kpi_parity.py snapshot DIR2    # with the new code
    python tools/kpi_parity.py compare DIR DIR2

``snapshot`` generates the three synthetic scenarios (small, seeded), computes every
registered KPI with no cut and with each standard dimension the KPI supports (``--cuts``
narrows them; ``--domains order fulfillment`` the KPIs), for ``freq=None`` and ``freq="W"``
(``--freqs none W M`` chooses), and writes
one parquet file per (scenario, cut, freq). ``--data FOLDER`` adds a dataset folder (loaded
with ``kpilib.load_dataset``) to the scenarios; ``--facts`` also writes every registered
fact table of each dataset (``kpilib.facts``, pickled). ``compare`` checks each pair of files
with ``assert_frame_equal(check_exact=True)`` after ordering KPI rows by KPI id (the order
of rows within a KPI is kept as computed; fact rows keep their order), and prints one line
per file plus a total; it exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

SCENARIOS = ("omnichannel", "beauty_stockouts", "apparel_surge")


def _name(scenario: str, cut: str | None, freq: str | None) -> str:
    return f"{scenario}__{cut or 'none'}__{freq or 'none'}.parquet"


def _datasets(seed: int, days: int, scale: float, folders: list[Path]):
    """(name, dataset) of the three scenarios, then of each folder."""
    import kpilib
    from kpilib.synth import generate

    for scenario in SCENARIOS:
        frames, _truth = generate(scenario, seed=seed, days=days, scale=scale)
        yield scenario, kpilib.Dataset.from_frames(**frames)
    for folder in folders:
        yield folder.name, kpilib.load_dataset(folder)


def _snapshot_facts(ds, scenario: str, out: Path) -> None:
    import kpilib
    from kpilib.errors import ParameterError

    for name in kpilib.list_facts()["name"]:
        try:
            frame = kpilib.facts(ds, name)
        except ParameterError as err:  # a table the fact needs is absent
            print(f"{scenario:17} fact {name}: skipped ({err})")
            continue
        frame.to_pickle(out / f"{scenario}__fact__{name}.pkl")


def snapshot(out: Path, seed: int, days: int, scale: float, *, folders: list[Path],
             cuts: list[str] | None, freqs: list[str | None], facts: bool,
             domains: list[str] | None = None) -> None:
    """Write the results of every KPI x cut x freq on each dataset under ``out``."""
    import kpilib
    from kpilib import registry

    out.mkdir(parents=True, exist_ok=True)
    kpis = kpilib.list_kpis()
    if domains:
        kpis = kpis[kpis["domain"].isin(domains)]
    chosen: list[str | None] = [None, *(registry.STANDARD_DIMS if cuts is None else cuts)]
    for scenario, ds in _datasets(seed, days, scale, folders):
        if facts:
            _snapshot_facts(ds, scenario, out)
        for cut in chosen:
            ids = [k for k, dims in zip(kpis["id"], kpis["dims"], strict=True)
                   if cut is None or cut in dims]
            for freq in freqs:
                t0 = time.perf_counter()
                res = kpilib.compute(ds, ids, by=[cut] if cut else None, freq=freq)
                res.to_parquet(out / _name(scenario, cut, freq))
                print(f"{scenario:17} {cut or '-':18} {freq or '-':2} {len(ids):3} KPIs "
                      f"{len(res):6} rows {time.perf_counter() - t0:6.1f}s", flush=True)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("kpi", kind="stable").reset_index(drop=True)


def compare(old: Path, new: Path) -> int:
    """Compare every parquet file of ``old`` with its namesake in ``new``; 0 when all equal."""
    files = sorted(p.name for p in (*old.glob("*.parquet"), *old.glob("*.pkl")))
    missing = sorted({p.name for p in (*new.glob("*.parquet"), *new.glob("*.pkl"))}
                     ^ set(files))
    failures = 0
    rows = 0
    for name in files:
        if name in missing:
            continue
        if name.endswith(".pkl"):
            a, b = pd.read_pickle(old / name), pd.read_pickle(new / name)
        else:
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
    snap.add_argument("--data", type=Path, nargs="*", default=[], metavar="FOLDER",
                      help="dataset folders to snapshot after the scenarios")
    snap.add_argument("--cuts", nargs="*", default=None, metavar="DIM",
                      help="dimensions to cut by besides no cut (default: every standard one)")
    snap.add_argument("--freqs", nargs="+", default=["none", "W"], metavar="FREQ",
                      help="periods: none, W, M... (default: none W)")
    snap.add_argument("--facts", action="store_true", help="also write every fact table")
    snap.add_argument("--domains", nargs="*", default=None, metavar="DOMAIN",
                      help="only the KPIs of these domains (order, fulfillment, ...)")
    cmp_ = sub.add_parser("compare", help="compare two snapshot folders exactly")
    cmp_.add_argument("old", type=Path)
    cmp_.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "snapshot":
        freqs = [None if f.lower() == "none" else f for f in args.freqs]
        snapshot(args.dir, args.seed, args.days, args.scale, folders=args.data,
                 cuts=args.cuts, freqs=freqs, facts=args.facts, domains=args.domains)
        return 0
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
