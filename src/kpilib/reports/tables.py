"""Small HTML tables of the inventory report: ageing by node, ABC x XYZ, worst tracking signals.

Each function takes a ``Report``, shows its table (integers as integers, units in the header)
and returns the frame it showed (None when the data has nothing to show, with a one-line note).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kpilib.reports.session import esc, html


def _table(frame: pd.DataFrame, *, corner: str, digits: int = 0, suffix: str = "") -> str:
    head = "".join(f'<th class="num">{esc(c)}</th>' for c in frame.columns)
    body = "".join(
        f"<tr><td>{esc(idx)}</td>" + "".join(
            f'<td class="num">{"n/a" if pd.isna(v) else f"{v:,.{digits}f}{suffix}"}</td>'
            for v in row) + "</tr>"
        for idx, row in zip(frame.index, frame.to_numpy(), strict=True))
    return (f'<div class="k-wrap"><table class="k-table"><thead><tr><th>{esc(corner)}</th>'
            f"{head}</tr></thead><tbody>{body}</tbody></table></div>")


def age_table(rep: Any) -> pd.DataFrame | None:
    """Units on hand by node x FIFO age bucket (days since receipt) at the report's as-of."""
    age = rep.frame(["inventory_age_buckets"], by=["age_bucket", "node"], freq=None,
                    bands=False)
    if "age_bucket" not in age or not age["value"].notna().any():
        html("<p class='k-small'>Ageing buckets are not available for this data.</p>")
        return None
    table = age.pivot_table(index="node", columns="age_bucket", values="value",
                            aggfunc="sum", observed=True)
    table.columns = [f"{c} days" for c in table.columns]
    html(_table(table.round(0), corner="Units on hand by node"))
    return table


def abc_xyz_matrix(rep: Any) -> pd.DataFrame | None:
    """Number of SKUs per ABC (rows) x XYZ (columns) class."""
    classes = rep.facts("sku_classes")
    if classes is None or not len(classes):
        html("<p class='k-small'>ABC / XYZ classes are not available for this data.</p>")
        return None
    matrix = classes.pivot_table(index="abc_class", columns="xyz_class", values="sku",
                                 aggfunc="count", fill_value=0, observed=True)
    matrix.columns = pd.Index([XYZ_WORDS.get(str(c), str(c)) for c in matrix.columns],
                              name="demand class")
    matrix.index = pd.Index([str(i) for i in matrix.index], name="value class")
    html(_table(matrix, corner="SKUs: value class \\ demand class")
         + "<p class='k-small'>no demand: no demand in the last 12 months; too new: fewer "
         "than 6 months with demand, not classified yet.</p>")
    return matrix


XYZ_WORDS = {"N": "no demand", "new": "too new"}


def worst_tracking_signals(rep: Any, n: int = 10) -> pd.DataFrame:
    """The ``n`` SKUs with the largest |tracking signal| over the range (limit ±4 MADs)."""
    ts = rep.frame(["tracking_signal"], by=["sku"], freq=None, bands=False)
    ts = ts.dropna(subset=["value"]) if len(ts) else ts
    if not len(ts):
        html("<p class='k-small'>Tracking signal by SKU is not available for this data.</p>")
        return ts
    worst = (ts.assign(abs_ts=ts["value"].abs())
             .sort_values(["abs_ts", "sku"], ascending=[False, True]).head(n))
    shown = worst.set_index("sku")[["value"]].rename(
        columns={"value": "tracking signal (MADs)"})
    html("<p class='k-small'>Tracking signal = cumulative (actual − forecast) / mean "
         "absolute error: negative when the forecast ran above demand (over-forecast), "
         "beyond ±4 persistently so. The bias ratio (forecast / actual − 1) is positive for "
         "that same over-forecast: the two show one bias with opposite signs.</p>"
         + _table(shown, corner="SKU", digits=2))
    return worst


def percentiles(rep: Any, frame: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """Typical week of duration KPIs: median over periods of the weekly median and p90."""
    from kpilib.reports import units

    got = frame[frame["kpi"].isin(ids) & (frame["status"] != "partial")]
    table = got.groupby("kpi")[["p50", "p90"]].median().reindex(ids)
    table.index = [rep.titles.get(k, k) for k in table.index]
    table.columns = ["median (typical period)", "p90 (typical period)"]
    unit = str(got["unit"].iloc[0]) if len(got) else "hours"
    html(_table(table, corner="Duration", digits=1, suffix=" " + units.SHORT.get(unit, unit)))
    return table


def perfect_order_views(rep: Any, head: pd.DataFrame) -> float:
    """Perfect order as SCOR counts it and as APQC multiplies it, then the component bars."""
    import matplotlib.pyplot as plt

    from kpilib import plotting
    from kpilib.reports import units
    from kpilib.reports.actions import perfect_order_apqc

    scor = head.set_index("kpi")["value"].get("perfect_order_rate")
    apqc = perfect_order_apqc(head)
    html("<p><b>Perfect order, SCOR</b> (orders passing every test at once): "
         f"{esc(units.fmt(scor, 'fraction'))}; <b>APQC</b> (product of the four component "
         f"rates): {esc(units.fmt(apqc, 'fraction'))}. They agree when failures are "
         "independent; SCOR is the higher one when the same orders fail several tests.</p>")
    parts = head[head["kpi"].isin(["on_time_delivery_rate", "in_full_rate",
                                   "documentation_accuracy_rate", "perfect_condition_rate"])]
    if parts["value"].notna().any():
        plotting.driver_bars(parts.set_index("name")["value"],
                             title="Perfect order components (last complete period)",
                             bands=list(parts["band"]))
        plt.show()
    return apqc
