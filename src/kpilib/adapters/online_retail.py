"""UCI Online Retail (dataset 352; UK online wholesaler, 2010-12 to 2011-12) → the contract.

Mapping (every choice, and what stays absent):

- **Time zone.** ``InvoiceDate`` is naive UK local time: read as ``Europe/London``, stored UTC.
- **orders**: one per regular invoice (``InvoiceNo`` not starting with ``C`` or ``A``).
  ``created_at`` = the invoice's earliest ``InvoiceDate``; ``channel`` is derived from
  ``Country``: ``"domestic"`` (United Kingdom) or ``"export"``; ``order_type = "standard"``,
  ``is_test = False``, ``currency = "GBP"``; ``merchandise_amount`` = Σ quantity × price of the
  product lines; ``shipping_amount_charged`` = Σ of the postage lines (``POST``, ``DOT``,
  ``C2``), which are charges, not products.
- **order_lines**: one per product row: ``order_line_id = <InvoiceNo>-<row number in the
  invoice>``, ``sku = StockCode``, ``qty_ordered = Quantity``, ``unit_price = UnitPrice``.
  The source has no delivery promise; ``promised_delivery_at_original`` (NOT NULL) is
  set to the order time as a **placeholder**: no shipments exist, so no KPI reads it
  (A1-A6, B1 report ``unavailable``). ``qty_cancelled_customer`` / ``qty_cancelled_merchant``
  (NOT NULL) are 0 as a placeholder too: the source's cancellations are credit notes not
  linked to a line (set aside below), so the unit cancellation rate (A13 unit variant) reads
  0 on this data and measures nothing (noted in ``ImportResult.notes``).
- **Set aside, counted** (``ImportResult.report``): cancellation invoices (``C…``: credits
  after invoicing, not linked to the invoice they cancel, so they are neither pre-shipment
  cancellations (A13) nor returns of a known line); rows with a negative quantity in a regular
  invoice and rows with price 0 and no customer (stock adjustments: damaged, lost, found...);
  bad-debt adjustments (``A…`` invoices); non-product codes ``M``/``m`` (manual), ``D``
  (discount), ``S`` (samples), ``B`` (bad debt), ``BANK CHARGES``, ``AMAZONFEE``, ``CRUK``
  (commission).
- **Absent**: products (no unit cost), nodes, shipments and every warehouse, inventory,
  return and cost table. Forecasts: none; ``kpilib.forecast.backtest`` produces them from
  the invoice history (``kpilib import online-retail --backtest``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kpilib.adapters.common import (
    ImportResult,
    localize,
    reject_by_contract,
    require_columns,
    table_frame,
)

TZ = "Europe/London"
POSTAGE = ("POST", "DOT", "C2")
NON_PRODUCT = ("M", "m", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK")
COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
           "CustomerID", "Country")


def read(src: str | Path) -> pd.DataFrame:
    """All monthly CSVs of folder ``src`` in file order (one frame)."""
    if not Path(src).is_dir():
        raise FileNotFoundError(f"{src}: no such folder")
    files = sorted(Path(src).glob("online_retail_*.csv"))
    if not files:
        raise FileNotFoundError(f"{src}: not an Online Retail folder, no online_retail_*.csv "
                                "files")
    frames = [pd.read_csv(f, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
              for f in files]
    for f, frame in zip(files, frames, strict=True):
        require_columns(frame, COLUMNS, f"{f} (not an Online Retail file?)")
    return pd.concat(frames, ignore_index=True)


def convert(raw: pd.DataFrame) -> ImportResult:
    """Map the raw rows to contract tables (module doc), then apply the contract."""
    df = raw.copy()
    df["row"] = df.groupby("InvoiceNo").cumcount() + 1
    result = ImportResult("online_retail", {})
    inv = df["InvoiceNo"]
    rules = [
        ("cancellation_invoice", inv.str.startswith("C")),
        ("bad_debt_adjustment", inv.str.startswith("A")),
        ("non_product_code", df["StockCode"].isin(NON_PRODUCT)),
        ("stock_adjustment_negative_qty", df["Quantity"] < 0),
        ("stock_adjustment_zero_price", (df["UnitPrice"] == 0) & df["CustomerID"].isna()),
    ]
    keep = pd.Series(True, index=df.index)
    for reason, mask in rules:
        hit = keep & mask
        detail = (f"{df.loc[hit, 'InvoiceNo'].nunique()} invoices"
                  if reason in ("cancellation_invoice", "bad_debt_adjustment") else "")
        result.set_aside("online_retail", reason, int(hit.sum()), detail)
        keep &= ~mask
    df = df.loc[keep]
    df = df.assign(at=localize(df["InvoiceDate"], TZ))
    postage = df["StockCode"].isin(POSTAGE)
    amount = df["Quantity"] * df["UnitPrice"]
    head = df.groupby("InvoiceNo").agg(created_at=("at", "min"), country=("Country", "first"))
    goods = df.loc[~postage]
    orders = table_frame("orders", {
        "order_id": head.index.to_series(), "channel": np.where(
            head["country"].eq("United Kingdom"), "domestic", "export"),
        "order_type": "standard", "is_test": False, "created_at": head["created_at"],
        "currency": "GBP",
        "merchandise_amount": amount[~postage].groupby(df.loc[~postage, "InvoiceNo"]).sum()
        .reindex(head.index).fillna(0.0),
        "shipping_amount_charged": amount[postage].groupby(df.loc[postage, "InvoiceNo"]).sum()
        .reindex(head.index).fillna(0.0),
    }).reset_index(drop=True)
    created = goods["InvoiceNo"].map(head["created_at"])
    lines = table_frame("order_lines", {
        "order_line_id": goods["InvoiceNo"] + "-" + goods["row"].astype(str),
        "order_id": goods["InvoiceNo"], "sku": goods["StockCode"], "created_at": created,
        "qty_ordered": goods["Quantity"].astype(float), "qty_cancelled_customer": 0.0,
        "qty_cancelled_merchant": 0.0, "promised_delivery_at_original": created,
        "promise_is_date": False, "unit_price": goods["UnitPrice"].astype(float),
    }).reset_index(drop=True)
    result.tables = {"orders": orders, "order_lines": lines}
    result.notes.update({
        "promised_delivery_at_original": "placeholder = order time (no promise in source)",
        "qty_cancelled_customer, qty_cancelled_merchant": "placeholder 0: cancellations are "
        "credit notes not linked to lines (set aside); cancellation_unit_rate_pre_ship "
        "reads 0 and measures nothing here",
        "products": "no unit cost or stocking policy",
        "nodes, shipments, shipment_lines, order_events": "no fulfilment records",
        "warehouse, inventory, returns, cost tables": "not in the source",
        "forecasts": "none; backtest with kpilib.forecast.backtest",
    })
    return reject_by_contract(result)


