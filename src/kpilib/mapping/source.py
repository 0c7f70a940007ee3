"""Source preparation of a mapping file: number rows, read numbers, set rows aside (counted).

A source is read (a file or a query), or joined from two sources defined before it:
``{join: [LEFT, RIGHT], key: COLUMN, how: inner | left, unmatched: REASON}`` has the rows of
LEFT, in their order, each with the columns of every RIGHT row sharing its COLUMN value (the two
share no other column). ``inner`` (the default) leaves out the LEFT rows with no match,
counted in the report under REASON (table = LEFT's name); ``left`` keeps them with empty RIGHT
columns.

A source (read or joined) is prepared before any table is mapped from it, in this order:

1. ``columns: [InvoiceNo, Quantity]``: the columns the source must have (else an error saying
   which are missing, e.g. when the folder holds another dataset);
2. ``numbers: [Quantity, UnitPrice]``: these text columns are read as numbers (an empty cell
   is null; a value that is not a number is an error naming the column and an example), so
   conditions such as ``Quantity < 0`` compare numbers;
3. ``row_number: {column: row, by: InvoiceNo}``: adds source column ``row``, the 1-based
   position of each row among the source rows with the same ``InvoiceNo``, in source order
   (counted before anything is set aside, so a line keeps its number in the source);
4. ``set_aside: [{reason: NAME, where: "pandas condition", distinct: COLUMN, detail: TEXT}]``:
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

KEYS = ("file", "sep", "encoding", "query", "table", "columns", "numbers", "row_number",
        "set_aside", "join", "key", "how", "unmatched")
JOIN_KEYS = ("join", "key", "how", "unmatched")
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


def _file(spec: Mapping[str, Any]) -> str:
    return f" ({spec['file']})" if "file" in spec else ""


def prepare(name: str, spec: Mapping[str, Any], frame: pd.DataFrame,
            set_aside: SetAside) -> pd.DataFrame:
    """Source ``name`` as read -> prepared (module doc); every removed row goes to
    ``set_aside``."""
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise ParameterError(f"sources.{name}: unknown key(s) {unknown}; a source has "
                             f"{list(KEYS)}")
    missing = [c for c in spec.get("columns") or [] if c not in frame.columns]
    if missing:
        raise ParameterError(f"sources.{name}{_file(spec)} lacks column(s) {missing}; found "
                             f"{list(map(str, frame.columns))}")
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


def join(name: str, spec: Mapping[str, Any], sources: Mapping[str, pd.DataFrame],
         set_aside: SetAside) -> pd.DataFrame:
    """Source ``name`` joined from two earlier sources (module doc)."""
    pair, on, how = spec.get("join"), spec.get("key"), spec.get("how", "inner")
    if not (isinstance(pair, list) and len(pair) == 2 and on and how in ("inner", "left")):
        raise ParameterError(f"sources.{name}: give join: [LEFT, RIGHT], key: COLUMN, how: inner "
                             f"or left; got {dict(spec)}")
    missing = [s for s in pair if s not in sources]
    if missing:
        raise ParameterError(f"sources.{name}.join: {missing} not among the sources defined "
                             f"before it ({list(sources)})")
    left, right = sources[pair[0]], sources[pair[1]]
    for side, frame in zip(pair, (left, right), strict=True):
        if on not in frame.columns:
            raise ParameterError(f"sources.{name}.key: {side} has no column {on!r}")
    shared = sorted((set(left.columns) & set(right.columns)) - {on})
    if shared:
        raise ParameterError(f"sources.{name}.join: {pair[0]} and {pair[1]} both have "
                             f"{shared}; only {on!r} may be shared")
    matched = left[on].isin(right[on])
    if how == "inner":
        set_aside(pair[0], str(spec.get("unmatched") or f"no_match_in_{pair[1]}"),
                  int((~matched).sum()), "")
    return left.merge(right, on=on, how=how)
