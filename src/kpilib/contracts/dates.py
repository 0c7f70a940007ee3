"""Date-only deadlines: ``YYYY-MM-DD`` where the row's flag says the deadline is a date.

Rule: on an ``order_lines`` row whose flag is true, a date-only value ``D`` in a deadline
column is read as the end of calendar day ``D`` in the deadline's zone, i.e. the last
nanosecond before local midnight of ``D + 1`` converted to UTC:

- ``promised_delivery_at_original``, ``promised_delivery_at_current`` and
  ``requested_delivery_at`` with flag ``promise_is_date``: the order's ``ship_to_timezone``;
- ``planned_ship_by_at`` with flag ``ship_by_is_date``: the assigned node's ``timezone``, else
  the order's ``ship_to_timezone``.

A missing or unknown zone is UTC (the rule the commit-unit facts use for date promises). The
value is rewritten as an ISO timestamp with ``Z`` before the columns are parsed, so every later
check sees an ordinary aware timestamp. A date-only value on a row whose flag is false stays
naive (rule ``naive_timestamp`` unless ``assume_tz``), and a full timestamp is never changed
here: ``assume_tz`` governs clock times, the flags govern dates.

After parsing, :func:`snap_ship_by` also moves a flagged full ``planned_ship_by_at`` timestamp
to the end of its local calendar day, as date promises are read by the KPIs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kpilib.contracts.coerce import _as_text, _parse_bool

PROMISE_COLUMNS = ("promised_delivery_at_original", "promised_delivery_at_current",
                   "requested_delivery_at")
SHIP_BY_COLUMN = "planned_ship_by_at"
_DATE_ONLY = r"^\s*\d{4}-\d{2}-\d{2}\s*$"


def _is_zone(name: str) -> bool:
    try:
        pd.Timestamp("2024-01-01").tz_localize(name)
    except Exception:  # noqa: BLE001 - pytz/zoneinfo raise different types
        return False
    return True


def end_of_day(days: pd.Series, zones: pd.Series) -> pd.Series:
    """UTC instant of the end of each naive calendar day ``days`` in zone ``zones`` (IANA)."""
    out = pd.Series(pd.NaT, index=days.index, dtype="datetime64[ns, UTC]")
    zones = zones.where(zones.notna(), "UTC").astype(str)
    for zone in zones.unique():  # one pass per zone, not per row
        m = zones.eq(zone).to_numpy()
        tz = zone if _is_zone(zone) else "UTC"
        nxt = (days[m] + pd.Timedelta(days=1)).dt.tz_localize(
            tz, ambiguous=False, nonexistent="shift_forward")
        out[m] = nxt.dt.tz_convert("UTC") - pd.Timedelta(1, "ns")
    return out


def _zone_of_lines(lines: pd.DataFrame, frames: Mapping[str, pd.DataFrame | None],
                   node_first: bool) -> pd.Series:
    """Per line: the ship-to zone of its order, or (``node_first``) its assigned node's zone."""
    zone = pd.Series(None, index=lines.index, dtype=object)
    orders = frames.get("orders")
    if isinstance(orders, pd.DataFrame) and {"order_id", "ship_to_timezone"} <= set(orders) \
            and "order_id" in lines:
        o = orders.drop_duplicates("order_id")
        tz = pd.Series(_as_text(o["ship_to_timezone"]).to_numpy(),
                       index=_as_text(o["order_id"]).to_numpy())
        zone = _as_text(lines["order_id"]).map(tz)
    nodes = frames.get("nodes")
    if node_first and isinstance(nodes, pd.DataFrame) and {"node_id", "timezone"} <= set(nodes) \
            and "assigned_node_id" in lines:
        ntz = _as_text(nodes["timezone"]).set_axis(_as_text(nodes["node_id"]).to_numpy())
        ntz = ntz[~ntz.index.duplicated()]
        by_node = _as_text(lines["assigned_node_id"]).map(ntz)
        zone = by_node.where(by_node.notna(), zone)
    return zone


def resolve_date_only(frames: Mapping[str, pd.DataFrame | None]) -> dict:
    """``frames`` with flagged date-only deadlines of ``order_lines`` as UTC ISO text."""
    out = dict(frames)
    lines = out.get("order_lines")
    if not isinstance(lines, pd.DataFrame):
        return out
    copied = False
    for flag, columns, node_first in (("promise_is_date", PROMISE_COLUMNS, False),
                                      ("ship_by_is_date", (SHIP_BY_COLUMN,), True)):
        if flag not in lines.columns:
            continue
        flagged = _parse_bool(lines[flag])[0].eq(True).to_numpy()
        zone = None
        for col in columns:
            if col not in lines.columns or not (lines[col].dtype == object
                                                 or pd.api.types.is_string_dtype(lines[col])):
                continue
            text = _as_text(lines[col])
            m = flagged & text.str.match(_DATE_ONLY, na=False).to_numpy(bool)
            if not m.any():
                continue
            if zone is None:
                zone = _zone_of_lines(lines, out, node_first)
            days = pd.to_datetime(text[m].str.strip(), format="%Y-%m-%d", errors="coerce")
            ok = days.notna().to_numpy()
            ends = end_of_day(days[ok], zone[m][ok])
            if not copied:
                lines, copied = lines.copy(), True
            values = lines[col].astype(object).to_numpy(copy=True)
            idx = np.flatnonzero(m)[ok]
            values[idx] = ends.dt.strftime("%Y-%m-%dT%H:%M:%S.%f999Z").to_numpy()
            lines[col] = values
    out["order_lines"] = lines
    return out


def snap_ship_by(typed: dict[str, pd.DataFrame]) -> None:
    """In place: a ``ship_by_is_date`` line's ``planned_ship_by_at`` -> end of its local day."""
    lines = typed.get("order_lines")
    if lines is None or "ship_by_is_date" not in lines.columns:
        return
    m = lines["ship_by_is_date"].to_numpy(bool) & lines[SHIP_BY_COLUMN].notna().to_numpy()
    if not m.any():
        return
    zone = _zone_of_lines(lines, typed, node_first=True)[m]
    ts = lines.loc[m, SHIP_BY_COLUMN]
    days = pd.Series(pd.NaT, index=ts.index, dtype="datetime64[ns]")
    zones = zone.where(zone.notna(), "UTC").astype(str)
    for z in zones.unique():
        zm = zones.eq(z).to_numpy()
        tz = z if _is_zone(z) else "UTC"
        days[zm] = ts[zm].dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    lines.loc[m, SHIP_BY_COLUMN] = end_of_day(days, zone)
