"""Read an extract batch and merge it into the stored tables (upsert by primary key).

A batch is a folder of ``<table>.parquet`` / ``.csv`` files, like a dataset, holding only the
new and changed rows; each row replaces the stored row with the same primary key (every column,
so a changed row is sent whole). Deletions: a boolean column ``_deleted`` (the marker
``DELETED``) set to true deletes the stored row with that key; its other columns may be empty.
Tables without a primary key (``labor_hours``, ``fulfillment_costs``) cannot be upserted: a
file for one replaces that whole table. A folder holding a file named ``SNAPSHOT`` is a full
snapshot: every table is replaced and tables absent from it are dropped.

The merge keeps the stored row order, replaces changed rows in place and appends new rows in
batch order; the merged tables are then validated as a whole by the caller.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kpilib import schema
from kpilib.contracts.coerce import coerce_table, finish_bools
from kpilib.contracts.io import read_folder
from kpilib.contracts.problems import problem
from kpilib.errors import DataContractError

DELETED = "_deleted"
SNAPSHOT_MARKER = "SNAPSHOT"


def is_snapshot(folder: Path) -> bool:
    """True when ``folder`` is a full snapshot (it holds a file named ``SNAPSHOT``)."""
    return (Path(folder) / SNAPSHOT_MARKER).exists()


def read_batch(folder: Path) -> tuple[dict[str, pd.DataFrame], list[DataContractError]]:
    """Typed batch tables (schema columns, then ``_deleted`` and extras) and read problems."""
    raw, problems = read_folder(folder)
    typed: dict[str, pd.DataFrame] = {}
    for name, frame in raw.items():
        deleted = frame.get(DELETED)
        if deleted is not None:
            flags = deleted.astype(str).str.strip().str.lower()
            ok = flags.isin(["true", "1", "false", "0", "", "nan", "none", "<na>"])
            if not ok.all():
                problems.append(problem(name, DELETED, "wrong_type",
                                        f"{DELETED} must be true or false", frame=frame,
                                        mask=~ok.to_numpy()))
                continue
            frame = frame.drop(columns=[DELETED])
        if deleted is not None and not schema.TABLES[name].primary_key:
            problems.append(problem(name, DELETED, "invalid_argument",
                                    f"{name} has no primary key: send the whole table instead "
                                    f"of {DELETED} rows", n_rows=len(frame)))
            continue
        out, found, _ = coerce_table(name, frame, None)
        problems.extend(found)
        out = finish_bools(name, out)
        out[DELETED] = (flags.isin(["true", "1"]).to_numpy() if deleted is not None
                        else np.zeros(len(out), bool))
        typed[name] = out
    return typed, problems


def _key_index(frame: pd.DataFrame, keys: list[str]) -> pd.Index:
    """The primary key of each row: text keys as objects; date keys keep their dtype (the
    contract types them alike on both sides, and boxing each as an object is slow)."""
    cols = {k: frame[k] if pd.api.types.is_datetime64_any_dtype(frame[k]) else
            frame[k].astype(object) for k in keys}
    if len(keys) == 1:
        return pd.Index(cols[keys[0]], name=keys[0])
    return pd.MultiIndex.from_arrays(list(cols.values()), names=keys)


def upsert(stored: pd.DataFrame | None, batch: pd.DataFrame, table: str) -> pd.DataFrame | None:
    """``stored`` with the batch's rows upserted and its ``_deleted`` rows removed."""
    keys = list(schema.TABLES[table].primary_key)
    rows = batch.drop(columns=[DELETED])
    if not keys:
        return rows.reset_index(drop=True)
    if stored is None:
        return rows[~batch[DELETED].to_numpy()].reset_index(drop=True)
    # last occurrence of a key in the batch wins (a batch may carry a row's history)
    last = ~_key_index(batch, keys).duplicated(keep="last")
    batch, rows = batch[last], rows[last]
    bkey, skey = _key_index(batch, keys), _key_index(stored, keys)
    pos = skey.get_indexer(bkey)
    deleted = batch[DELETED].to_numpy()
    cols = list(dict.fromkeys([*stored.columns, *rows.columns]))
    out = stored.reindex(columns=cols).copy() if cols != list(stored.columns) else stored.copy()
    rows = rows.reindex(columns=cols)
    change = (pos >= 0) & ~deleted
    if change.any():
        at = out.index[pos[change]]
        for c in cols:
            values = rows[c][change]
            values.index = at
            out.loc[at, c] = values
    drop = pos[(pos >= 0) & deleted]
    if len(drop):
        out = out.drop(index=out.index[drop])
    new = rows[(pos < 0) & ~deleted]
    if len(new):
        out = pd.concat([out, new.astype(out.dtypes.to_dict())], ignore_index=True)
    return out.reset_index(drop=True)


def merge(stored: dict[str, pd.DataFrame], batch: dict[str, pd.DataFrame], snapshot: bool
          ) -> dict[str, pd.DataFrame]:
    """The tables after applying ``batch`` (see module docstring)."""
    if snapshot:
        return {n: f.drop(columns=[DELETED]) for n, f in batch.items()}
    out = dict(stored)
    for name, frame in batch.items():
        merged = upsert(stored.get(name), frame, name)
        if merged is not None:
            out[name] = merged
    return out


def touched_tables(batch: dict[str, pd.DataFrame]) -> list[str]:
    """Tables the batch changes (non-empty files)."""
    return sorted(n for n, f in batch.items() if len(f))
