"""Dataset tables to Arrow for a SQL engine, and engine results back to pandas.

The SQL side sees every timestamp as BIGINT nanoseconds since the epoch (UTC): exact in
every engine (DuckDB's and Spark's TIMESTAMP keep microseconds) and compared, grouped and
reduced like any integer. Each table gets an ``_row`` column (its row position) so results
come back in the order the pandas code keeps. Integer columns of a result named ``*_at``, or
named like a timestamp column of the contract, are turned back into UTC timestamps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from kpilib.keys import COLUMNS as KEY_COLUMNS
from kpilib.schema import TABLES

ARROW_TYPES = {"text": pa.string(), "int": pa.int64(), "num": pa.float64(),
               "bool": pa.bool_(), "date": pa.date32(), "ts": pa.int64()}
TS_NAMES = {c.name for t in TABLES.values() for c in t.columns if c.dtype == "ts"}
CODED = {pair for pairs in KEY_COLUMNS.values() for pair in pairs}  # id codes: int64


def _schema_type(table: str, column: str) -> pa.DataType | None:
    spec = TABLES.get(table)
    if spec is None or column not in spec.column_names:
        return None
    if (table, column) in CODED:
        return pa.int64()
    return ARROW_TYPES[spec.column(column).dtype]


def _column(table: str, name: str, s: pd.Series) -> pa.Array:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC")
        ns = s.dt.as_unit("ns").array.asi8
        return pa.array(ns, type=pa.int64(), mask=s.isna().to_numpy())
    arr = pa.Array.from_pandas(s)
    if pa.types.is_null(arr.type):  # an empty or all-null column: type it by the contract
        arr = arr.cast(_schema_type(table, name) or pa.string())
    return arr


def to_arrow(table: str, frame: pd.DataFrame) -> pa.Table:
    """``frame`` (dataset table ``table``) as Arrow with ``_row`` and BIGINT-ns timestamps."""
    data = {"_row": pa.array(np.arange(len(frame), dtype=np.int64))}
    for col in frame.columns:
        data[col] = _column(table, col, frame[col])
    return pa.table(data)


def empty(table: str) -> pa.Table:
    """A table of the contract without rows (an optional table the dataset lacks)."""
    spec = TABLES[table]
    fields = [pa.field("_row", pa.int64())]
    fields += [pa.field(c, _schema_type(table, c)) for c in spec.column_names]
    return pa.schema(fields).empty_table()


def to_pandas(result: pa.Table) -> pd.DataFrame:
    """An engine result as pandas: timestamps back to UTC (module doc), ``_row`` dropped."""
    cols = {}
    for name in result.column_names:
        if name == "_row":
            continue
        col = result.column(name)
        if (name.endswith("_at") or name in TS_NAMES) and pa.types.is_integer(col.type):
            col = col.cast(pa.timestamp("ns", tz="UTC"))
        cols[name] = col
    out = pa.table(cols).to_pandas()
    out.index = pd.RangeIndex(len(out))
    return out
