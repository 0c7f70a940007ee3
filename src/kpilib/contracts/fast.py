"""Fast path of the contract for clean typed parquet: read with pyarrow, check in DuckDB.

A folder whose tables are all single ``<table>.parquet`` files with the column types kpilib
itself writes (text as string, num as double, int as int64, bool, date as timestamp[ns]
without zone, ts as timestamp[ns] with a zone; an all-null column may have type null) is read
with pyarrow, its row rules are counted by DuckDB over the Arrow tables
(:mod:`.fast_rules`; a key that rises strictly from row to row and a reference whose every
value is found in its key, :mod:`.fast_keys`, hold without a count), and its time and size
rules run as the very pandas functions of :mod:`.plausibility` on the typed frames. No value
passes through row-wise Python.

Only a clean verdict is used: :func:`load_clean` returns the typed frames when nothing is
wrong, and ``None`` otherwise (or when a file, a type or a name is outside what this module
covers); the caller then runs the full pandas contract, which reports every problem with its
table, column, rule, rows and examples. So this path can only make a clean load faster, never
change a report. The frames are the ones the full contract builds (same columns, dtypes,
values and row order; ``tests/test_contract_fast.py``), converted from Arrow once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kpilib import schema
from kpilib.contracts.dates import snap_ship_by
from kpilib.contracts.fast_keys import Links, key_objects, link, shared_strings
from kpilib.contracts.fast_rules import COUNTED_RULES, first_breach
from kpilib.contracts.files import list_tables, read_limits, split_name
from kpilib.contracts.names import near_miss_columns
from kpilib.contracts.plausibility import (
    Limits,
    check_ceilings,
    check_far,
    check_future,
    check_negative_cost,
    check_range,
    out_of_range_masks,
)

__all__ = ["COVERED_RULES", "load_clean"]

# how this path meets every rule of the contract: it gives up on a folder with a file, name or
# parse problem before any check (only exact types are read; ``_read``), DuckDB counts the row
# rules (:mod:`.fast_rules`), and the time and size rules run as the pandas functions
_GIVES_UP_ON = frozenset({
    "unreadable_file", "empty_file", "duplicate_table", "unknown_table", "missing_table",
    "empty_table", "duplicate_column", "missing_column", "wrong_type", "naive_timestamp",
    "invalid_argument", "near_miss_column", "near_miss_table", "invalid_manifest"})
_PANDAS_RULES = frozenset({"timestamp_out_of_range", "future_event", "far_from_bulk",
                           "above_ceiling", "negative_cost"})
COVERED_RULES = _GIVES_UP_ON | COUNTED_RULES | _PANDAS_RULES

_TS = pa.timestamp("ns", "UTC")
_ARROW = {schema.TEXT: pa.string(), schema.NUM: pa.float64(), schema.INT: pa.int64(),
          schema.BOOL: pa.bool_(), schema.DATE: pa.timestamp("ns"), schema.TS: _TS}


def _type_ok(dtype: str, t: pa.DataType) -> bool:
    """Whether Arrow type ``t`` converts to ``dtype`` without parsing (see module doc)."""
    if pa.types.is_null(t):
        return True
    if dtype == schema.TEXT:
        return pa.types.is_string(t) or pa.types.is_large_string(t)
    if dtype == schema.TS:
        return pa.types.is_timestamp(t) and t.unit == "ns" and t.tz is not None
    return t == _ARROW[dtype]


def _read(folder: Path) -> dict[str, pa.Table] | None:
    """Every table of ``folder`` as Arrow, or None when the folder needs the full checks."""
    found, problems = list_tables(folder)
    if problems or read_limits(folder)[1]:
        return None
    tables: dict[str, pa.Table] = {}
    for name, files in found.items():
        if len(files) != 1 or not files[0].is_file() or split_name(files[0])[1] != ".parquet":
            return None
        try:
            table = pq.read_table(files[0])
        except Exception:  # noqa: BLE001 - the full path reports unreadable files
            return None
        names = table.column_names
        meta = table.schema.pandas_metadata or {}
        if len(set(names)) != len(names) or near_miss_columns(name, names) or any(
                isinstance(i, str) for i in meta.get("index_columns", ())):
            return None
        for col in schema.TABLES[name].columns:
            if col.name in names:
                if not _type_ok(col.dtype, table.schema.field(col.name).type):
                    return None
            elif col.required:
                return None
        tables[name] = table
    if any(n not in tables or tables[n].num_rows == 0 for n in schema.REQUIRED_TABLES):
        return None
    return tables


def _schema_columns(name: str, table: pa.Table) -> pa.Table:
    """The schema columns of ``table`` in schema order, with the pandas parser's null rules:
    an empty string is null, a missing or all-null column is nulls of its type, and
    timestamps are in UTC."""
    arrays = []
    for col in schema.TABLES[name].columns:
        target = _ARROW[col.dtype]
        if col.name not in table.column_names or pa.types.is_null(
                table.schema.field(col.name).type):
            arrays.append(pa.nulls(table.num_rows, target))
            continue
        values = table.column(col.name)
        if col.dtype == schema.TEXT:
            empty = pc.equal(values, "")
            if pc.any(empty).as_py():  # else keep the buffers (a copy of 5.8M ids is 1.7 s)
                values = pc.if_else(empty, None, values)
            values = values.cast(target)
        elif col.dtype == schema.TS:
            values = values.cast(target)
        arrays.append(values)
    return pa.table(arrays, names=list(schema.TABLES[name].column_names))


def _as_nanoseconds(table: pa.Table) -> pa.Table:
    """Time columns as int64 nanoseconds (what :mod:`.fast_rules` compares)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
    return table


