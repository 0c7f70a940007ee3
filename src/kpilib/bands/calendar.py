"""Declared calendar windows (peak seasons, disruptions, returns surges) in a bands file.

A window ``{name, kind, start, end}`` (``[start, end)``, dates or timestamps; optional ``kpis``
restricting it, optional ``fixed`` targets of its own) marks periods that are expected to be
unusual. ``parse_calendar`` checks the ``calendar:`` list of a bands file; ``assign`` finds the
window of each period (a period ``[p, p + freq)`` belongs to a window it overlaps); ``describe``
words a banded window period the same way in notes, stories and alerts, e.g.
``stressed (peak season, within peak limits)``. How window periods are banded:
:mod:`kpilib.bands.windows` (docs/banding.md, "Calendar windows").

Naive dates and times are read as wall-clock time in the periods' own time zone.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpilib.configfile import check_kpi_id, reject_unknown_keys
from kpilib.errors import ConfigError

# kind -> (words, the word before "limits")
KINDS = {
    "peak_season": ("peak season", "peak"),
    "carrier_disruption": ("carrier disruption", "disruption"),
    "supplier_disruption": ("supplier disruption", "disruption"),
    "returns_surge": ("returns surge", "surge"),
}
WINDOW_KEYS = frozenset({"name", "kind", "start", "end", "kpis", "fixed"})
TAG = "window:"  # signal ``window:<kind>:<name>`` on every banded period of a window
NO_LIMITS = "window_no_limits"
PREFIX = "window_"  # the window's own limits' signals: window_rule1_beyond_3sigma, ...


@dataclass(frozen=True)
class Window:
    """One declared window: ``[start, end)``; ``kpis`` None = every KPI; ``fixed`` raw targets."""

    name: str
    kind: str
    start: pd.Timestamp
    end: pd.Timestamp
    kpis: frozenset[str] | None = None
    fixed: Mapping[str, Any] | None = None

    def applies_to(self, kpi: str) -> bool:
        return self.kpis is None or kpi in self.kpis


def parse_calendar(raw: Any, path: str, known: frozenset[str]) -> tuple[Window, ...]:
    """Windows of a ``calendar:`` list; ``ConfigError(path, "calendar[i].<key>")`` on a problem.

    Checks: keys, a unique ``name`` without ``;``, ``kind`` (with a did-you-mean), dates,
    ``end > start``, known ``kpis``, ``fixed`` only with ``kpis``, and no two windows that share
    a KPI overlapping in time (a period belongs to one window). ``fixed`` thresholds are checked
    against each KPI's direction by :mod:`kpilib.bands.validate`.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(path, "calendar", "must be a list of windows {name, kind, start, end}")
    out: list[Window] = []
    for i, w in enumerate(raw):
        key = f"calendar[{i}]"
        if not isinstance(w, Mapping):
            raise ConfigError(path, key, "must be a mapping {name, kind, start, end}")
        reject_unknown_keys(w, WINDOW_KEYS, path, key + ".")
        for k in ("name", "kind", "start", "end"):
            if w.get(k) is None:
                raise ConfigError(path, f"{key}.{k}", "missing (a window needs name, kind, "
                                  "start and end)")
        name = str(w["name"]).strip()
        if not name or ";" in name:
            raise ConfigError(path, f"{key}.name", "must be a non-empty name without ';'")
        if name in {o.name for o in out}:
            raise ConfigError(path, f"{key}.name", f"{name!r} is already the name of a window")
        if w["kind"] not in KINDS:
            near = difflib.get_close_matches(str(w["kind"]), list(KINDS), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ConfigError(path, f"{key}.kind", f"{w['kind']!r} is not one of "
                              f"{', '.join(KINDS)}{hint}")
        start, end = (_stamp(w[k], path, f"{key}.{k}") for k in ("start", "end"))
        if _utc(end) <= _utc(start):
            raise ConfigError(path, f"{key}.end", f"{end} must be after start {start} "
                              "(end is exclusive)")
        kpis = _kpis(w.get("kpis"), path, key, known)
        if w.get("fixed") is not None and kpis is None:
            raise ConfigError(path, f"{key}.fixed", "list the KPIs the targets are for in "
                              f"{key}.kpis (thresholds depend on the KPI)")
        win = Window(name, str(w["kind"]), start, end, kpis, w.get("fixed"))
        for j, other in enumerate(out):
            shared = _shared(win, other)
            if shared and _utc(start) < _utc(other.end) and _utc(other.start) < _utc(end):
                raise ConfigError(path, key, f"window {name!r} overlaps calendar[{j}] "
                                  f"({other.name!r}) for {shared}; a period belongs to one "
                                  "window: split them or restrict their kpis")
        out.append(win)
    return tuple(out)


def _stamp(value: Any, path: str, key: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise ConfigError(path, key, f"not a date or timestamp: {value!r}") from err
    if ts is pd.NaT:
        raise ConfigError(path, key, f"not a date or timestamp: {value!r}")
    return ts


def _utc(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _kpis(raw: Any, path: str, key: str, known: frozenset[str]) -> frozenset[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise ConfigError(path, f"{key}.kpis", "must be a non-empty list of KPI ids")
    for kpi in raw:
        check_kpi_id(kpi, known, path, f"{key}.kpis")
    return frozenset(str(k) for k in raw)


def _shared(a: Window, b: Window) -> str:
    if a.kpis is None and b.kpis is None:
        return "every KPI"
    common = (a.kpis or b.kpis) if a.kpis is None or b.kpis is None else a.kpis & b.kpis
    return ", ".join(sorted(common or ()))


def _local(ts: pd.Timestamp, tz: Any) -> pd.Timestamp:
    """``ts`` on the periods' clock: naive = wall time in ``tz``; aware converted to it."""
    if ts.tzinfo is None:
        return ts if tz is None else ts.tz_localize(tz)
    return ts.tz_convert(tz) if tz is not None else ts.tz_convert("UTC").tz_localize(None)


def assign(period: pd.DatetimeIndex, step: pd.DateOffset | None,
           windows: Sequence[Window]) -> np.ndarray:
    """Index into ``windows`` of the (first) window each period overlaps; -1 for none.

    A period ``[p, p + step)`` overlaps ``[start, end)`` when ``p < end`` and
    ``p + step > start``; without ``step`` (one period, ``freq=None``) the period is the
    instant ``p``.
    """
    out = np.full(len(period), -1)
    if not len(windows) or not len(period):
        return out
    stop = period + step if step is not None else None
    for k, w in enumerate(windows):
        start, end = _local(w.start, period.tz), _local(w.end, period.tz)
        hit = (np.asarray(period < end) & (np.asarray(stop > start) if stop is not None
                                           else np.asarray(period >= start)))
        out[(out < 0) & hit] = k
    return out


def window_tag(signals: str) -> tuple[str, str] | None:
    """``(kind, name)`` of the ``window:<kind>:<name>`` signal, or None."""
    for sig in str(signals or "").split(";"):
        if sig.startswith(TAG):
            kind, _, name = sig[len(TAG):].partition(":")
            return kind, name
    return None


def phrase(signals: str, *, name: bool = False) -> str:
    """``peak season, within peak limits`` for a window period's ``signals``; "" outside.

    ``beyond <kind> limits`` when the window's own limits fired, ``no <kind> limits`` when the
    window has none, ``held`` when hysteresis holds it critical; ``name=True`` adds the
    window's name after its kind (``peak season black-friday, ...``).
    """
    tag = window_tag(signals)
    if tag is None:
        return ""
    words, short = KINDS.get(tag[0], (tag[0].replace("_", " "), "window"))
    sigs = str(signals).split(";")
    own = [s for s in sigs if s.startswith(PREFIX) and s != NO_LIMITS]
    if NO_LIMITS in sigs:
        where = f"no {short} limits"
    elif any("critical" in s or "3sigma" in s for s in own):
        where = f"beyond {short} limits"
    else:
        where = f"within {short} limits"
    held = ", held" if "hysteresis_hold" in sigs else ""
    return f"{words} {tag[1]}, {where}{held}" if name else f"{words}, {where}{held}"


def describe(band: str, signals: str) -> str:
    """``stressed (peak season, within peak limits)``; "" outside a window or without a band."""
    text = phrase(signals)
    return f"{band} ({text})" if text and band in ("normal", "stressed", "critical") else ""
