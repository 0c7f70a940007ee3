"""The row rules of the contract as DuckDB count queries over Arrow tables (the fast path).

Each query counts the rows that break one rule of :mod:`.columns`, :mod:`.relations` or
:mod:`.plausibility` (or one condition under which :mod:`.fast` cannot build the frames
exactly as the pandas parser does). The pandas functions stay the definition of the rules and
the only source of reports: these counts only decide whether a folder is clean, and
``tests/test_contract_fast.py`` checks on every case of the bad-input suites that they find a
problem whenever the pandas contract does. Two counts are skipped where the Arrow tables
prove them zero: the key query of a table whose key rises strictly
(:func:`strictly_increasing`) and the foreign-key query of a column found in its key
(:func:`kpilib.contracts.fast_keys.link`).

The tables are registered with the null rules of the pandas checks already applied (an empty
string is null, see :mod:`.fast`); here a NaN is null too, and time columns arrive as int64
nanoseconds since 1970 UTC, so comparisons are exact to the nanosecond.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from kpilib import schema
from kpilib.contracts.plausibility import EPS as PLAUSIBILITY_EPS
from kpilib.contracts.relations import AVAILABLE_TOLERANCE, EPS, IMPLAUSIBLE_FACTOR

COUNTED_RULES = frozenset({
    "null_in_required", "not_in_enum", "negative_quantity", "duplicate_key", "wrong_type",
    "foreign_key", "time_order", "shipped_exceeds_ordered", "cancelled_exceeds_ordered",
    "inconsistent_available", "implausible_value", "mixed_currency", "status_contradiction",
    "cancelled_without_timestamp", "shipment_without_lines"})
DAY_NS = 86_400_000_000_000
MAX_EXACT_INT = 2**53  # the pandas parser reads ints through float64
_NOT_DELIVERED = ("pending", "in_transit", "failed", "lost")
_SHIPPED = ("in_transit", "delivered", "lost")


def _quote(values: tuple[str, ...]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _view(name: str) -> str:
    """SQL of table ``name`` with NaN read as null (as pandas does)."""
    cols = []
    for col in schema.TABLES[name].columns:
        q = f'"{col.name}"'
        if col.dtype == schema.NUM:
            cols.append(f"CASE WHEN isnan({q}) THEN NULL ELSE {q} END AS {q}")
        else:
            cols.append(q)
    return f"SELECT {', '.join(cols)} FROM arrow_{name}"


def strictly_increasing(table: pa.Table, columns: tuple[str, ...]) -> bool:
    """Whether ``columns`` of ``table`` hold no null and rise strictly from row to row (in
    lexicographic order: the first column, ties broken by the next): then no two rows share
    a key, which proves the key rule without hashing (ids exported in id order)."""
    if not columns or any(table.column(c).null_count for c in columns):
        return False
    n = table.num_rows
    if n < 2:
        return True
    rises = None
    for c in reversed(columns):
        values = table.column(c)
        before, after = values.slice(0, n - 1), values.slice(1)
        less = pc.less(before, after)
        rises = less if rises is None else pc.or_(less, pc.and_(pc.equal(before, after), rises))
    return bool(pc.all(rises).as_py())


def column_queries(name: str, key_proven: bool = False) -> list[str]:
    """Column rules of one table (nulls, enums, signs, parse failures) and its key (unless
    ``key_proven``: its rows are known to hold distinct keys, :func:`strictly_increasing`)."""
    table = schema.TABLES[name]
    breaches = []
    for col in table.columns:
        c = f'"{col.name}"'
        if col.required:
            breaches.append(f"{c} IS NULL")
        if col.enum:
            breaches.append(f"{c} NOT IN ({_quote(col.enum)})")
        if col.nonnegative:
            breaches.append(f"{c} < 0")
        if col.dtype == schema.NUM:
            breaches.append(f"isinf({c})")
        if col.dtype == schema.INT:
            breaches.append(f"abs({c}) > {MAX_EXACT_INT}")
        if col.dtype == schema.DATE:
            breaches.append(f"{c} % {DAY_NS} <> 0")
    out = []
    if breaches:
        out.append(f"SELECT count(*) FROM v_{name} WHERE " + " OR ".join(
            f"coalesce({b}, false)" for b in breaches))
    if key_proven:
        return out
    if len(table.primary_key) == 1:
        # more rows than distinct non-null keys: a repeated key, or a null one (which the
        # null rule counts too); a third faster than grouping for 5.8M text keys
        out.append(f'SELECT count(*) - count(DISTINCT "{table.primary_key[0]}") FROM v_{name}')
    elif table.primary_key:
        key = ", ".join(f'"{k}"' for k in table.primary_key)
        out.append(f"SELECT count(*) FROM (SELECT {key} FROM v_{name} GROUP BY ALL "
                   "HAVING count(*) > 1)")
    return out


def _key_queries(present: set[str], linked: frozenset[tuple[str, str]]) -> list[str]:
    out = []
    for name in sorted(present):
        for col in schema.TABLES[name].columns:
            if not col.references or (name, col.name) in linked:
                continue
            ref_table, ref_col = col.references.split(".")
            if ref_table in present:
                out.append(f'SELECT count(*) FROM v_{name} a ANTI JOIN v_{ref_table} b '
                           f'ON a."{col.name}" = b."{ref_col}" '
                           f'WHERE a."{col.name}" IS NOT NULL')
    for rule in schema.TIME_ORDERS:
        if rule.table not in present:
            continue
        if rule.via is None:
            out.append(f'SELECT count(*) FROM v_{rule.table} WHERE "{rule.column}" < '
                       f'"{rule.after}"')
            continue
        other, other_col = rule.after.split(".")
        if other in present:
            key = schema.TABLES[other].primary_key[0]
            out.append(f'SELECT count(*) FROM v_{rule.table} a JOIN v_{other} b '
                       f'ON b."{key}" = a."{rule.via}" WHERE a."{rule.column}" < b."{other_col}"')
    return out


def _quantity_queries(present: set[str]) -> list[str]:
    out = []
    if {"order_lines", "shipment_lines"} <= present:
        out.append(f"""SELECT count(*) FROM (SELECT order_line_id,
            coalesce(fsum(qty_shipped), 0) AS q FROM v_shipment_lines GROUP BY ALL) s
            JOIN v_order_lines l USING (order_line_id) WHERE s.q > l.qty_ordered + {EPS}""")
    if "order_lines" in present:
        out.append(f"""SELECT count(*) FROM v_order_lines WHERE qty_cancelled_customer
            + qty_cancelled_merchant > qty_ordered + {EPS}""")
    if "inventory_snapshots" in present:
        out.append(f"""SELECT count(*) FROM v_inventory_snapshots WHERE abs(qty_available
            - (qty_on_hand - qty_allocated - qty_held)) > {AVAILABLE_TOLERANCE}""")
    f = IMPLAUSIBLE_FACTOR
    if {"orders", "order_lines"} <= present:
        out.append(f"""SELECT count(*) FROM v_orders o JOIN (SELECT order_id,
            fsum(qty_ordered * unit_price) AS t FROM v_order_lines GROUP BY ALL) l
            USING (order_id) WHERE o.merchandise_amount > 0 AND l.t > 0
            AND (o.merchandise_amount / l.t >= {f} OR o.merchandise_amount / l.t <= {1 / f})""")
    if "receipts" in present:
        out.append(f"""SELECT count(*) FROM v_receipts WHERE qty_received > 0
            AND qty_expected > 0 AND qty_received / qty_expected >= {f}
            AND qty_received > qty_expected""")
    return out


def _plausibility_queries(present: set[str]) -> list[str]:
    out = []
    currencies = [f"SELECT currency FROM v_{n}" for n in ("orders", "fulfillment_costs")
                  if n in present]
    if currencies:
        out.append("SELECT greatest(count(DISTINCT currency) - 1, 0) FROM ("
                   + " UNION ALL ".join(currencies) + ")")
    if "shipments" in present:
        out.append(f"""SELECT count(*) FROM v_shipments WHERE (delivered_at IS NOT NULL
            AND delivery_status IN ({_quote(_NOT_DELIVERED)})) OR (shipped_at IS NULL
            AND delivery_status IN ({_quote(_SHIPPED)}))""")
    if "pick_tasks" in present:
        out.append("""SELECT count(*) FROM v_pick_tasks WHERE (status = 'picked'
            AND picked_at IS NULL) OR (status = 'open' AND picked_at IS NOT NULL)""")
    if {"orders", "order_lines"} <= present:
        out.append(f"""SELECT count(*) FROM v_orders o JOIN (SELECT order_id,
            bool_and(coalesce(abs(qty_cancelled_customer + qty_cancelled_merchant
            - qty_ordered) <= {PLAUSIBILITY_EPS} AND qty_ordered > 0, false)) AS full
            FROM v_order_lines WHERE order_id IS NOT NULL GROUP BY ALL) l USING (order_id)
            WHERE l.full AND o.cancelled_at IS NULL""")
    if {"shipments", "shipment_lines"} <= present:
        out.append("""SELECT count(*) FROM v_shipments s ANTI JOIN v_shipment_lines l
            ON s.shipment_id = l.shipment_id""")
    return out


def queries(present: set[str], proven: frozenset[str] = frozenset(),
            linked: frozenset[tuple[str, str]] = frozenset()) -> list[str]:
    """Every count query for the tables ``present`` (all zero: the folder is clean), without
    the key queries of the tables ``proven`` to hold distinct keys and the foreign-key
    queries of the columns ``linked`` (``(table, column)`` known to reference only keys,
    :func:`kpilib.contracts.fast_keys.link`)."""
    out = [q for name in sorted(present) for q in column_queries(name, name in proven)]
    return out + _key_queries(present, linked) + _quantity_queries(present) \
        + _plausibility_queries(present)


def first_breach(tables: dict[str, pa.Table],
                 linked: frozenset[tuple[str, str]] = frozenset()) -> str | None:
    """The first query that counts a breach in ``tables``, or None when every count is 0
    (``linked``: see :func:`queries`)."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        for name, table in tables.items():
            con.register(f"arrow_{name}", table)
            con.execute(f"CREATE VIEW v_{name} AS {_view(name)}")
        proven = frozenset(n for n, t in tables.items()
                           if strictly_increasing(t, schema.TABLES[n].primary_key))
        for sql in queries(set(tables), proven, linked):
            if con.execute(sql).fetchone()[0]:
                return sql
        return None
    finally:
        con.close()
