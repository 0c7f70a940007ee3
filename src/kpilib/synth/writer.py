"""Conform generated frames to the schema (column order, dtypes, key order) and write them.

Rule: columns in ``kpilib.schema.TABLES`` order; text -> object, num -> float64, int -> Int64,
bool -> bool, date -> datetime64[ns] (naive midnight), ts -> datetime64[ns, UTC]; rows sorted by
the primary key (all columns for key-less tables). Parquet is written by pyarrow with fixed
options and no index, so the same frames give the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kpilib.schema import BOOL, DATE, INT, NUM, TABLES, TEXT, TS


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the schema's columns, dtypes and key order."""
    table = TABLES[name]
    missing = [c for c in table.column_names if c not in df.columns and table.column(c).required]
    if missing:
        raise AssertionError(f"generator bug: {name} lacks required columns {missing}")
    extra = set(df.columns) - set(table.column_names)
    if extra:
        raise AssertionError(f"generator bug: {name} has unknown columns {sorted(extra)}")
    out = {}
    n = len(df)
    for col in table.columns:
        s = df[col.name] if col.name in df.columns else pd.Series([None] * n, index=df.index)
        if col.dtype == TEXT:
            s = s.astype(object).where(s.notna(), None)
        elif col.dtype == NUM:
            s = pd.to_numeric(s, errors="raise").astype("float64")
        elif col.dtype == INT:
            s = s.astype("Int64")
        elif col.dtype == BOOL:
            s = pd.Series(np.where(s.notna(), s, False).astype(bool), index=s.index)  # null = False
        elif col.dtype == DATE:
            s = pd.to_datetime(s).astype("datetime64[ns]")
        elif col.dtype == TS:
            if not isinstance(s.dtype, pd.DatetimeTZDtype):
                s = pd.to_datetime(s, utc=True)
            s = s.astype("datetime64[ns, UTC]")
        out[col.name] = s.reset_index(drop=True)
    res = pd.DataFrame(out)
    key = list(table.primary_key) or list(table.column_names)
    res = res.sort_values(key, kind="stable", na_position="first").reset_index(drop=True)
    return res


def write_tables(tables: dict[str, pd.DataFrame], truth: dict, out: str | Path,
                 fmt: str = "parquet") -> Path:
    """Write ``<out>/<table>.parquet|csv`` and ``<out>/truth.json`` deterministically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if fmt == "parquet":
            tbl = pa.Table.from_pandas(df, preserve_index=False)
            pq.write_table(tbl, out / f"{name}.parquet", compression="zstd",
                           use_dictionary=True, write_statistics=True)
        elif fmt == "csv":
            _to_csv(df).to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
        else:
            from kpilib.errors import ParameterError

            raise ParameterError(f"unknown format {fmt!r}; use 'parquet' or 'csv'")
    (out / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True, default=str)
                                    + "\n")
    return out


def _to_csv(df: pd.DataFrame) -> pd.DataFrame:
    """CSV conventions of the data contract: ISO-8601 with offset, YYYY-MM-DD, true/false."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[c] = s.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00").where(s.notna(), "")
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            out[c] = s.dt.strftime("%Y-%m-%d").where(s.notna(), "")
        elif pd.api.types.is_bool_dtype(s.dtype) and not isinstance(s.dtype, pd.BooleanDtype):
            out[c] = np.where(s, "true", "false")
    return out
