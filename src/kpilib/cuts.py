"""How results are cut: lists of segment dimensions and segment filters.

- :func:`as_dims`: ``"channel"`` and ``["channel"]`` mean the same list of dimensions.
- :func:`normalize`: ``{"channel": "web", "node": ["DC-1", "DC-2"]}`` becomes
  ``{"channel": ("web",), "node": ("DC-1", "DC-2")}``.
- :func:`check_values`: every filter value must be a value of its dimension in the data
  (:data:`SOURCES` says where each dimension's values live, ``ds.dimensions`` where an extra
  one's do); an unknown one is a
  ``ParameterError`` naming the closest valid values ("'wbe' is not a channel; did you mean
  'web'?"), so a typo never gives a silently empty result.
- :func:`keep`: which observations a filter keeps. A filter keeps a KPI's records whose segment
  attribute is one of the values, with the same attribution rules as ``by`` (a line's ``node``
  is the node that shipped it, ...), before the engine reduces them; so a filtered value is
  the KPI over the filtered records, and ``by=[dim]`` then keeping one row gives the same
  number.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kpilib.errors import ParameterError

# dimension -> (table, column) holding its values
SOURCES: dict[str, tuple[str, str]] = {
    "channel": ("orders", "channel"),
    "node": ("nodes", "node_id"),
    "supplier": ("products", "supplier_id"),
    "product_class": ("products", "product_class"),
    "fulfillment_model": ("nodes", "fulfillment_model"),
    "carrier": ("shipments", "carrier"),
    "service_level": ("shipments", "service_level"),
    "sku": ("products", "sku"),
}
# derived dimensions with fixed values (kpilib.classes)
FIXED: dict[str, tuple[str, ...]] = {"abc_class": ("A", "B", "C"), "xyz_class": ("X", "Y", "Z")}
# where a dimension's values also appear when its main table is absent
FALLBACKS: dict[str, tuple[str, str]] = {
    "node": ("order_lines", "assigned_node_id"),
    "sku": ("order_lines", "sku"),
}


def as_dims(by: str | Iterable[str] | None) -> tuple[str, ...]:
    """``by`` as a tuple of dimension names: a string is one dimension, None none."""
    if by is None:
        return ()
    if isinstance(by, str):
        return (by,)
    return tuple(by)


def normalize(filters: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """``{dim: value or [values]}`` as ``{dim: (text values...)}``; an empty list is an error."""
    out: dict[str, tuple[str, ...]] = {}
    for dim, values in (filters or {}).items():
        vals = (values,) if isinstance(values, str) or not isinstance(values, Iterable) \
            else tuple(values)
        if not vals:
            raise ParameterError(f"filter {dim!r} has no values; give at least one")
        out[str(dim)] = tuple(dict.fromkeys(str(v) for v in vals))
    return out


def _noun(dim: str) -> str:
    words = dim.replace("_", " ")
    return ("an " if words[0] in "aeiou" else "a ") + words


def unknown_value_message(dim: str, value: str, valid: Iterable[str]) -> str:
    """"'wbe' is not a channel; did you mean 'web'?" (or the valid values when none is close)."""
    valid = sorted({str(v) for v in valid})
    close = difflib.get_close_matches(value, valid, n=3, cutoff=0.6)
    if not close:  # case slips ("WEB") are close too
        close = [v for v in valid if v.lower() == value.lower()]
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif valid:
        shown = ", ".join(repr(v) for v in valid[:12])
        hint = f"valid values: {shown}" + (f" ... ({len(valid)} in all)" if len(valid) > 12
                                           else "")
    else:
        hint = "this data has no values for it"
    return f"{value!r} is not {_noun(dim)}; {hint}"


def known_values(ds: Any, dim: str) -> set[str] | None:
    """The values of ``dim`` in the dataset ``ds``, or None when the data cannot tell (no
    table holds them, or ``dim`` is a KPI-specific breakdown)."""
    if dim in FIXED:
        return set(FIXED[dim])
    extra = getattr(ds, "dimensions", None) or {}
    if dim in extra:  # a column of the dataset's own (kpilib.dimensions)
        return _values(ds.tables.get(extra[dim]), dim) or set()
    if dim not in SOURCES:
        return None
    for table, column in [SOURCES[dim], *([FALLBACKS[dim]] if dim in FALLBACKS else [])]:
        values = _values(ds.tables.get(table), column)
        if values is not None:
            return values
    return None


def _values(frame: pd.DataFrame | None, column: str) -> set[str] | None:
    if frame is None or column not in frame.columns:
        return None
    return {str(v) for v in pd.unique(frame[column].dropna())}


def check_values(ds: Any, filters: Mapping[str, tuple[str, ...]],
                 seen: Mapping[str, Iterable[str]] | None = None) -> None:
    """Raise ``ParameterError`` for the first filter value that is not a value of its
    dimension: in the data (:func:`known_values`) or, for dimensions the data cannot tell,
    among the values ``seen`` in the observations."""
    for dim, values in filters.items():
        valid = known_values(ds, dim)
        if valid is None and seen is not None and dim in seen:
            valid = {str(v) for v in seen[dim]}
        if valid is None:
            continue
        for v in values:
            if v not in valid:
                raise ParameterError(unknown_value_message(dim, v, valid))


def keep(obs: pd.DataFrame, filters: Mapping[str, tuple[str, ...]]) -> np.ndarray:
    """Boolean mask of the observations whose every filtered dimension has one of its values
    (a null attribute matches no filter)."""
    mask = np.ones(len(obs), dtype=bool)
    for dim, values in filters.items():
        mask &= obs[dim].isin(values).to_numpy()
    return mask

