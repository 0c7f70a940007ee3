"""Integer surrogate keys for order, line and shipment ids inside the engine.

Fact builders join and group by ids all the time. Text ids make every join hash a million
Python strings again; integers make it a fraction of that (issue 3 benchmark). So
:func:`encode` replaces, in the dataset a :class:`~kpilib.context.Context` works on, every id
of the three big families (``orders.order_id``, ``order_lines.order_line_id``,
``shipments.shipment_id`` and every column that references them, per ``schema``) by its rank
among the family's sorted ids: sorting by code is sorting by id, a null stays null (float
codes), equal ids get equal codes in every table. :func:`decode` turns them back into the
original text wherever a frame leaves the engine (``kpilib.facts``), so users never see codes.

The codes are an engine detail: facts and KPIs must not print, parse or compare them with
text. Node, SKU, supplier and other segment values stay text (they are what results show).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpilib.schema import TABLES

# family -> (key table, key column)
FAMILIES = {"order": ("orders", "order_id"), "line": ("order_lines", "order_line_id"),
            "shipment": ("shipments", "shipment_id")}


def _family_columns() -> dict[str, list[tuple[str, str]]]:
    """family -> [(table, column)] of the key column and every column referencing it."""
    out: dict[str, list[tuple[str, str]]] = {}
    for fam, (table, column) in FAMILIES.items():
        target = f"{table}.{column}"
        out[fam] = [(table, column)] + [
            (t.name, c.name) for t in TABLES.values() for c in t.columns
            if c.references == target]
    return out


COLUMNS = _family_columns()
# Column names that hold a family's ids in fact tables: the schema's names, plus names that
# fact builders derive (top_line_id: the sold line a kit component stands in for).
FACT_COLUMNS = {**{c: fam for fam, cols in COLUMNS.items() for _, c in cols},
                "top_line_id": "line"}


@dataclass(frozen=True)
class Keys:
    """The sorted ids of each encoded family; code ``i`` stands for ``ids[family][i]``."""

    ids: dict[str, pa.Array]

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with every family column (:data:`FACT_COLUMNS`) turned back into text."""
        cols = [c for c in frame.columns if FACT_COLUMNS.get(c) in self.ids]
        if not cols:
            return frame
        out = frame.copy()
        for c in cols:
            out[c] = _lookup(self.ids[FACT_COLUMNS[c]], out[c])
        return out


def _lookup(ids: pa.Array, codes: pd.Series) -> pd.Series:
    values = codes.to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(values)
    text = np.full(len(values), None, dtype=object)
    text[ok] = pc.take(ids, pa.array(values[ok].astype(np.int64))).to_numpy(
        zero_copy_only=False)
    return pd.Series(text, index=codes.index, name=codes.name)


def _text(s: pd.Series) -> pa.Array:
    return pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _codes(texts: list[pa.Array]) -> tuple[pa.Array, list[np.ndarray]]:
    """(sorted ids, codes per column): one dictionary encoding over every column of the
    family (ids only referenced, in data that skipped the contract, get codes too), then
    each entry's rank in sorted order (UTF-8 byte order = code point order = str order)."""
    enc = pa.chunked_array(texts).dictionary_encode().combine_chunks()
    order = pc.sort_indices(enc.dictionary).to_numpy()
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = -1  # index -1 below = a null id
    codes = rank[enc.indices.fill_null(-1).to_numpy()]
    out, at = [], 0
    for a in texts:
        part = codes[at:at + len(a)]
        at += len(a)
        out.append(np.where(part < 0, np.nan, part) if a.null_count else part)
    return pc.take(enc.dictionary, pa.array(order)), out


def encode(ds) -> tuple[object, Keys]:
    """(dataset with family ids replaced by codes, the :class:`Keys` to decode them).

    A family whose ids are not all text (possible only in data that skipped the contract)
    is left as it is.
    """
    tables = ds.tables
    frames: dict[str, pd.DataFrame] = {}
    ids: dict[str, pa.Array] = {}
    for fam, cols in COLUMNS.items():
        present = [(t, c) for t, c in cols if t in tables and c in tables[t].columns]
        if not present:
            continue
        try:
            texts = [_text(tables[t][c]) for t, c in present]
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            continue
        ids[fam], codes = _codes(texts)
        for (t, c), code in zip(present, codes, strict=True):
            if t not in frames:
                frames[t] = tables[t].copy(deep=False)
            frames[t][c] = code
    if not frames:
        return ds, Keys(ids)
    coded = ds.replace(**frames)
    coded._as_of = ds._as_of  # same times, same data_as_of (skip recomputing it)
    return coded, Keys(ids)


def text_rank(values: pd.Series) -> np.ndarray:
    """Dense rank of each value in str order (nulls last): a sort key for tie-breaks on text
    ids that sorts a million strings in C++ rather than by Python comparisons."""
    return pc.rank(_text(values), sort_keys=[("", "ascending", "at_end")],
                   tiebreaker="dense").to_numpy()
