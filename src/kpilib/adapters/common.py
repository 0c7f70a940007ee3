"""What every import shares: the import report and contract-driven row rejection.

Rejection is order-wise: a row the contract rejects (an impossible time order, a quantity
beyond what was ordered...) makes its whole order untrustworthy, so the order and all its rows
in every table leave the import together, counted under the contract rule. Rows the mapping
itself sets aside (e.g. non-product stock codes) are counted under its own reason.
Nothing is dropped without a line in the report, and nothing the contract rejects is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

MAX_ROUNDS = 5


@dataclass
class ImportResult:
    """Cleaned tables, the report of set-aside rows, notes on what the source lacks, and
    ``derived``: tables made by kpilib rather than read from the source (e.g. backtest
    forecasts), with how they were made."""

    source: str
    tables: dict[str, pd.DataFrame]
    report: list[dict] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)
    assume_tz: str | None = None  # the source's zone for naive timestamps
    dimensions: dict[str, str] = field(default_factory=dict)  # extra {column: table}
    delivery_events: str = "scan"  # "none": the source has no delivery scan

    def set_aside(self, table: str, reason: str, n_rows: int, detail: str = "",
                  by: str = "adapter") -> None:
        """Record ``n_rows`` rows of ``table`` left out for ``reason``."""
        if n_rows:
            self.report.append({"table": table, "reason": reason, "rows": int(n_rows),
                                "by": by, "detail": detail})

    def report_frame(self) -> pd.DataFrame:
        cols = ["table", "reason", "rows", "by", "detail"]
        return pd.DataFrame(self.report, columns=cols)

    def dataset(self):
        """The cleaned tables as a validated :class:`kpilib.Dataset`."""
        from kpilib.dataset import Dataset

        return Dataset.from_frames(assume_tz=self.assume_tz, dimensions=self.dimensions,
                                   delivery_events=self.delivery_events, **self.tables)

    def write(self, out: str | Path) -> Path:
        """Write ``<table>.parquet`` files (through the contract) plus ``import_report.json``
        (``source``, ``rows`` per table written, ``set_aside``, ``absent``, ``derived``)."""
        out = Path(out)
        ds = self.dataset()
        ds.to_parquet(out)
        (out / "import_report.json").write_text(json.dumps(
            {"source": self.source, "rows": {n: len(f) for n, f in ds.tables.items()},
             "set_aside": self.report, "absent": self.notes, "derived": self.derived},
            indent=2, default=str))
        return out


def order_ids_of(table: str, frame: pd.DataFrame, rows: pd.Index,
                 tables: dict[str, pd.DataFrame]) -> pd.Series:
    """The order ids owning ``rows`` of ``table`` (via order_id, order_line_id or
    shipment_id); empty when the table has no order link."""
    sub = frame.loc[rows]
    if "order_id" in sub.columns:
        return sub["order_id"].dropna()
    if "order_line_id" in sub.columns and "order_lines" in tables:
        lines = tables["order_lines"].set_index("order_line_id")["order_id"]
        return sub["order_line_id"].map(lines).dropna()
    if "shipment_id" in sub.columns and "shipments" in tables:
        ships = tables["shipments"].set_index("shipment_id")["order_id"]
        return sub["shipment_id"].map(ships).dropna()
    return pd.Series(dtype=object)


def drop_orders(tables: dict[str, pd.DataFrame], orders: set) -> dict[str, pd.DataFrame]:
    """Remove ``orders`` and every row that belongs to them, in every table."""
    lines = tables["order_lines"]
    line_ids = set(lines.loc[lines["order_id"].isin(orders), "order_line_id"])
    ships = tables.get("shipments")
    ship_ids = set() if ships is None else set(ships.loc[ships["order_id"].isin(orders),
                                                          "shipment_id"])
    out = {}
    for name, frame in tables.items():
        keep = pd.Series(True, index=frame.index)
        if "order_id" in frame.columns:
            keep &= ~frame["order_id"].isin(orders)
        if "order_line_id" in frame.columns:
            keep &= ~frame["order_line_id"].isin(line_ids)
        if "shipment_id" in frame.columns and name != "shipments":
            keep &= ~frame["shipment_id"].isin(ship_ids)
        out[name] = frame.loc[keep].reset_index(drop=True)
    return out


def reject_by_contract(result: ImportResult, assume_tz: str | None = None) -> ImportResult:
    """Run the contract; set aside every order owning a rejected row, counted by rule.

    Problems that cannot be tied to orders (a whole column of the wrong type, a missing
    table...) are adapter bugs, not data: they raise.
    """
    from kpilib.contracts import check_frames
    from kpilib.errors import DataContractError

    tables = result.tables
    for _ in range(MAX_ROUNDS):
        _, problems = check_frames(tables, assume_tz=assume_tz)
        if not problems:
            break
        bad_orders: set = set()
        for p in problems:
            rows = getattr(p, "rows", None)
            frame = tables.get(p.table or "")
            if rows is None or frame is None:
                raise DataContractError(p.table, p.column, p.rule, p.n_rows, p.examples,
                                        f"adapter output breaks the contract: {p.detail}")
            owners = set(order_ids_of(p.table, frame, rows, tables))
            if not owners:
                raise DataContractError(p.table, p.column, p.rule, p.n_rows, p.examples,
                                        "rejected rows are not tied to orders")
            new = owners - bad_orders
            result.set_aside("orders", f"{p.rule}:{p.table}.{p.column}", len(new),
                             p.detail, by="contract")
            bad_orders |= owners
        tables = drop_orders(tables, bad_orders)
    result.tables = tables
    return result
