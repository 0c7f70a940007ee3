"""Ids on the fast path (:mod:`.fast`): references proven in Arrow, and strings made once.

Each text column that references a one-column text key (``schema`` ``references``) is looked
up in that key: one dictionary encoding of the key followed by all its referencing columns
builds the key's hash table once (``index_in`` per column built it again for each of them),
and a value is found when its code is below the key's length (the keys in parallel threads).
When every non-null value is found, the foreign-key rule holds for the column (its DuckDB
count in :mod:`.fast_rules` is skipped) and the positions found give the column as the key's
own Python strings. So a referencing column costs no new string (10M fewer for the order,
line and shipment ids of a 1M-order dataset), and the key itself is converted without
looking for repeats, which the key rule rules out (9 s of 10 for the 5.8M event ids went
into looking).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kpilib import schema

__all__ = ["Links", "key_objects", "link", "positions", "shared_strings", "unique_text"]

# (table, column) of a referencing text column -> position of each row's value in the key
# (the key's length where the value is null)
Links = dict[tuple[str, str], np.ndarray]


def unique_text(name: str) -> str | None:
    """The text column of ``name`` whose values are all distinct (a one-column primary key,
    which the key rule checks), or None."""
    key = schema.TABLES[name].primary_key
    if len(key) == 1 and schema.TABLES[name].column(key[0]).dtype == schema.TEXT:
        return key[0]
    return None


def positions(key: pa.ChunkedArray, columns: list[pa.ChunkedArray],
              ) -> list[np.ndarray | None]:
    """Per column, the position in ``key`` of each row's value (``len(key)`` where null), or
    None when a non-null value is not in ``key``; all None when ``key`` has a null or a
    repeat (its key rule fails, and the DuckDB counts report the rest).

    One ``dictionary_encode`` over the key then the columns: the key's distinct values
    take codes 0, 1, ... in row order, so a unique key's code is its position, and a
    value's code is below ``len(key)`` exactly when the value is in the key."""
    n = len(key)
    text = pa.chunked_array([*key.chunks, *(c for col in columns for c in col.chunks)],
                            type=pa.string())
    codes = pa.chunked_array([c.indices for c in text.dictionary_encode().chunks],
                             type=pa.int32())
    own = codes[:n]
    if own.null_count or (n and pc.max(own).as_py() != n - 1):
        return [None] * len(columns)
    out: list[np.ndarray | None] = []
    at = n
    for col in columns:
        part = codes[at:at + len(col)]
        at += len(col)
        top = pc.max(part).as_py()  # None when every value is null
        out.append(None if top is not None and top >= n else
                   part.fill_null(n).to_numpy())
    return out


def link(typed: dict[str, pa.Table]) -> Links:
    """The referencing text columns of ``typed`` whose every non-null value is in the key
    they reference, with the positions found (the others are left to the DuckDB count)."""
    referencing: dict[str, list[tuple[str, str]]] = {}  # key table -> its referencing columns
    for name, table in typed.items():
        for col in schema.TABLES[name].columns:
            if col.dtype != schema.TEXT or not col.references or col.name not in table.column_names:
                continue
            ref_table, ref_col = col.references.split(".")
            if ref_table in typed and unique_text(ref_table) == ref_col:
                referencing.setdefault(ref_table, []).append((name, col.name))

    def one(ref_table: str) -> list[np.ndarray | None]:
        key = typed[ref_table].column(unique_text(ref_table))
        return positions(key, [typed[t].column(c) for t, c in referencing[ref_table]])

    # one key per thread, largest first (Arrow's kernels let go of the GIL: at 1M orders the
    # order and line keys take 2 s each)
    order = sorted(referencing, key=lambda t: -typed[t].num_rows)
    with ThreadPoolExecutor(max(1, min(pa.cpu_count(), len(order)))) as pool:
        found = dict(zip(order, pool.map(one, order), strict=True))
    out: Links = {}
    for ref_table, cols in referencing.items():
        out.update((c, at) for c, at in zip(cols, found[ref_table], strict=True)
                   if at is not None)
    return out


def key_objects(typed: dict[str, pa.Table]) -> dict[str, np.ndarray]:
    """``{table: its one-column text key as Python strings, then one None}`` (a position
    equal to the key's length stands for a null)."""
    out = {}
    for name, table in typed.items():
        key = unique_text(name)
        if key is not None:
            objects = table.column(key).to_pandas(deduplicate_objects=False).to_numpy()
            out[name] = np.append(objects, None)
    return out


def shared_strings(name: str, keys: dict[str, np.ndarray], links: Links,
                   ) -> dict[str, np.ndarray]:
    """``{column: object array}`` of table ``name``'s key and linked columns, made of the
    strings of :func:`key_objects`."""
    out = {}
    for col in schema.TABLES[name].columns:
        if col.name == unique_text(name):
            out[col.name] = keys[name][:-1]
        elif (name, col.name) in links:
            out[col.name] = keys[col.references.split(".")[0]][links[(name, col.name)]]
    return out