def _int64_as_nullable(t: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    return pd.Int64Dtype() if t == pa.int64() else None


def _to_pandas(name: str, typed: pa.Table, raw: pa.Table, keys: dict[str, np.ndarray],
               links: Links) -> pd.DataFrame:
    """The frame of the full contract: schema columns (bool nulls as False), then the extra
    columns as ``pandas.read_parquet`` gives them.

    Equal text values share one Python object: a one-column key and the columns linked to
    one hold the key's strings (:mod:`.fast_keys`), the other text columns those of
    pyarrow's ``deduplicate_objects``."""
    for i, col in enumerate(schema.TABLES[name].columns):
        if col.dtype == schema.BOOL:
            typed = typed.set_column(i, col.name, pc.fill_null(typed.column(i), False))
    shared = shared_strings(name, keys, links)
    frame = typed.drop_columns(list(shared)).to_pandas(types_mapper=_int64_as_nullable)
    for i, col in enumerate(typed.column_names):
        if col in shared:
            frame.insert(i, col, pd.Series(shared[col], dtype=object, copy=False))
    extras = [c for c in raw.column_names if c not in schema.TABLES[name].column_names]
    if extras:
        more = raw.select(extras).to_pandas().reset_index(drop=True)
        frame = pd.concat([frame, more], axis=1)
    return frame


def _plausible(frames: dict[str, pd.DataFrame], limits: Limits) -> bool:
    """Whether the time and size rules of :mod:`.plausibility` find nothing."""
    masks = out_of_range_masks(frames)
    return not (check_range(frames, masks) or check_future(frames, limits, masks)
                or check_far(frames, limits, masks) or check_ceilings(frames, limits)
                or check_negative_cost(frames))


def load_clean(folder: str | Path) -> dict[str, pd.DataFrame] | None:
    """Typed frames of a clean typed-parquet ``folder``, or None when the full contract has
    to run (see module doc)."""
    path = Path(folder)
    if not path.is_dir():
        return None
    raw = _read(path)
    if raw is None:
        return None
    typed = {name: _schema_columns(name, table) for name, table in raw.items()}
    links = link(typed)
    if first_breach({n: _as_nanoseconds(t) for n, t in typed.items()}, frozenset(links)):
        return None
    keys = key_objects(typed)
    frames = {name: _to_pandas(name, typed[name], raw[name], keys, links)
              for name in schema.TABLE_NAMES if name in typed}
    del keys, links
    snap_ship_by(frames)
    if not _plausible(frames, read_limits(path)[0]):
        return None
    return frames
