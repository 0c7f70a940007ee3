"""Shared simulation state: seeded RNG, the clock and small vectorised helpers.

Internal time is float hours since ``start`` (UTC midnight). ``NaN`` = the event did not
happen. The generator simulates past the horizon and later masks every timestamp after
``t_end`` (= ``days * 24``): what had not happened by then is pending in the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpilib.synth.params import Scenario

NODES = ("DC-1", "DC-2", "DS-1")  # DC-1 primary owned DC, DC-2 secondary 3PL, DS-1 dropship
DC_NODES = 2  # the first two nodes hold inventory
PAD_DAYS = 30  # simulate this far past the horizon so late events exist (then get masked)


@dataclass
class SimState:
    """The run's clock, RNG and the artefacts each stage hands to the next."""

    scenario: Scenario
    seed: int
    start: pd.Timestamp
    days: int
    scale: float
    rng: np.random.Generator = field(init=False)
    truth: dict = field(default_factory=dict)
    art: dict = field(default_factory=dict)  # stage outputs (dicts of numpy arrays)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(np.random.SeedSequence([int(self.seed), 20240101]))

    @property
    def t_end(self) -> float:
        """Horizon in hours: data are "as of" start + days."""
        return float(self.days * 24)

    @property
    def sim_days(self) -> int:
        return self.days + PAD_DAYS


def to_ts(hours: np.ndarray, start: pd.Timestamp) -> pd.DatetimeIndex:
    """Hours since start -> tz-aware UTC timestamps, rounded to whole seconds (NaN -> NaT)."""
    h = np.asarray(hours, dtype="float64")
    nan = np.isnan(h)
    secs = np.where(nan, 0.0, np.round(h * 3600.0)).astype(np.int64)
    arr = (secs * 10**9 + start.value).view("datetime64[ns]").copy()
    arr[nan] = np.datetime64("NaT")
    return pd.DatetimeIndex(arr).tz_localize("UTC")


def ids(prefix: str, n: int, width: int = 7, offset: int = 0) -> np.ndarray:
    """Stable string ids ``prefix`` + zero-padded counter."""
    nums = np.arange(offset, offset + n).astype(str)
    return np.char.add(prefix, np.char.zfill(nums, width)).astype(object)


def group_cumsum(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` within runs of equal ``keys`` (keys must be sorted)."""
    c = np.cumsum(values)
    if len(c) == 0:
        return c
    starts = np.r_[True, keys[1:] != keys[:-1]]
    first_idx = np.flatnonzero(starts)
    offsets = np.repeat(c[first_idx] - values[first_idx], np.diff(np.r_[first_idx, len(keys)]))
    return c - offsets


def rank_in_group(keys: np.ndarray) -> np.ndarray:
    """0-based position of each row inside its run of equal ``keys`` (keys must be sorted)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[True, keys[1:] != keys[:-1]]
    first_idx = np.flatnonzero(starts)
    return np.arange(n) - np.repeat(first_idx, np.diff(np.r_[first_idx, n]))


def next_time_of_day(t: np.ndarray, hour: float) -> np.ndarray:
    """Earliest time >= t whose hour of day (UTC) equals ``hour``."""
    day = np.floor(t / 24.0)
    cand = day * 24.0 + hour
    return np.where(cand >= t, cand, cand + 24.0)
