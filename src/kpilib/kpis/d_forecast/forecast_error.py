"""Domain D: forecast quality per cell, from ``forecast_cells``.

Every metric is computed on cell errors ``e = A − F`` and then aggregated (errors are never
taken after aggregating, unless a coarser ``error_level`` is declared). Cells whose target
period has not ended by ``as_of`` are pending; cells with no eligible forecast are excluded
and counted as ``missing_forecast``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.forecast_cells import cell_observations, parse_error_level, shift
from kpilib.registry import kpi

TABLES = ("orders", "order_lines", "forecasts")
DIMS = ("node", "sku", "supplier", "product_class", "abc_class", "xyz_class")
PARAMS = ("forecast_lag", "error_level", "missing_forecast_as_zero")
COMMON = dict(domain="forecast", grain="sku-node-period cell", tables=TABLES, dims=DIMS,
              params=PARAMS)


def _cells(ctx: Context) -> pd.DataFrame:
    return cell_observations(ctx)


def _skip_zero_actual(obs: pd.DataFrame) -> pd.DataFrame:
    zero = obs["excluded"].isna() & (obs["actual"] <= 0)
    return obs.assign(excluded=obs["excluded"].where(~zero, "zero_actual"))


@kpi("forecast_mean_error", code="D1", fact="forecast_cells",
     name="Forecast mean error (ME)", unit="units", direction="target",
     kind="mean", **COMMON)
def forecast_mean_error(ctx: Context) -> pd.DataFrame:
    """ME = Σe / n over cells, e = A − F (positive = under-forecast).

    Anchor: the target period's start (the cell counts once the period has ended).

    Population: SKU-node-period cells with a forecast made at least ``forecast_lag`` periods ahead,
    and their actual demand.

    Grain: SKU-node-period cell; anchor = target period start. With no ``by`` it averages
    over every cell in scope. Empty population → undefined.
    """
    obs = _cells(ctx)
    return obs.assign(x=obs["error"])


@kpi("forecast_mpe", code="D2", fact="forecast_cells",
     name="Forecast mean percentage error (MPE)", unit="fraction",
     direction="target", kind="mean", **COMMON)
def forecast_mpe(ctx: Context) -> pd.DataFrame:
    """MPE = (1/n') Σ_{A>0} e / A: a mean of ratios; cells with A = 0 are excluded and counted
    (``zero_actual``), also those with F > 0.

    Anchor: as ``forecast_mean_error``.

    Population: as ``forecast_mean_error``; cells with zero actual demand excluded
    (``zero_actual``).
    """
    obs = _skip_zero_actual(_cells(ctx))
    return obs.assign(x=obs["error"] / obs["actual"].where(obs["actual"] > 0))


@kpi("forecast_mad", code="D3", fact="forecast_cells",
     name="Forecast mean absolute deviation (MAD/MAE)", unit="units",
     direction="lower", kind="mean", **COMMON)
def forecast_mad(ctx: Context) -> pd.DataFrame:
    """MAD = Σ|e| / n over cells. Scale-dependent: compare within a SKU, never across SKUs.

    Anchor: as ``forecast_mean_error``.

    Population: as ``forecast_mean_error``.
    """
    obs = _cells(ctx)
    return obs.assign(x=obs["error"].abs())


@kpi("forecast_mape", code="D4", fact="forecast_cells",
     name="Forecast mean absolute percentage error (MAPE)", unit="fraction",
     direction="lower", kind="mean", **COMMON)
def forecast_mape(ctx: Context) -> pd.DataFrame:
    """MAPE = (1/n') Σ_{A>0} |e| / A: a mean of ratios; A = 0 cells excluded (``zero_actual``).
    Explodes on low volumes; prefer WAPE for headlines.

    Anchor: as ``forecast_mean_error``.

    Population: as ``forecast_mpe``.
    """
    obs = _skip_zero_actual(_cells(ctx))
    return obs.assign(x=obs["error"].abs() / obs["actual"].where(obs["actual"] > 0))


@kpi("forecast_wape", code="D5", fact="forecast_cells",
     name="Forecast weighted absolute percentage error (WAPE)",
     unit="fraction", direction="lower", kind="ratio", **COMMON)
def forecast_wape(ctx: Context) -> pd.DataFrame:
    """WAPE = Σ|e| / ΣA (numerator Σ|e|, denominator ΣA). ΣA = 0 → undefined. May exceed 1.

    Anchor: as ``forecast_mean_error``.

    Population: as ``forecast_mean_error``.
    """
    obs = _cells(ctx)
    return obs.assign(num=obs["error"].abs(), den=obs["actual"])


@kpi("forecast_accuracy", code="D5", fact="forecast_cells",
     name="Forecast accuracy (1 − WAPE)", unit="fraction",
     direction="higher", kind="ratio", **COMMON)
def forecast_accuracy(ctx: Context) -> pd.DataFrame:
    """Accuracy = 1 − WAPE = Σ(A − |e|) / ΣA; not clipped, so it may be negative.

    Anchor: as ``forecast_mean_error``.

    Population: as ``forecast_mean_error``.
    """
    obs = _cells(ctx)
    return obs.assign(num=obs["actual"] - obs["error"].abs(), den=obs["actual"])


@kpi("forecast_bias_ratio", code="D6", fact="forecast_cells",
     name="Forecast bias ratio", unit="fraction", direction="target",
     kind="ratio", **COMMON)
def forecast_bias_ratio(ctx: Context) -> pd.DataFrame:
    """Bias = ΣF / ΣA − 1 = Σ(F − A) / ΣA; positive = over-forecast. ΣA = 0 → undefined.

    Anchor: as ``forecast_mean_error``.

    Population: as ``forecast_mean_error``.
    """
    obs = _cells(ctx)
    return obs.assign(num=obs["forecast"] - obs["actual"], den=obs["actual"])


@kpi("normalized_forecast_bias", code="D7", fact="forecast_cells",
     name="Normalized forecast bias (NFB)", unit="fraction",
     direction="target", kind="ratio", **COMMON)
def normalized_forecast_bias(ctx: Context) -> pd.DataFrame:
    """NFB = Σ(F − A) / Σ(F + A), in [−1, 1]; positive = over-forecast. Cells with F + A = 0
    carry no information and are skipped (counted as ``zero_volume``).

    Anchor: as ``forecast_mean_error``.

    Population: as ``forecast_mean_error``; cells with no forecast and no demand skipped
    (``zero_volume``).
    """
    obs = _cells(ctx)
    zero = obs["excluded"].isna() & ((obs["forecast"] + obs["actual"]) <= 0)
    obs = obs.assign(excluded=obs["excluded"].where(~zero, "zero_volume"))
    return obs.assign(num=obs["forecast"] - obs["actual"], den=obs["forecast"] + obs["actual"])


@kpi("tracking_signal", code="D8", fact="forecast_cells",
     name="Tracking signal", unit="MADs", direction="target",
     kind="custom", snapshot=True, domain="forecast", grain="sku-node-period cell",
     tables=TABLES, dims=DIMS, params=(*PARAMS, "ts_window", "ts_limit"))
def tracking_signal(ctx: Context) -> pd.DataFrame:
    """TS = Σ_t E_t / MAD over the last k target periods (``ts_window``, default 12), where
    E_t is the forecast error of period t and MAD = Σ_t |E_t| / k' (k' periods present);
    ``TS > +4`` = persistent under-forecasting (``ts_limit``).

    Anchor: snapshot of the last ``ts_window`` target periods at each period end.

    Population: as ``forecast_mean_error``; fewer periods than required give ``insufficient_data``.

    Per SKU-node (``by=["sku", "node"]``) E_t is the cell error, exactly the cell definition.
    Cut by a coarser segment (product class, ABC...) or not cut at all, E_t is the summed
    error of the segment's cells in period t: the tracking signal of the aggregate, so
    |TS| ≤ k still holds and the ±4 limit keeps its meaning (summing cell-level ratios
    across hundreds of SKUs would not). Evaluated at each period end (snapshot) over the k
    most recent target periods that ended by then. ``numerator`` = ΣE, ``denominator`` =
    MAD, ``n`` = periods in the window. Fewer than k periods, or k < 5 (|TS| ≤ k can never
    breach ±4) → ``insufficient_data``; MAD = 0 → undefined.
    """
    k = int(ctx.param("ts_window"))
    _, gran = parse_error_level(ctx.param("error_level"))
    obs = _cells(ctx)
    obs = obs.loc[obs["excluded"].isna() & obs["complete"]]
    keys = list(ctx.by)
    per_period = obs.groupby([*keys, "target_start"], dropna=False)["error"].sum().reset_index()
    ends = shift(per_period["target_start"].dt.tz_localize(None), gran, 1)
    rows = []
    for period, t in ctx.snapshot_points().itertuples(index=False):
        ended = per_period.loc[ends <= t.tz_convert("UTC").tz_localize(None)]
        recent = np.sort(ended["target_start"].unique())[-k:]
        win = ended.loc[ended["target_start"].isin(recent)]
        win = win.assign(abs_e=win["error"].abs(), one=1)
        if keys:
            agg = win.groupby(keys, dropna=False).agg(
                sum_e=("error", "sum"), sum_abs=("abs_e", "sum"), n=("one", "sum")).reset_index()
        else:
            agg = pd.DataFrame({"sum_e": [win["error"].sum()], "sum_abs": [win["abs_e"].sum()],
                                "n": [len(win)]})
        rows.append(agg.assign(period=period))
    out = pd.concat(rows, ignore_index=True)
    mad = out["sum_abs"] / out["n"].where(out["n"] > 0)
    out["insufficient"] = (out["n"] < k) | (k < 5)
    out["value"] = out["sum_e"] / mad.where(mad > 0)
    out["numerator"], out["denominator"] = out["sum_e"], mad
    return out[["period", *keys, "value", "numerator", "denominator", "n", "insufficient"]]
