"""Extra segment dimensions: a dataset's own columns on orders, products, nodes, order lines.

A dataset declares them as ``{dimension: table}`` (``Dataset.dimensions``), from a
``dataset.json`` beside the tables (``{"dimensions": {"orders": ["market", "region"]}}``), the
``dimensions=`` argument of the loaders, or a mapping file. Each one is cut and filtered
exactly like the standard dimension of its table, its *host*: an ``orders`` column like
``channel`` (a record goes to the segment of its order), a ``products`` column like
``product_class`` (a record goes to the segment of its SKU), a ``nodes`` column like ``node``
(a record goes to the segment of its node). They work wherever a dimension does: ``by=``,
``filters=``, ``kpilib.drill`` segments, report filters and ``--per``, the explorer.

Rule for ``orders`` and ``products``: computing by extra dimensions ``E`` of host ``h`` =
computing by ``h`` on the dataset whose ``h`` column holds the tuple (``h`` if asked, then
``E``) of each row, and splitting that tuple back into columns. Filters on a table's
dimensions keep the table's rows matching them all: the others' ``h`` reads :data:`OUT`, and
the engine filters ``h`` on the values of the matching rows (:data:`IN` when nothing of the
table is cut). So the KPIs need no code of their own, a filter on ``market`` gives exactly the
``market`` segment of ``by``, and a KPI that cannot be cut by ``h`` cannot be cut or filtered
by ``E`` either (``unavailable``). A null value is the segment ``(unknown)`` and matches no
filter.

``nodes``: ``node`` is the node id, which the tables join on, so the table is left alone and
each record's ``node`` is relabelled by the same tuple rule before the engine buckets it
(:meth:`kpilib.segment_plan.Plan.derive`; a node the table lacks is ``(unknown)``). Records
of several nodes then meet in one segment, which suits records each counted once, but not a
KPI reduced per node (``kind="custom"``), an order or commit unit that counts once at each
node that shipped it, or a daily mean whose denominator counts each node's days: those are
``unavailable`` with the reason (:meth:`kpilib.segment_plan.Plan.refuses`).

``order_lines`` (no standard dimension is a line's own column): a record that is an order line
or part of one (its observations carry ``order_line_id``) goes to its line's value, read off
the line before the engine buckets it; a KPI whose records are orders, commit units or
anything else is ``unavailable`` ("its records (order) are not order lines").

Not offered: a suppliers table (the data model has none; ``supplier`` is
``products.supplier_id``). With ``params={"abc_partition": "product_class"}`` a products
dimension in ``by`` also partitions the ABC classes by it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kpilib.errors import ParameterError

HOSTS = {"orders": "channel", "products": "product_class", "nodes": "node"}
# tables whose host is their key: the records' host values are relabelled, not the table
KEYED = {"nodes": "node_id"}
SEP = "\x1f"
# grains whose records split into per-node sub-units when cut by node (an order, a commit unit)
SUB_UNIT_GRAINS = ("order", "commit unit")
UNKNOWN = "(unknown)"
# host values of rows a filter on their table keeps / drops, and of none (no row matches)
IN, OUT, NONE = SEP + "in", SEP + "out", SEP + "none"
LINES = "order_lines"  # its columns are each line's own: no host (kpilib.segment_plan)
DECLARATION_FILE = "dataset.json"


def read_declaration(folder: str | Path) -> dict[str, str]:
    """``{dimension: table}`` from ``folder/dataset.json`` (empty when the file is absent)."""
    path = Path(folder) / DECLARATION_FILE
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ParameterError(f"{path}: cannot be read as JSON: {err}") from err
    return from_tables(doc.get("dimensions", {}) if isinstance(doc, dict) else None, str(path))


def read_events(folder: str | Path) -> str:
    """``delivery_events`` of ``folder/dataset.json``: ``"scan"`` (default) or ``"none"``."""
    path = Path(folder) / DECLARATION_FILE
    if not path.is_file():
        return "scan"
    doc = json.loads(path.read_text(encoding="utf-8"))
    return check_events(doc.get("delivery_events", "scan") if isinstance(doc, dict) else "scan")


def check_events(value: object) -> str:
    """``value`` if it is ``"scan"`` or ``"none"``, else a ``ParameterError``."""
    if value not in ("scan", "none"):
        raise ParameterError(f"delivery_events: {value!r} is not 'scan' or 'none'")
    return str(value)


def from_tables(by_table: object, where: str = "dimensions") -> dict[str, str]:
    """``{"orders": ["market"]}`` -> ``{"market": "orders"}``, with a clear error otherwise."""
    if not isinstance(by_table, Mapping) or not all(
            isinstance(v, list) and all(isinstance(c, str) for c in v) for v in by_table.values()):
        raise ParameterError(f"{where}: give {{table: [column, ...]}}, for example "
                             '{"orders": ["market", "region"]}')
    return {col: table for table, cols in by_table.items() for col in cols}


def to_tables(dims: Mapping[str, str]) -> dict[str, list[str]]:
    """The inverse of :func:`from_tables` (what ``dataset.json`` stores)."""
    out: dict[str, list[str]] = {}
    for col, table in dims.items():
        out.setdefault(table, []).append(col)
    return out


def _separator_values(frame: pd.DataFrame, table: str, columns: list[str | None]) -> list[str]:
    """One problem per column whose values hold :data:`SEP` (segment labels join a host value
    and extra values with it and split them back, so such a value would become two)."""
    out = []
    for c in dict.fromkeys(c for c in columns if c and c in frame.columns):
        hit = frame[c].astype(str).str.contains(SEP, regex=False) & frame[c].notna()
        if hit.any():
            rows = list(frame.index[hit][:3])
            examples = [str(v) for v in frame.loc[hit, c].head(3)]
            out.append(f"{table}.{c}: {int(hit.sum())} value(s) contain the control character "
                       f"U+001F, which kpilib uses to join segment labels (row(s) {rows}, "
                       f"e.g. {examples}); remove it from the values")
    return out


def check(dims: Mapping[str, str], tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Validated ``{dimension: table}``: a host table, a non-schema column present there, a
    name that is not already a dimension. Raises :class:`ParameterError` naming the problem."""
    from kpilib import registry, schema

    problems = []
    for col, table in dims.items():
        if table not in HOSTS and table != LINES:
            problems.append(f"{col!r}: table {table!r} cannot carry extra dimensions; use "
                            f"{sorted([*HOSTS, LINES])}")
        elif col in registry.BREAKDOWN_DIMS or col in registry.STANDARD_DIMS:
            problems.append(f"{col!r} is already a dimension of kpilib; rename the column")
        elif col in schema.TABLES[table].column_names:
            problems.append(f"{table}.{col} is a column of the data model, not an extra one")
        elif tables.get(table) is None or col not in tables[table].columns:
            problems.append(f"{table}.{col} is declared as a dimension but the column is absent")
        elif SEP in col:
            problems.append(f"{col!r}: a dimension name cannot contain the unit separator")
        else:
            problems += _separator_values(tables[table], table,
                                          [col, HOSTS.get(table), KEYED.get(table)])
    if problems:
        raise ParameterError("invalid extra dimensions:\n  - " + "\n  - ".join(problems))
    return dict(dims)
