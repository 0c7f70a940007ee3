"""Rules across rows and tables, vectorised in pandas on the typed frames.

- ``foreign_key``: a non-null value of a column with ``references="t.c"`` in ``schema.TABLES``
  that does not occur in ``t.c``. Checked only when table ``t`` is present (self-references
  included), since every table but orders/order_lines is optional.
- ``time_order``: ``table.column`` earlier than ``after`` for a rule in ``schema.TIME_ORDERS``
  (both values non-null; equal times are fine). Cross-table rules join through the foreign key.
- ``shipped_exceeds_ordered``: Σ shipment_lines.qty_shipped of an order line > its qty_ordered.
  ``n_rows`` counts order lines; reported on ``shipment_lines.qty_shipped``.
- ``cancelled_exceeds_ordered``: qty_cancelled_customer + qty_cancelled_merchant > qty_ordered,
  reported on ``order_lines.qty_ordered``.
- ``inconsistent_available``: inventory_snapshots |qty_available - (qty_on_hand - qty_allocated -
  qty_held)| > 1e-6.
- ``implausible_value``: a value off by an order of magnitude from the figure it must match:
  (a) orders.merchandise_amount >= 10x or <= 1/10 of Σ qty_ordered x unit_price of its lines
  (both > 0; the amount is net of discounts and so are line prices, so they agree up to
  rounding, order-level vouchers and shipping-free adjustments, never by 10x);
  (b) receipts.qty_received >= 10x qty_expected (qty_expected > 0): a unit-of-measure or keying
  error (cases booked as eaches), far beyond any over-receipt tolerance (typically 5-10 %).
Quantity comparisons allow 1e-9 for float noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import schema
from kpilib.contracts.problems import problem
from kpilib.errors import DataContractError

EPS = 1e-9
AVAILABLE_TOLERANCE = 1e-6
IMPLAUSIBLE_FACTOR = 10.0


def check_foreign_keys(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """``foreign_key`` problems; lookups are ``isin`` on the referenced unique values."""
    problems = []
    keys: dict[str, np.ndarray] = {}  # referenced column -> its unique values (computed once)
    for name, frame in tables.items():
        for col in schema.TABLES[name].columns:
            if not col.references:
                continue
            ref_table, ref_col = col.references.split(".")
            if ref_table not in tables:
                continue
            values = frame[col.name]
            if col.references not in keys:
                keys[col.references] = pd.unique(tables[ref_table][ref_col].dropna())
            allowed = keys[col.references]
            bad = (values.notna() & ~values.isin(allowed)).to_numpy()
            if bad.any():
                n_values = values[bad].nunique()
                problems.append(problem(
                    name, col.name, "foreign_key",
                    f"{n_values} value(s) not found in {col.references}", frame=frame, mask=bad))
    return problems


def _lookup(tables: dict[str, pd.DataFrame], frame: pd.DataFrame, via: str,
            other: str, other_col: str) -> pd.Series:
    ref = tables[other]
    key = schema.TABLES[other].primary_key[0]
    mapping = ref.drop_duplicates(key).set_index(key)[other_col]
    return frame[via].map(mapping)


def check_time_orders(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """``time_order`` problems for every rule of ``schema.TIME_ORDERS`` whose tables exist."""
    problems = []
    for rule in schema.TIME_ORDERS:
        frame = tables.get(rule.table)
        if frame is None:
            continue
        if rule.via is None:
            earlier, label = frame[rule.after], rule.after
        else:
            other, other_col = rule.after.split(".")
            if other not in tables:
                continue
            earlier, label = _lookup(tables, frame, rule.via, other, other_col), rule.after
        later = frame[rule.column]
        bad = (later.notna() & earlier.notna() & (later < earlier)).to_numpy()
        if bad.any():
            shown = frame.assign(**{label: earlier}) if rule.via else frame
            problems.append(problem(
                rule.table, rule.column, "time_order",
                f"{rule.column} is earlier than {label}", frame=shown, mask=bad,
                show=[c for c in (rule.via, label) if c]))
    return problems


def check_quantities(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """Shipped/cancelled beyond ordered and snapshot availability that does not add up."""
    problems = []
    lines = tables.get("order_lines")
    ship = tables.get("shipment_lines")
    if lines is not None and ship is not None and len(ship):
        shipped = ship.groupby("order_line_id", sort=True)["qty_shipped"].sum()
        ordered = lines.drop_duplicates("order_line_id").set_index("order_line_id")["qty_ordered"]
        joined = pd.DataFrame({"qty_shipped_total": shipped}).join(ordered, how="inner")
        over = joined[joined["qty_shipped_total"] > joined["qty_ordered"] + EPS]
        if len(over):
            examples = over.reset_index().head(5)
            problems.append(problem(
                "shipment_lines", "qty_shipped", "shipped_exceeds_ordered",
                f"{len(over)} order line(s) shipped more units than ordered",
                n_rows=len(over), examples=examples))
    if lines is not None:
        cancelled = lines["qty_cancelled_customer"] + lines["qty_cancelled_merchant"]
        bad = (cancelled > lines["qty_ordered"] + EPS).to_numpy()
        if bad.any():
            problems.append(problem(
                "order_lines", "qty_ordered", "cancelled_exceeds_ordered",
                "qty_cancelled_customer + qty_cancelled_merchant exceeds qty_ordered",
                frame=lines, mask=bad, show=["qty_cancelled_customer", "qty_cancelled_merchant"]))
    snaps = tables.get("inventory_snapshots")
    if snaps is not None:
        expected = snaps["qty_on_hand"] - snaps["qty_allocated"] - snaps["qty_held"]
        bad = ((snaps["qty_available"] - expected).abs() > AVAILABLE_TOLERANCE).to_numpy()
        if bad.any():
            problems.append(problem(
                "inventory_snapshots", "qty_available", "inconsistent_available",
                "qty_available differs from qty_on_hand - qty_allocated - qty_held",
                frame=snaps, mask=bad, show=["qty_on_hand", "qty_allocated", "qty_held"]))
    return problems


def _off_by_factor(value: pd.Series, reference: pd.Series) -> np.ndarray:
    ok = value.notna() & reference.notna() & (value > 0) & (reference > 0)
    ratio = value / reference.where(ok)
    return (ok & ((ratio >= IMPLAUSIBLE_FACTOR) | (ratio <= 1 / IMPLAUSIBLE_FACTOR))).to_numpy()


def check_implausible(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """``implausible_value``: amounts and receipts an order of magnitude off (see module doc)."""
    problems = []
    orders, lines = tables.get("orders"), tables.get("order_lines")
    if orders is not None and lines is not None:
        value = lines["qty_ordered"] * lines["unit_price"]
        total = value.groupby(lines["order_id"], sort=False).sum(min_count=1)
        lines_total = orders["order_id"].map(total)
        bad = _off_by_factor(orders["merchandise_amount"], lines_total)
        if bad.any():
            problems.append(problem(
                "orders", "merchandise_amount", "implausible_value",
                f"merchandise_amount is >= {IMPLAUSIBLE_FACTOR:g}x off the sum of its lines' "
                "qty_ordered x unit_price", frame=orders.assign(lines_total=lines_total),
                mask=bad, show=["lines_total"]))
    receipts = tables.get("receipts")
    if receipts is not None:
        ratio_bad = _off_by_factor(receipts["qty_received"], receipts["qty_expected"])
        bad = ratio_bad & (receipts["qty_received"] > receipts["qty_expected"]).to_numpy()
        if bad.any():
            problems.append(problem(
                "receipts", "qty_received", "implausible_value",
                f"qty_received is >= {IMPLAUSIBLE_FACTOR:g}x qty_expected (unit of measure?)",
                frame=receipts, mask=bad, show=["qty_expected"]))
    return problems


def check_relations(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """All cross-row and cross-table problems of the typed ``tables``."""
    return (check_foreign_keys(tables) + check_time_orders(tables) + check_quantities(tables)
            + check_implausible(tables))
