"""Replay a dataset's history as extract batches (for tests, benchmarks and demos).

Batch ``k`` holds what changed between the point-in-time views (:func:`kpilib.asof.restrict`)
at ``times[k-1]`` and ``times[k]``: new and changed rows of keyed tables (compared by a hash
of the whole row), ``_deleted`` rows for keys that vanished, and the whole table for key-less
tables that changed. The first batch is the view at ``times[0]`` as a snapshot; the last
batch brings the full dataset, so applying every batch in order gives back ``ds`` itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from kpilib import schema
from kpilib.asof import restrict
from kpilib.store.batch import DELETED, SNAPSHOT_MARKER


def _row_hash(frame: pd.DataFrame) -> pd.Series:
    return pd.util.hash_pandas_object(frame, index=False)


def diff(old: dict[str, pd.DataFrame], new: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per table, the rows turning ``old`` into ``new`` (see module docstring)."""
    out = {}
    for name, frame in new.items():
        keys = list(schema.TABLES[name].primary_key)
        prev = old.get(name)
        if prev is None:
            out[name] = frame.assign(**{DELETED: False})
            continue
        if not keys:
            if not frame.reset_index(drop=True).equals(prev.reset_index(drop=True)):
                out[name] = frame
            continue
        pk = pd.MultiIndex.from_frame(prev[keys].astype(object))
        nk = pd.MultiIndex.from_frame(frame[keys].astype(object))
        ph = pd.Series(_row_hash(prev).to_numpy(), index=pk)
        nh = _row_hash(frame).to_numpy()
        at = pk.get_indexer(nk)
        old_h = ph.to_numpy()[np.maximum(at, 0)] if len(ph) else np.zeros(len(at), np.uint64)
        changed = (at < 0) | (old_h != nh)
        gone = prev[~pk.isin(nk)]
        parts = [frame[changed].assign(**{DELETED: False})]
        if len(gone):
            parts.append(gone[keys].assign(**{DELETED: True}))
        rows = pd.concat(parts, ignore_index=True)
        if len(rows):
            out[name] = rows
    return out


def batches(ds, times: list[pd.Timestamp]) -> Iterator[tuple[str, dict[str, pd.DataFrame], bool]]:
    """``(batch_id, tables, is_snapshot)`` for each step (see module docstring)."""
    prev: dict[str, pd.DataFrame] | None = None
    views = [restrict(ds, pd.Timestamp(t)).tables for t in times] + [ds.tables]
    for i, view in enumerate(views):
        stamp = pd.Timestamp(times[min(i, len(times) - 1)])
        bid = f"b{i:04d}-{stamp:%Y%m%dT%H%M}" + ("-final" if i == len(times) else "")
        if prev is None:
            yield bid, view, True
        else:
            yield bid, diff(prev, view), False
        prev = view


def write_batch(folder: Path, tables: dict[str, pd.DataFrame], snapshot: bool) -> Path:
    """Write a batch folder (``<table>.parquet`` files, ``SNAPSHOT`` marker if a snapshot)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    if snapshot:
        (folder / SNAPSHOT_MARKER).write_text("full snapshot\n", encoding="utf-8")
    return folder
