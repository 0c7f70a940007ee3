"""Baseline forecasts for data that has none: a rolling-origin backtest (issue 4, item 5).

``backtest(ds, method="ets", lag=1, granularity="week")`` returns a ``forecasts`` table
(the data model's) built from the demand history alone, so forecast bias and accuracy (D1-D8) can be
measured on any order history. For target period ``T`` the forecast is made at
``forecast_made_at = start(T) − lag periods`` from the demand of periods that **ended by
then** (periods ``≤ T − lag − 1``): nothing later is ever read.

Methods, per (sku, node) series (demand as in the forecast KPIs, nodes as in ``forecast_cells``):

- ``"ets"``: simple exponential smoothing, ETS(A,N,N). The smoothing weight α is fitted on
  the series' *training window* (its first ``min_train`` periods, all before its first
  forecast origin) by least squares of the one-step errors, over a grid of α values for all
  series at once; the level is then updated period by period, so every forecast uses only
  data known at its origin. A series with a shorter history falls back to
  ``"seasonal_naive"``.
- ``"ets_statsmodels"``: the same model with α fitted per series by statsmodels'
  ``SimpleExpSmoothing`` (exact optimiser, about 50 ms a series: for small data or checks;
  tests hold the two within a small tolerance).
- ``"seasonal_naive"``: the demand one season before the target (52 weeks, 12 months, 7 days)
  when that period was known at the origin; otherwise the last known period (naive).
- ``"naive"``: the last known period.

Forecasts are clipped at 0. ``forecast_version`` records the method actually used.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from kpilib.fact_tables.classes import demand_lines
from kpilib.fact_tables.forecast_cells import UNASSIGNED, _line_nodes, period_floor, shift

METHODS = ("ets", "ets_statsmodels", "seasonal_naive", "naive")
ALPHA_GRID = np.linspace(0.01, 0.99, 99)
SEASON = {"week": 52, "month": 12, "day": 7}


def demand_matrix(ds, granularity: str = "week", by_node: bool = True) -> pd.DataFrame:
    """(sku, node) × period-start matrix of demand over complete periods; NaN before a
    series' first demand, 0 for periods without demand after it."""
    from kpilib.engine import make_context

    ctx = make_context(ds)
    lines = demand_lines(ctx)
    node = _line_nodes(ctx, lines) if by_node else pd.Series(UNASSIGNED, index=lines.index)
    lines = lines.assign(node=node, target=period_floor(lines["created_at"], granularity))
    last = period_floor(pd.Series([ctx.as_of]), granularity).iloc[0]
    if shift(last, granularity, 1) > ctx.as_of.tz_localize(None):
        last = shift(last, granularity, -1)  # the current period is not complete
    lines = lines.loc[lines["target"] <= last]
    m = lines.groupby(["sku", "node", "target"])["qty_ordered"].sum().unstack("target")
    if m.empty:
        return m
    cols = pd.date_range(m.columns.min(), last,
                         freq={"week": "W-MON", "month": "MS", "day": "D"}[granularity])
    m = m.reindex(columns=cols.rename("target"))
    started = m.notna().cumsum(axis=1) > 0
    return m.fillna(0.0).where(started)


def _fit_alpha(series: np.ndarray) -> float:
    """α of SimpleExpSmoothing fitted by statsmodels on one training window."""
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if np.allclose(series, series[0]):
            return 0.5  # flat history: any α gives the same level
        fit = SimpleExpSmoothing(series, initialization_method="estimated").fit()
    return float(fit.params["smoothing_level"])


def fit_alpha_grid(train: np.ndarray) -> np.ndarray:
    """Per row of ``train`` (series × periods, no NaN), the α of ALPHA_GRID minimising the
    sum of squared one-step errors of SES started at the first observation."""
    sse = np.zeros((train.shape[0], ALPHA_GRID.size))
    for k, a in enumerate(ALPHA_GRID):
        level = train[:, 0].copy()
        for j in range(1, train.shape[1]):
            err = train[:, j] - level
            sse[:, k] += err * err
            level = level + a * err
    return ALPHA_GRID[np.argmin(sse, axis=1)]


