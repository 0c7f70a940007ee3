"""Source preparation of a mapping file: number rows, read numbers, set rows aside (counted).

A source as read (one frame) is prepared before any table is mapped from it, in this order:

1. ``numbers: [Quantity, UnitPrice]``: these text columns are read as numbers (an empty cell
   is null; a value that is not a number is an error naming the column and an example), so
   conditions such as ``Quantity < 0`` compare numbers;
2. ``row_number: {column: row, by: InvoiceNo}``: adds source column ``row``, the 1-based
   position of each row among the source rows with the same ``InvoiceNo``, in source order
   (counted before anything is set aside, so a line keeps its number in the source);
3. ``set_aside: [{reason: NAME, where: "pandas condition", distinct: COLUMN, detail: TEXT}]``:
   each rule in turn removes the remaining rows matching ``where`` and records them in the
   import report under ``reason`` (table = the source's name), with ``detail`` (``{n}`` in it
   = the number of distinct values of ``distinct`` among those rows, e.g. "{n} invoices").
   A row matching several rules is counted once, under the first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from kpilib.errors import ParameterError

KEYS = ("file", "sep", "encoding", "query", "table", "numbers", "row_number", "set_aside")
RULE_KEYS = ("reason", "where", "distinct", "detail")
SetAside = Callable[[str, str, int, str], None]  # (table, reason, rows, detail)


def condition(frame: pd.DataFrame, expression: str, where: str) -> pd.Series:
    """The boolean mask of pandas condition ``expression`` on ``frame`` (clear error)."""
    try:
        mask = frame.eval(str(expression))
    except Exception as err:  # noqa: BLE001 - pandas raises many types
        raise ParameterError(f"{where} {expression!r} fails: {err}") from err
    if not isinstance(mask, pd.Series) or len(mask) != len(frame):
        raise ParameterError(f"{where} {expression!r} is not a condition on each row")
    return pd.Series(mask.to_numpy(dtype=bool, na_value=False), index=frame.index)


def _numbers(name: str, frame: pd.DataFrame, columns: Any) -> pd.DataFrame:
    frame = frame.copy()
    for col in [columns] if isinstance(columns, str) else list(columns):
        if col not in frame.columns:
            raise ParameterError(f"sources.{name}.numbers: column {col!r} not found; the "
                                 f"source has {list(map(str, frame.columns))}")
        if pd.api.types.is_numeric_dtype(frame[col]):
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = frame[col].notna() & values.isna()
        if bad.any():
            raise ParameterError(f"sources.{name}.numbers: {int(bad.sum())} value(s) of "
                                 f"{col!r} are not numbers, e.g. {frame.loc[bad, col].iloc[0]!r}")
        frame[col] = values
    return frame


def prepare(name: str, spec: Mapping[str, Any], frame: pd.DataFrame,
            set_aside: SetAside) -> pd.DataFrame:
    """Source ``name`` as read -> prepared (module doc); every removed row goes to
    ``set_aside``."""
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise ParameterError(f"sources.{name}: unknown key(s) {unknown}; a source has "
                             f"{list(KEYS)}")
    if spec.get("numbers"):
        frame = _numbers(name, frame, spec["numbers"])
    if spec.get("row_number"):
        rn = spec["row_number"]
        if not isinstance(rn, Mapping) or set(rn) != {"column", "by"}:
            raise ParameterError(f"sources.{name}.row_number: give {{column: NEW_NAME, by: "
                                 f"SOURCE_COLUMN}}; got {rn!r}")
        if rn["by"] not in frame.columns:
            raise ParameterError(f"sources.{name}.row_number.by: column {rn['by']!r} not found")
        frame = frame.assign(**{str(rn["column"]): frame.groupby(rn["by"], sort=False,
                                                                 dropna=False).cumcount() + 1})
    for i, rule in enumerate(spec.get("set_aside") or []):
        where = f"sources.{name}.set_aside[{i}]"
        if not isinstance(rule, Mapping) or not {"reason", "where"} <= set(rule) \
                or set(rule) - set(RULE_KEYS):
            raise ParameterError(f"{where}: give reason and where (optional distinct, "
                                 f"detail); got {rule!r}")
        hit = condition(frame, rule["where"], f"{where}.where")
        detail = str(rule.get("detail") or "")
        if rule.get("distinct"):
            if rule["distinct"] not in frame.columns:
                raise ParameterError(f"{where}.distinct: column {rule['distinct']!r} not found")
            distinct = frame.loc[hit, rule["distinct"]].nunique()
            detail = detail.replace("{n}", str(distinct))
        set_aside(name, str(rule["reason"]), int(hit.sum()), detail)
        frame = frame.loc[~hit]
    return frame.reset_index(drop=True)
