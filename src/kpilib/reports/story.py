"""One band story per KPI series, told the same way on the card, the finding, the chart and the
alerts list.

``tell(series, row, ...)`` reads one banded series (a KPI, one segment) and its headline row
(last complete period) and returns a ``Story``:

- ``state``: ``critical`` / ``stressed`` / ``normal`` / ``no band``; when hysteresis holds a
  recovered KPI critical: ``critical, recovering: 1 of 2 periods back within limits``; in a
  declared calendar window: ``stressed (peak season, within peak limits)``
  (``kpilib.bands.calendar.describe``);
- ``why``: the rule that fired in plain words ("outside its usual range (70.1% to 79.9%)");
- ``since``: the first period of the current stressed/critical run;
- ``target``: ``"in control but 17.0 pp below target 99.7%"`` or ``"8.4 pp below target"``;
- ``alerted``: True when the row raises an alert (final value, stressed or critical); a
  preliminary value is said to be preliminary and not alerted yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpilib.bands.calendar import KINDS, describe, window_tag
from kpilib.bands.targets import Target, gap
from kpilib.reports import units

BAD = ("stressed", "critical")
JUDGED = ("normal", *BAD)  # bands that are a judgement (else: no band)


def state_detail(state: str, band: str) -> str:
    """What a band story adds to its band word: ``recovering: 1 of 2 periods back within
    limits`` of ``critical, recovering: ...``, ``peak season, within peak limits`` of
    ``stressed (peak season, within peak limits)``; "" when it adds nothing."""
    if not state.startswith(band):
        return state
    rest = state[len(band):].strip().removeprefix(",").strip()
    return rest[1:-1] if rest.startswith("(") and rest.endswith(")") else rest


@dataclass(frozen=True)
class Story:
    state: str
    why: str
    since: object
    target: str
    alerted: bool


def _limits_text(row: pd.Series, unit: str, currency: str) -> str:
    lo, hi = row.get("lcl", np.nan), row.get("ucl", np.nan)
    if pd.notna(lo) and pd.notna(hi):
        return f" ({units.fmt(lo, unit, currency)} to {units.fmt(hi, unit, currency)})"
    return ""


def why(row: pd.Series, currency: str = "") -> str:
    """The band's reason in plain words, from the row's ``signals``."""
    sig = sorted((s for s in str(row.get("signals") or "").split(";") if s),
                 key=lambda s: not s.startswith("window_"))  # a window's own limits first
    unit = str(row.get("unit", ""))
    value, cl = row.get("band_value", row.get("value")), row.get("cl", np.nan)
    rel = "below" if pd.notna(cl) and pd.notna(value) and value < cl else "above"
    usual = f" ({units.fmt(cl, unit, currency)})" if pd.notna(cl) else ""
    level = "the usual level\0"  # the usual level's value is said once, at its first mention
    tag = window_tag(row.get("signals"))
    words, short = KINDS.get(tag[0], ("window", "window")) if tag else ("", "")
    parts = []
    for s in sig:
        if s in ("rule1_beyond_3sigma", "pchart_beyond_3sigma"):
            parts.append("outside its usual range" + _limits_text(row, unit, currency))
        elif s in ("rule2_2of3_beyond_2sigma", "rule3_4of5_beyond_1sigma",
                   "pchart_beyond_2sigma"):
            parts.append(f"recent periods well {rel} {level}")
        elif s.startswith("rule4_run_"):
            parts.append(f"{s.rsplit('_', 1)[1]} periods in a row {rel} {level}")
        elif s == "mr_above_ucl":
            parts.append("an unusually large jump from the period before")
        elif s.startswith("fixed_critical") or s.startswith("fixed_stressed"):
            parts.append(f"{'below' if s.endswith('low') else 'above'} its fixed threshold")
        elif s in ("window_rule1_beyond_3sigma", "window_pchart_beyond_3sigma"):
            parts.append(f"outside the range of its past {words} periods")
        elif s.startswith("window_fixed_"):
            parts.append(f"{'below' if s.endswith('low') else 'above'} its {short} threshold")
    return "; ".join(dict.fromkeys(parts[:2])).replace("\0", usual, 1).replace("\0", "")


def _held(series: pd.DataFrame) -> int:
    """Periods at the end of ``series`` kept critical by hysteresis (already back in limits)."""
    n = 0
    for sig in reversed(list(series["signals"].astype(str))):
        if "hysteresis_hold" not in sig:
            break
        n += 1
    return n


def _since(series: pd.DataFrame) -> object:
    since = None
    for _, r in series.iloc[::-1].iterrows():
        if r.get("band") not in BAD:
            break
        since = r["period"]
    return since


def target_text(t: Target | None, value: float, unit: str, direction: str, band: str,
                currency: str = "") -> str:
    """``in control but 17.0 pp below target 99.7%`` (normal band) or ``8.4 pp below target``."""
    g = gap(t, value, direction)
    if t is None or g is None:
        return ""
    goal = (units.fmt(t.target, unit, currency) if t.target is not None else
            f"{units.fmt(t.lower, unit, currency)} to {units.fmt(t.upper, unit, currency)}")
    if g >= 0:
        return f"meets target {goal}"
    size = (units.pp(abs(g)).lstrip("+") if unit in units.RATE_UNITS
            else units.fmt(abs(g), unit, currency))
    if t.target is not None and direction == "target":
        side = "below" if value < t.target else "above"
    elif t.target is not None:
        side = "below" if (direction == "higher") else "above"
    else:
        side = "below" if t.lower is not None and value < t.lower else "above"
    text = f"{size} {side} target {goal}"
    return f"in control but {text}" if band == "normal" else text


def tell(series: pd.DataFrame, row: pd.Series, *, hysteresis: int = 2,
         target: Target | None = None, currency: str = "") -> Story:
    """The story of one series at its headline row (see module docstring)."""
    band = str(row.get("band") or "no band")
    done = series[series["period"] <= row["period"]] if len(series) else series
    state = band.replace("_", " ") if band in (*BAD, "normal") else "no band"
    state = describe(band, str(row.get("signals") or "")) or state
    reason = why(row, currency) if band in BAD else ""
    held = _held(done) if band == "critical" and len(done) else 0
    if held:
        state = f"critical, recovering: {held} of {hysteresis} periods back within limits"
        first = done.iloc[len(done) - held - 1] if len(done) > held else row
        first_why = why(first, currency)
        reason = f"held after it was {first_why}" if first_why else reason
    prelim = row.get("status") == "preliminary"
    alerted = band in BAD and bool(row.get("alertable", not prelim))
    value = row.get("band_value", row.get("value"))
    value = float(value) if value is not None and pd.notna(value) else None
    return Story(state=state, why=reason, since=_since(done) if band in BAD else None,
                 target=target_text(target, value, str(row.get("unit", "")),
                                    str(row.get("direction", "")), band, currency),
                 alerted=alerted)
