"""Risk factors in words: ``phrase(feature, value)`` -> "3 failed allocations".

One phrase per feature of both risk models (:mod:`kpilib.risk.features` at release,
:mod:`kpilib.risk.snapshots` at a refresh); a feature without one reads ``name=value``.
Counts read as integers (singular for 1), shares as percentages, hours to one decimal below
10 and whole above.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np


def _n(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.3g}"


def _h(v: float) -> str:
    return f"{v:.1f}" if abs(v) < 10 else f"{v:.0f}"


def _pct(v: float) -> str:
    return f"{v:.0%}"


# feature -> (format of the value, phrase with {v}; a count of 1 drops the plural "s" of
# the word after it: "1 failed allocation")
PHRASES: dict[str, tuple[Any, str]] = {
    "channel": (str, "channel {v}"),
    "order_type": (str, "{v} order"),
    "release_dow": (str, "released on day {v} of the week"),
    "released": (None, ""),  # see phrase()
    "release_hour": (_n, "released at {v}:00"),
    "hours_created_to_release": (_h, "{v} h from order to release"),
    "hours_left": (_h, "{v} h left"),
    "hours_open": (_h, "open {v} h"),
    "hours_since_release": (_h, "{v} h since release"),
    "hours_left_unreleased": (_h, "{v} h left, not released"),
    "promised_lead_hours": (_h, "promised within {v} h"),
    "slack_hours": (_h, "{v} h of slack at release"),
    "lines": (_n, "{v} lines"),
    "units": (_n, "{v} units"),
    "lines_done_share": (_pct, "{v} of lines done"),
    "alloc_attempts": (_n, "{v} allocation attempts"),
    "alloc_failures": (_n, "{v} failed allocations"),
    "holds": (_n, "{v} holds"),
    "holds_open": (_n, "{v} holds open"),
    "backorders": (_n, "{v} backorders"),
    "node_backlog": (_n, "{v} orders waiting at the node"),
    "node_releases_24h": (_n, "{v} releases to the node in 24 h"),
    "node_open_pick_lines": (_n, "{v} open pick lines at the node"),
    "node_open_waves": (_n, "{v} open waves at the node"),
    "node_alloc_fail_rate_24h": (_pct, "{v} of allocations at the node failed in 24 h"),
    "node_late_rate_24h": (_pct, "{v} of the node's orders late in 24 h"),
    "net_orders_24h": (_n, "{v} orders in the network in 24 h"),
    "net_backorders_24h": (_n, "{v} backorders in the network in 24 h"),
    "net_alloc_fail_rate_24h": (_pct, "{v} of allocations failed in 24 h"),
    "net_late_rate_24h": (_pct, "{v} of orders late in 24 h"),
}


def phrase(feature: str, value: Any) -> str:
    """``feature`` at ``value`` in words ("3 failed allocations", "at node DC-1")."""
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return f"{feature.replace('_', ' ')} unknown"
    if feature == "node":
        return "not yet released to a node" if value == "unreleased" else f"at node {value}"
    if feature == "released":
        return "released" if value else "not released"
    if feature not in PHRASES:
        shown = f"{value:.3g}" if isinstance(value, float | np.floating) else value
        return f"{feature}={shown}"
    fmt, text = PHRASES[feature]
    shown = fmt(value)
    if fmt is _n and shown == "1":
        text = re.sub(r"\{v\} (\w+ )?(\w+)s\b", r"{v} \1\2", text, count=1)
    return text.format(v=shown)
