"""Alert records from banded results: one row per stressed/critical series (latest period).

Columns (``ALERT_COLUMNS``): ``alert_key`` (kpi + segment, stable across runs), ``alert_id``
(short hash of the key), ``kpi``, ``segment`` ("channel=web, node=DC1"; "" for the total),
``period``, ``band``, ``signals``, ``value`` (the banded value, e.g. the p90 of a duration),
``metric``, ``unit``, ``owner_role``, ``reason`` (one sentence), ``run_id``, ``as_of``,
``event`` and ``state``.

Only rows with ``alertable`` true raise alerts (status ``ok``, or preliminary when
``alert_on_preliminary``): a value that may still change raises no alert by default.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from kpilib.bands.apply import series_dims
from kpilib.bands.calendar import phrase
from kpilib.bands.registry import kpi_name
from kpilib.roles import load_roles_config

ALERT_COLUMNS = (
    "alert_key", "alert_id", "kpi", "segment", "period", "band", "signals", "value", "metric",
    "unit", "owner_role", "reason", "run_id", "as_of", "event", "state",
)

_SIGNAL_TEXT = {
    "rule1_beyond_3sigma": "beyond the 3σ {side} limit {limit}",
    "mr_above_ucl": "after a jump larger than the moving-range limit",
    "rule2_2of3_beyond_2sigma": "2 of the last 3 periods beyond 2σ {rel} the centre line {cl}",
    "rule3_4of5_beyond_1sigma": "4 of the last 5 periods beyond 1σ {rel} the centre line {cl}",
    "pchart_beyond_3sigma": "beyond the p-chart 3σ {side} limit {limit}",
    "pchart_beyond_2sigma": "beyond the p-chart 2σ {side} limit",
    "fixed_critical_low": "below its critical target",
    "fixed_critical_high": "above its critical target",
    "fixed_stressed_low": "below its target",
    "fixed_stressed_high": "above its target",
    "hysteresis_hold": "still held critical until it stays better for consecutive periods",
    "window_rule1_beyond_3sigma": "beyond the limits of its past periods of that kind",
    "window_pchart_beyond_3sigma": "beyond the p-chart limits of its past periods of that kind",
    "window_fixed_critical_low": "below the window's critical target",
    "window_fixed_critical_high": "above the window's critical target",
    "window_fixed_stressed_low": "below the window's target",
    "window_fixed_stressed_high": "above the window's target",
}


def fmt_value(x: float, unit: str | None) -> str:
    """Rates as percentages (one decimal), hours/days with their unit, others 2 decimals."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "n/a"
    if unit == "fraction":
        return f"{x:.1%}"
    if unit in ("hours", "days"):
        return f"{x:.1f} {'h' if unit == 'hours' else 'days'}"
    return f"{x:,.2f}"


def segment_label(row: pd.Series, dims: list[str]) -> str:
    """``dim=value`` pairs joined by ", " (missing values skipped)."""
    return ", ".join(f"{d}={row[d]}" for d in dims if pd.notna(row[d]))


def _period_phrase(period: Any, step_days: float | None) -> str:
    if period is None or pd.isna(period):
        return "over the whole range"
    day = pd.Timestamp(period).strftime("%Y-%m-%d")
    if step_days is None:
        return f"in the period starting {day}"
    if step_days <= 1.5:
        return f"on {day}"
    if step_days <= 8:
        return f"in week of {day}"
    if step_days <= 32:
        return f"in month of {pd.Timestamp(period).strftime('%Y-%m')}"
    return f"in the quarter starting {day}"


def _cause(signals: str, value: float, row: pd.Series, unit: str | None) -> str:
    below = value < row.get("cl", np.nan) if pd.notna(row.get("cl", np.nan)) else False
    fill = {
        "side": "lower" if below else "upper",
        "rel": "below" if below else "above",
        "limit": fmt_value(row.get("lcl") if below else row.get("ucl"), unit),
        "cl": fmt_value(row.get("cl"), unit),
    }
    parts = []
    sigs = [s for s in str(signals).split(";") if s]
    for sig in sorted(sigs, key=lambda s: not s.startswith("window_")):  # window's own first
        if sig.startswith("rule4_run_"):
            parts.append(f"{sig.rsplit('_', 1)[1]} periods in a row {fill['rel']} the centre "
                         f"line {fill['cl']}")
        elif sig in _SIGNAL_TEXT:
            parts.append(_SIGNAL_TEXT[sig].format(**fill))
    return " and ".join(parts[:2]) or "outside its normal band"


