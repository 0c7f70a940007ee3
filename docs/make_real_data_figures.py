"""Figures and numbers of docs/real-data.md, from the two imported public datasets.

Usage (from the repository root)::

    kpilib import olist $KPILIB_REAL_DATA/olist-brazilian-ecommerce-sample15k --out /tmp/olist_ds
    kpilib import online-retail $KPILIB_REAL_DATA/uci-online-retail --out /tmp/or_ds
    .venv/bin/python docs/make_real_data_figures.py --olist /tmp/olist_ds --retail /tmp/or_ds

Writes docs/img/real_olist_delivery.png and docs/img/real_retail_forecast.png (each well under
200 KB) and prints every number the document quotes, so the text can be checked against a
fresh import.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import kpilib  # noqa: E402
from kpilib.plotting import BAND_COLOURS, LINE, set_style  # noqa: E402

IMG = Path(__file__).with_name("img")
# Olist's sample thins out after August 2018 (a handful of orders a week): figures stop there.
OLIST_RANGE = ("2017-01-01", "2018-09-01")


def olist_numbers(ds) -> pd.DataFrame:
    ids = ["on_time_delivery_rate", "in_full_rate", "on_time_shipment_rate",
           "order_release_time_hours", "order_cycle_time_hours", "split_shipment_rate",
           "cancellation_rate_pre_ship", "merchant_cancellation_rate_pre_ship",
           "open_order_age_hours"]
    res = kpilib.compute(ds, ids)
    units = kpilib.facts(ds, "commit_units")
    delivered = units.loc[units["last_delivery_at"].notna() & units["excluded"].isna()]
    print(f"olist: delivered commit units {len(delivered)}, late among them "
          f"{(~delivered['on_time']).sum()} = {(~delivered['on_time']).mean():.4f}")
    return res[["kpi", "value", "numerator", "denominator", "n", "p50", "p90", "status"]]


def olist_figure(ds, path: Path) -> None:
    start, end = OLIST_RANGE
    res = kpilib.compute(ds, ["on_time_delivery_rate", "order_cycle_time_hours"], freq="M",
                         start=start, end=end, tz="America/Sao_Paulo")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.2))
    ot = res.loc[res["kpi"] == "on_time_delivery_rate"]
    left.plot(ot["period"].dt.tz_localize(None), ot["value"], color=LINE, marker="o", ms=3)
    left.set_title("On-time delivery vs. estimate (A3)")
    left.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    left.set_ylabel("by deadline month")
    ct = res.loc[res["kpi"] == "order_cycle_time_hours"]
    x = ct["period"].dt.tz_localize(None)
    right.plot(x, ct["p50"] / 24, color=LINE, marker="o", ms=3, label="p50")
    right.plot(x, ct["p90"] / 24, color=BAND_COLOURS["critical"], marker="o", ms=3,
               label="p90")
    right.set_title("Order cycle time (A11), days")
    right.set_ylabel("by delivery month")
    right.legend(loc="upper left")
    for ax in (left, right):
        ax.tick_params(axis="x", labelrotation=45)
    fig.suptitle("Olist sample, monthly, 2017-01 to 2018-08", fontsize=10, y=1.03)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def retail_numbers(ds) -> pd.DataFrame:
    ids = ["forecast_wape", "forecast_bias_ratio", "normalized_forecast_bias",
           "tracking_signal"]
    total = kpilib.compute(ds, ids).assign(abc_class="all")
    by_abc = kpilib.compute(ds, ids, by=["abc_class"])
    per_sku = kpilib.compute(ds, ["tracking_signal"], by=["sku"])
    ok = per_sku.loc[per_sku["status"] == "ok", "value"]
    print(f"retail: SKUs with a tracking signal {len(ok)}, |TS| > 4: {(ok.abs() > 4).sum()} "
          f"({(ok.abs() > 4).mean():.3f}); TS > 4 {(ok > 4).sum()}, TS < -4 {(ok < -4).sum()}")
    cols = ["kpi", "abc_class", "value", "numerator", "denominator", "n", "status"]
    return pd.concat([total, by_abc], ignore_index=True)[cols]


def retail_figure(ds, path: Path) -> None:
    cells = kpilib.facts(ds, "forecast_cells")
    cells = cells.loc[~cells["missing_forecast"] & cells["complete"]]
    weekly = cells.groupby("target_start")[["actual", "forecast"]].sum()
    # from 2011: December 2010 holds the first, naive forecasts and the Christmas closure
    bias = kpilib.compute(ds, ["forecast_bias_ratio"], by=["abc_class"], freq="M",
                          start="2011-01-01", tz="Europe/London")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.2))
    x = weekly.index.tz_localize(None)
    left.plot(x, weekly["actual"] / 1000, color="#5f6368", label="actual demand")
    left.plot(x, weekly["forecast"] / 1000, color=LINE, label="backtest forecast (ETS, lag 1)")
    left.set_title("Weekly units, all SKUs (thousands)")
    left.legend(loc="upper left", fontsize=8)
    colours = {"A": BAND_COLOURS["critical"], "B": BAND_COLOURS["stressed"],
               "C": BAND_COLOURS["normal"]}
    for cls, grp in bias.groupby("abc_class"):
        right.plot(grp["period"].dt.tz_localize(None), grp["value"], marker="o", ms=3,
                   color=colours.get(cls, LINE), label=f"class {cls}")
    right.axhline(0, color="black", lw=0.8)
    right.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    right.set_title("Forecast bias ΣF/ΣA − 1 (D6), monthly, by ABC")
    right.legend(loc="lower left", fontsize=8)
    for ax in (left, right):
        ax.tick_params(axis="x", labelrotation=45)
    fig.suptitle("UCI Online Retail, baseline backtest forecasts", fontsize=10, y=1.03)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--olist", type=Path, required=True, help="imported Olist dataset")
    parser.add_argument("--retail", type=Path, required=True, help="imported Online Retail")
    args = parser.parse_args()
    set_style()
    IMG.mkdir(exist_ok=True)
    pd.set_option("display.width", 200)
    olist = kpilib.load_dataset(args.olist)
    print(olist_numbers(olist).to_string())
    olist_figure(olist, IMG / "real_olist_delivery.png")
    retail = kpilib.load_dataset(args.retail)
    print(retail_numbers(retail).to_string())
    retail_figure(retail, IMG / "real_retail_forecast.png")
    for png in sorted(IMG.glob("real_*.png")):
        print(f"{png}: {png.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
