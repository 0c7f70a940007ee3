"""Column expressions of a mapping file: how one contract column is made from source rows.

A column spec is one of:

- ``"Order ID"``: the source column of that name;
- a number or boolean: that constant;
- a dict with one *base* and optional *steps*, applied in this order:

  bases: ``column: NAME`` | ``value: CONSTANT`` | ``format: "{Order ID}-{Row ID}"`` (text
  concatenation of source columns) | ``first_of: [spec, ...]`` (first non-null) |
  ``latest_of: [spec, ...]`` (the latest of these date-times on the row, nulls skipped) |
  ``sum: spec, by: NAME`` (the spec summed over the rows sharing source column ``by``) |
  ``min: spec, by: NAME`` / ``max: spec, by: NAME`` (the earliest / latest date-time of the
  spec over those rows) -- these three run over all the source's rows, not only a table's
  ``where`` rows, so an order's total or first time does not depend on which rows a table keeps |
  ``eval: "`Sales` / Quantity"`` (pandas arithmetic on source columns, read as numbers);

  steps: ``map: {source value: contract value}`` with optional ``default:`` (for unmapped
  non-null values; without it they pass unchanged, so the contract names them) |
  ``parse: "%d/%m/%y"`` (read text as a date-time with that strptime format) |
  ``add_days: spec`` (a number or a spec giving days per row: "date + N days") |
  ``end_of_day: true | ZONE`` (the last instant of that calendar day in ZONE, default the
  source time zone) | ``as_date: true`` (keep only the calendar day, ``YYYY-MM-DD``, e.g. for
  a ``promise_is_date`` promise) | ``if: "pandas condition"`` (null where it is false).

Naive date-times are local times of the source time zone; the contract converts them to UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kpilib.errors import ParameterError

BASES = ("column", "value", "format", "first_of", "latest_of", "sum", "min", "max", "eval")
STEPS = ("by", "map", "default", "parse", "add_days", "end_of_day", "as_date", "if")


def _column(frame: pd.DataFrame, name: str, where: str) -> pd.Series:
    if name not in frame.columns:
        raise ParameterError(f"{where}: source column {name!r} not found; the source has "
                             f"{list(map(str, frame.columns))}")
    return frame[name]


def _constant(value: Any, frame: pd.DataFrame) -> pd.Series:
    """``value`` on every row: a bool or number keeps its type, anything else is text."""
    typed = isinstance(value, bool | int | float)
    return pd.Series([value] * len(frame), index=frame.index, dtype=None if typed else object)


def _format(template: str, frame: pd.DataFrame, where: str) -> pd.Series:
    import string

    out = pd.Series("", index=frame.index, dtype=object)
    null = np.zeros(len(frame), bool)
    for text, field, _, _ in string.Formatter().parse(template):
        out = out + (text or "")
        if field is not None:
            col = _column(frame, field, where)
            null |= col.isna().to_numpy()
            out = out + col.astype(str)
    return out.where(~null, None)


def evaluate(spec: Any, frame: pd.DataFrame, tz: str, where: str,
             whole: pd.DataFrame | None = None) -> pd.Series:
    """The values of column spec ``spec`` for every row of ``frame`` (module doc); ``whole``
    is the source ``frame`` was selected from (same index labels; default ``frame``), over
    which ``sum``/``min``/``max`` run."""
    whole = frame if whole is None else whole
    if isinstance(spec, str):
        return _column(frame, spec, where)
    if isinstance(spec, bool | int | float) or spec is None:
        return _constant(spec, frame)
    if not isinstance(spec, Mapping):
        raise ParameterError(f"{where}: a column is a source column name, a constant or a "
                             f"mapping with one of {list(BASES)}; got {spec!r}")
    bases = [b for b in BASES if b in spec]
    unknown = sorted(set(spec) - set(BASES) - set(STEPS))
    if len(bases) != 1 or unknown:
        raise ParameterError(f"{where}: give exactly one of {list(BASES)}"
                             + (f"; unknown key(s) {unknown}" if unknown else "")
                             + f"; got {dict(spec)}")
    base = bases[0]
    if base == "column":
        out = _column(frame, spec["column"], where)
    elif base == "value":
        out = _constant(spec["value"], frame)
    elif base == "format":
        out = _format(str(spec["format"]), frame, where)
    elif base == "first_of":
        parts = [evaluate(s, frame, tz, where, whole) for s in spec["first_of"]]
        out = parts[0].astype(object)
        for p in parts[1:]:
            out = out.where(out.notna(), p)
    elif base == "latest_of":
        parts = [_as_datetime(evaluate(s, frame, tz, where, whole), where)
                 for s in spec["latest_of"]]
        out = pd.concat(parts, axis=1).max(axis=1)
    elif base == "eval":
        out = _eval(str(spec["eval"]), frame, where)
    else:
        out = _aggregate(base, spec, tz, where, whole).reindex(frame.index)
    return _steps(out, spec, frame, tz, where, whole)


def _aggregate(base: str, spec: Mapping, tz: str, where: str, whole: pd.DataFrame) -> pd.Series:
    """``sum`` (as numbers) / ``min`` / ``max`` (as date-times) of ``spec[base]`` over the rows
    of ``whole`` sharing source column ``spec["by"]``, for every row of ``whole``."""
    if "by" not in spec:
        raise ParameterError(f"{where}: {base!r} needs 'by' (the source column to group on)")
    values = evaluate(spec[base], whole, tz, where)
    if base == "sum":
        values = pd.to_numeric(values, errors="coerce")
    else:
        values = _as_datetime(values, where)
    return values.groupby(_column(whole, spec["by"], where).to_numpy()).transform(base)


def _eval(expression: str, frame: pd.DataFrame, where: str) -> pd.Series:
    """``frame.eval(expression)`` with the columns it names read as numbers where they are."""
    used = {c: pd.to_numeric(frame[c], errors="coerce") if frame[c].dtype == object else frame[c]
            for c in frame.columns if str(c) in expression}
    try:
        out = pd.DataFrame(used, index=frame.index).eval(expression)
    except Exception as err:  # noqa: BLE001 - pandas raises many types for a bad expression
        raise ParameterError(f"{where}: expression {expression!r} fails: {err}") from err
    return out if isinstance(out, pd.Series) else _constant(out, frame)


def _steps(out: pd.Series, spec: Mapping, frame: pd.DataFrame, tz: str, where: str,
           whole: pd.DataFrame) -> pd.Series:
    if "map" in spec:
        table = {str(k): v for k, v in dict(spec["map"]).items()}
        text = out.astype(object).where(out.isna(), out.astype(str))
        mapped = text.map(table)
        fallback = _constant(spec["default"], frame) if "default" in spec else out
        out = mapped.where(text.isin(list(table)), fallback.where(out.notna(), None))
    if "parse" in spec:
        parsed = pd.to_datetime(out, format=str(spec["parse"]), errors="coerce")
        bad = out.notna() & parsed.isna()
        if bad.any():
            raise ParameterError(f"{where}: {int(bad.sum())} value(s) do not match "
                                 f"parse {spec['parse']!r}, e.g. {out[bad].iloc[0]!r}")
        out = parsed
    if "add_days" in spec:
        days = pd.to_numeric(evaluate(spec["add_days"], frame, tz, where, whole),
                             errors="coerce")
        out = _as_datetime(out, where) + pd.to_timedelta(days, unit="D")
    if "end_of_day" in spec and spec["end_of_day"]:
        from kpilib.contracts.dates import end_of_day

        zone = tz if spec["end_of_day"] is True else str(spec["end_of_day"])
        ts = _as_datetime(out, where)
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            ts = ts.dt.tz_convert(zone).dt.tz_localize(None)
        out = end_of_day(ts.dt.normalize(), pd.Series(zone, index=ts.index))
    if spec.get("as_date"):
        out = _as_datetime(out, where).dt.strftime("%Y-%m-%d").astype(object)
        out = out.where(out.notna(), None)
    if "if" in spec:
        try:
            keep = frame.eval(str(spec["if"]))
        except Exception as err:  # noqa: BLE001 - pandas raises many types for a bad condition
            raise ParameterError(f"{where}: condition {spec['if']!r} fails: {err}") from err
        out = out.where(np.asarray(keep, bool), None)
    return out


def _as_datetime(s: pd.Series, where: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    out = pd.to_datetime(s, errors="coerce", format="ISO8601")
    if (s.notna() & out.isna()).any():
        raise ParameterError(f"{where}: values are not date-times; add 'parse: FORMAT'")
    return out
