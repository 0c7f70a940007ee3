"""Fixtures for the real-data tests: public datasets, imported once per session.

The datasets are read from the folder named by the environment variable ``KPILIB_REAL_DATA``;
when it is unset, from ``../shared/data/real`` next to the repository if that folder exists
(CI has it). The folder holds ``olist-brazilian-ecommerce-sample15k/`` (the 15,000-order Olist
sample these tests' expected numbers were worked out on), ``uci-online-retail/`` (the
complete UCI Online Retail data as ``online_retail_*.csv``) and ``sample-superstore/``
(Tableau's ``Sample - Superstore.csv``, imported with the shipped mapping file
``kpilib/mappings/sample_superstore.yaml``). When a dataset is absent every
test needing it is skipped with a reason saying so loudly; nothing else stands in for it.
Each dataset is imported once, through the CLI (``kpilib import``), and read back with
``kpilib.load_dataset``, so the tests also cover writing and reloading.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
DEFAULT_REAL = REPO.parent / "shared" / "data" / "real"


def real_data_root() -> Path | None:
    """``$KPILIB_REAL_DATA``, else the default folder next to the repository when present."""
    env = os.environ.get("KPILIB_REAL_DATA")
    if env:
        return Path(env)
    return DEFAULT_REAL if DEFAULT_REAL.is_dir() else None


REAL = real_data_root()
OLIST_NAME = "olist-brazilian-ecommerce-sample15k"
RETAIL_NAME = "uci-online-retail"
SUPERSTORE_NAME = "sample-superstore"
SUPERSTORE_MAPPING = REPO / "src" / "kpilib" / "mappings" / "sample_superstore.yaml"


def _need(name: str) -> Path:
    if REAL is None:
        pytest.skip("REAL DATA MISSING: set KPILIB_REAL_DATA to a folder holding "
                    f"{OLIST_NAME}/, {RETAIL_NAME}/ and {SUPERSTORE_NAME}/ (see README, "
                    "'Real data')")
    folder = REAL / name
    if not folder.is_dir():
        pytest.skip(f"REAL DATA MISSING: {folder} does not exist (KPILIB_REAL_DATA="
                    f"{os.environ.get('KPILIB_REAL_DATA', '')!r})")
    return folder


def _import(source: str, src: Path, out: Path, *options: str) -> tuple:
    import kpilib
    from kpilib.cli.main import app

    result = CliRunner().invoke(app, ["import", source, str(src), "--out", str(out), *options],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    report = json.loads((out / "import_report.json").read_text())
    return kpilib.load_dataset(out), report, result.output


@pytest.fixture(scope="session")
def olist_dir() -> Path:
    return _need(OLIST_NAME)


@pytest.fixture(scope="session")
def retail_dir() -> Path:
    return _need(RETAIL_NAME)


@pytest.fixture(scope="session")
def superstore_dir() -> Path:
    return _need(SUPERSTORE_NAME)


@pytest.fixture(scope="session")
def olist_import(olist_dir, tmp_path_factory):
    """(Dataset, import_report.json, CLI output) of `kpilib import olist` (with backtest)."""
    return _import("olist", olist_dir, tmp_path_factory.mktemp("olist_ds"))


@pytest.fixture(scope="session")
def retail_import(retail_dir, tmp_path_factory):
    """(Dataset, import_report.json, CLI output) of `kpilib import online-retail`."""
    return _import("online-retail", retail_dir, tmp_path_factory.mktemp("retail_ds"))


@pytest.fixture(scope="session")
def superstore_import(superstore_dir, tmp_path_factory):
    """(Dataset, import_report.json, CLI output) of `kpilib import mapped
    sample_superstore.yaml --src FOLDER` (no backtest: no forecast KPI is checked on it)."""
    return _import("mapped", SUPERSTORE_MAPPING, tmp_path_factory.mktemp("superstore_ds"),
                   "--src", str(superstore_dir), "--no-backtest")


@pytest.fixture(scope="session")
def olist_raw(olist_dir) -> dict[str, pd.DataFrame]:
    """The raw Olist orders and items, timestamps parsed (naive local times)."""
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv")
    for col in ("order_purchase_timestamp", "order_approved_at", "order_delivered_carrier_date",
                "order_delivered_customer_date", "order_estimated_delivery_date"):
        orders[col] = pd.to_datetime(orders[col])
    items = pd.read_csv(olist_dir / "olist_order_items_dataset.csv")
    return {"orders": orders, "items": items}


@pytest.fixture(scope="session")
def retail_raw(retail_dir) -> pd.DataFrame:
    """All raw Online Retail rows (13 monthly files)."""
    files = sorted(retail_dir.glob("online_retail_*.csv"))
    return pd.concat([pd.read_csv(f, dtype={"InvoiceNo": str, "StockCode": str,
                                            "CustomerID": str}) for f in files],
                     ignore_index=True)


@pytest.fixture(scope="session")
def superstore_raw(superstore_dir) -> pd.DataFrame:
    """The raw Superstore order lines, order and ship dates parsed (DD/MM/YY, no time)."""
    raw = pd.read_csv(superstore_dir / "Sample - Superstore.csv", encoding="utf-8-sig",
                      dtype={"Row ID": str, "Postal Code": str})
    for col in ("Order Date", "Ship Date"):
        raw[col] = pd.to_datetime(raw[col], format="%d/%m/%y")
    return raw