def _ses_levels(y: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Level after each period (NaN before the series starts), vectorised over series."""
    levels = np.full_like(y, np.nan)
    level = np.full(y.shape[0], np.nan)
    for j in range(y.shape[1]):
        obs = y[:, j]
        level = np.where(np.isnan(level), obs, alpha * obs + (1 - alpha) * level)
        level = np.where(np.isnan(obs), np.nan, level)
        levels[:, j] = level
    return levels


def backtest(ds, method: str = "ets", lag: int = 1, granularity: str = "week",
             min_train: int = 13, by_node: bool = True) -> pd.DataFrame:
    """Rolling-origin forecasts of every complete period, as a ``forecasts`` table.

    Parameters
    ----------
    ds : Dataset with orders and order_lines.
    method : "ets", "ets_statsmodels", "seasonal_naive" or "naive" (see module doc).
    lag : periods between the forecast and its target period (as the D-domain lag rule).
    granularity : "day", "week" or "month".
    min_train : periods of history an ETS series needs before its first origin.
    by_node : forecast per (sku, node); False forecasts per sku at node ``UNASSIGNED``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if granularity not in SEASON or lag < 0:
        raise ValueError(f"granularity must be day/week/month and lag >= 0; got "
                         f"{granularity!r}, {lag}")
    m = demand_matrix(ds, granularity, by_node)
    if m.empty:
        return _empty()
    y = m.to_numpy(dtype=float)
    h = lag + 1  # the latest known period is h periods before the target
    known = np.full_like(y, np.nan)
    known[:, h:] = y[:, :-h]  # known[:, j] = demand of period j - h
    season = SEASON[granularity]
    seasonal = np.full_like(y, np.nan)
    if y.shape[1] > season and season >= h:
        seasonal[:, season:] = y[:, :-season]
    naive_fc = np.where(np.isnan(seasonal), known, seasonal)
    if method == "naive":
        forecast, version = known, np.full(y.shape, "naive", dtype=object)
    else:
        forecast = naive_fc
        version = np.where(np.isnan(seasonal), "naive", "seasonal_naive").astype(object)
    if method in ("ets", "ets_statsmodels"):
        first = np.argmax(~np.isnan(y), axis=1)
        long = (y.shape[1] - first) > min_train + h
        alpha = np.full(y.shape[0], np.nan)
        rows = np.flatnonzero(long)
        if method == "ets_statsmodels":
            for i in rows:
                alpha[i] = _fit_alpha(y[i, first[i]:first[i] + min_train])
        elif len(rows):
            idx = first[rows, None] + np.arange(min_train)[None, :]
            alpha[rows] = fit_alpha_grid(y[rows[:, None], idx])
        levels = np.full_like(y, np.nan)
        levels[:, h:] = _ses_levels(y, np.nan_to_num(alpha, nan=0.5))[:, :-h]
        cols = np.arange(y.shape[1])[None, :]
        use_ets = long[:, None] & (cols >= (first + min_train + h)[:, None])
        forecast = np.where(use_ets, levels, forecast)
        version = np.where(use_ets, method, version)
    out = pd.DataFrame(forecast, index=m.index, columns=m.columns).stack().rename(
        "qty_forecast").reset_index()
    ver = pd.DataFrame(version, index=m.index, columns=m.columns).stack().rename("v")
    out = out.merge(ver.reset_index(), on=["sku", "node", "target"])
    out = out.loc[out["qty_forecast"].notna()]
    target = out["target"]
    return pd.DataFrame({
        "sku": out["sku"].to_numpy(),
        "node_id": out["node"].to_numpy(),
        "target_period_start": target.to_numpy(),
        "period_granularity": granularity,
        "forecast_made_at": shift(target, granularity, -lag).dt.tz_localize("UTC").to_numpy(),
        "qty_forecast": out["qty_forecast"].clip(lower=0).round(4).to_numpy(),
        "forecast_version": ("backtest:" + out["v"]).to_numpy(),
    }).sort_values(["sku", "node_id", "target_period_start"]).reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"sku": pd.Series(dtype=object), "node_id": pd.Series(dtype=object),
                         "target_period_start": pd.Series(dtype="datetime64[ns]"),
                         "period_granularity": pd.Series(dtype=object),
                         "forecast_made_at": pd.Series(dtype="datetime64[ns, UTC]"),
                         "qty_forecast": pd.Series(dtype=float),
                         "forecast_version": pd.Series(dtype=object)})


def with_backtest(ds, **kwargs):
    """The dataset with its ``forecasts`` table replaced by :func:`backtest` output."""
    return ds.replace(forecasts=backtest(ds, **kwargs))
