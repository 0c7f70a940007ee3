"""Hand-built result frames (api.md result shape) for the band and alert tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

# XmR reference baseline used across tests: 12 points alternating 0.90 / 0.92.
#   CL  = 0.91;  MR_i = 0.02 for all 11 ranges  -> MR̄ = 0.02
#   σ̂   = 0.02 / 1.128 = 0.017730
#   LCL = 0.91 - 2.66*0.02 = 0.8568   UCL = 0.91 + 2.66*0.02 = 0.9632
#   2σ lines: 0.91 ± 0.035461 -> 0.874539 / 0.945461
#   1σ lines: 0.91 ± 0.017730 -> 0.892270 / 0.927730
#   MR UCL = 3.268*0.02 = 0.06536
BASELINE = [0.90, 0.92] * 6

CFG12 = {"defaults": {"baseline_k": 12, "hysteresis": 0}}


def series(
    values,
    kpi: str = "perfect_order_rate",
    *,
    unit: str = "fraction",
    denominator=100.0,
    status=None,
    start: str = "2024-01-01",
    **dims,
) -> pd.DataFrame:
    """One weekly series of a KPI; ``denominator`` and ``status`` may be scalars or lists."""
    n = len(values)
    den = np.broadcast_to(np.asarray(denominator, dtype=float), (n,)).copy()
    value = np.asarray(values, dtype=float)
    frame = pd.DataFrame({
        "kpi": kpi,
        "period": pd.date_range(start, periods=n, freq="W-MON", tz="UTC"),
        **{k: v for k, v in dims.items()},
        "value": value,
        "numerator": value * den,
        "denominator": den,
        "n": den,
        "p50": np.nan,
        "p90": np.nan,
        "status": status if status is not None else "ok",
        "unit": unit,
    })
    return frame