def reason_sentence(row: pd.Series, segment: str, step_days: float | None) -> str:
    """E.g. "Perfect order rate 91.2% is critical (beyond the 3σ lower limit 93.0%) for
    channel=web in week of 2024-08-19"; in a calendar window the cause starts with it:
    "(peak season black-friday, within peak limits; beyond the 3σ ...)"."""
    unit = row.get("unit")
    metric = row.get("band_metric", "value")
    value = float(row.get("band_value", row.get("value")))
    name = kpi_name(str(row["kpi"])) + ("" if metric == "value" else f" {metric}")
    where = f"for {segment}" if segment else "overall"
    window = phrase(str(row["signals"]), name=True)  # a declared calendar window, if any
    return (f"{name} {fmt_value(value, unit)} is {row['band']} "
            f"({window + '; ' if window else ''}{_cause(row['signals'], value, row, unit)}) "
            f"{where} "
            f"{_period_phrase(row['period'], step_days)}")


def alert_key(kpi: str, segment: str) -> str:
    """Stable identity of a breach across runs: the KPI and its segment."""
    return f"{kpi}|{segment}"


def alert_id(key: str) -> str:
    """Short stable id of an alert key (sha1, 12 hex digits)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def latest_per_series(banded: pd.DataFrame, dims: list[str] | None = None) -> pd.DataFrame:
    """The latest judged row of each (kpi, segment) series, with ``segment`` and ``alert_key``.

    Rows of the running period (``status == "partial"``) are never judged, so a series' latest
    row is its last complete period.
    """
    dims = series_dims(banded) if dims is None else dims
    if "status" in banded:
        banded = banded.loc[banded["status"].astype(str) != "partial"]
    if banded.empty:
        return banded.assign(segment=pd.Series(dtype=object), alert_key=pd.Series(dtype=object))
    ordered = banded.sort_values(["kpi", "period"], kind="stable", na_position="first")
    last = ordered.groupby(["kpi", *dims], dropna=False, sort=True).tail(1).copy()
    last["segment"] = [segment_label(r, dims) for _, r in last.iterrows()]
    last["alert_key"] = [alert_key(k, s) for k, s in zip(last["kpi"], last["segment"],
                                                         strict=True)]
    return last


def _step_days(banded: pd.DataFrame) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for kpi, g in banded.groupby("kpi"):
        p = pd.Series(pd.to_datetime(g["period"]).dropna().unique()).sort_values()
        d = p.diff().dropna()
        out[str(kpi)] = float(d.min() / pd.Timedelta(days=1)) if len(d) else None
    return out


def from_bands(
    banded: pd.DataFrame,
    roles_config: Any = None,
    run_id: str = "",
    as_of: Any = None,
    *,
    latest_only: bool = True,
) -> pd.DataFrame:
    """Alert records for stressed/critical rows (by default the latest period of each series).

    Parameters
    ----------
    banded : DataFrame
        Output of ``apply_bands``.
    roles_config : RolesConfig, mapping, path or None
        Gives ``owner_role`` per KPI (None: packaged roles.yaml).
    run_id, as_of
        Stamped on every record (``as_of`` default: now, UTC).
    latest_only : bool
        False: every stressed/critical period, not only the latest.
    """
    roles = load_roles_config(roles_config)
    as_of = pd.Timestamp.now(tz="UTC") if as_of is None else pd.Timestamp(as_of)
    dims = series_dims(banded)
    if latest_only:
        rows = latest_per_series(banded, dims)
    else:
        rows = banded.copy()
        rows["segment"] = [segment_label(r, dims) for _, r in rows.iterrows()]
        rows["alert_key"] = [alert_key(k, s) for k, s in zip(rows["kpi"], rows["segment"],
                                                             strict=True)]
    if not rows.empty:
        alertable = (rows["alertable"].astype(bool) if "alertable" in rows
                     else rows.get("status", pd.Series("ok", index=rows.index)) == "ok")
        rows = rows[rows["band"].isin(("stressed", "critical")) & alertable]
    steps = _step_days(banded) if len(rows) else {}
    records = [{
        "alert_key": r["alert_key"], "alert_id": alert_id(r["alert_key"]), "kpi": r["kpi"],
        "segment": r["segment"], "period": r["period"], "band": r["band"],
        "signals": r["signals"], "value": float(r.get("band_value", r["value"])),
        "metric": r.get("band_metric", "value"), "unit": r.get("unit"),
        "owner_role": roles.owner_of(str(r["kpi"])),
        "reason": reason_sentence(r, r["segment"], steps.get(str(r["kpi"]))),
        "run_id": run_id, "as_of": as_of, "event": "opened", "state": "open",
    } for _, r in rows.iterrows()]
    out = pd.DataFrame(records, columns=list(ALERT_COLUMNS))
    return out.sort_values(["kpi", "segment", "period"], kind="stable").reset_index(drop=True)
