"""Small seeded datasets and batch folders for the store, refresh and watch tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import kpilib
from kpilib.store.replay import batches, write_batch
from kpilib.synth import generate

SCALE, DAYS, START = 0.05, 14, "2024-03-04"


def scenario_dataset(scenario: str, seed: int = 3, days: int = DAYS):
    """A short, small seeded scenario as a Dataset."""
    frames, _ = generate(scenario=scenario, seed=seed, start=START, days=days, scale=SCALE)
    return kpilib.Dataset.from_frames(**frames)


def short_snapshot(root: Path):
    """``(root, ds)``: a 14-day omnichannel run written as snapshot batch ``root/full``."""
    ds = scenario_dataset("omnichannel", days=14)
    write_batch(root / "full", ds.tables, snapshot=True)
    return root, ds


def daily_batches(ds, folder: Path, first_day: int = 10) -> list[Path]:
    """Batch folders: the view at day ``first_day`` as a snapshot, then one batch per day,
    then the final batch with the rest (see ``kpilib.store.replay``)."""
    start = pd.Timestamp(START, tz="UTC")
    times = [start + pd.Timedelta(days=d) for d in range(first_day, DAYS + 1)]
    return [write_batch(folder / bid, tables, snap) for bid, tables, snap in batches(ds, times)]
