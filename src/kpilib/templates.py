"""Empty CSV templates of the data model, with a column reference (``kpilib template DIR``).

Layout written into ``DIR`` (column order exactly as :mod:`kpilib.schema`):

- ``orders.csv``, ``order_lines.csv`` (the required tables) and any table named in ``tables``:
  header only, in ``DIR`` itself, so ``kpilib validate DIR`` reads them;
- ``optional/<table>.csv`` for every other table: ``validate`` ignores sub-folders, so an
  unfilled optional table stays *absent* (its KPIs say ``unavailable``). Move a file up into
  ``DIR`` only once it holds rows: an empty table present means "we record this and there was
  none", which makes e.g. every delivery late, not unknown;
- ``COLUMNS.md``: per table and column the type, NOT NULL, allowed values, foreign key, sign
  and time-order rules, and meaning (all read from the schema);
- ``README.md``: the steps from a first export to a clean load;
- ``example/orders.csv`` and ``example/order_lines.csv``: one valid order, so
  ``kpilib validate DIR/example`` shows what clean looks like.

An untouched template therefore validates to exactly two problems: ``orders`` and
``order_lines`` are ``empty_table``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from kpilib import schema

TYPE_TEXT = {
    schema.TEXT: "text",
    schema.INT: "integer",
    schema.NUM: "number (decimal point `.`)",
    schema.BOOL: "boolean: `true`/`false` (or `1`/`0`)",
    schema.DATE: "date `YYYY-MM-DD`",
    schema.TS: "timestamp, ISO 8601 with offset: `2024-03-01T10:00:00Z` or "
               "`2024-03-01T11:00:00+01:00`",
}
SHORT_TYPE = {schema.TEXT: "text", schema.INT: "int", schema.NUM: "num", schema.BOOL: "bool",
              schema.DATE: "date", schema.TS: "timestamp"}

EXAMPLE = {
    "orders": {
        "order_id": "O-1001", "channel": "web", "order_type": "standard", "is_test": "false",
        "created_at": "2024-03-01T09:15:00Z", "authorized_at": "2024-03-01T09:16:30Z",
        "ship_to_timezone": "Europe/Berlin", "currency": "EUR", "merchandise_amount": "59.80",
        "shipping_amount_charged": "4.90",
    },
    "order_lines": {
        "order_line_id": "O-1001-1", "order_id": "O-1001", "sku": "SKU-RED-M",
        "created_at": "2024-03-01T09:15:00Z", "qty_ordered": "2",
        "qty_cancelled_customer": "0", "qty_cancelled_merchant": "0",
        "promised_delivery_at_original": "2024-03-04T00:00:00+01:00",
        "promise_is_date": "true", "unit_price": "29.90",
    },
}


def _header(path: Path, table: str, rows: list[dict] | None = None) -> Path:
    cols = schema.TABLES[table].column_names
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        for row in rows or []:
            writer.writerow(row)
    return path


def _rules(table: str) -> dict[str, list[str]]:
    """Time-order rules of ``table`` per column, in words."""
    out: dict[str, list[str]] = {}
    for rule in schema.TIME_ORDERS:
        if rule.table == table:
            via = f" (via {rule.via})" if rule.via else ""
            out.setdefault(rule.column, []).append(f"not before {rule.after}{via}")
    return out


def _absent_text(table: str, column: str) -> str:
    """The *may be left out* rule of a column of ``schema.ABSENT_DEFAULTS``, in words."""
    from kpilib import registry

    default = schema.ABSENT_DEFAULTS[(table, column)]
    ids = registry.requiring(f"{table}.{column}")
    value = "left empty" if default is None else f"default `{default}`"
    off = ", ".join(f"`{i}`" for i in ids) if ids else "none"
    return f"*may be left out*: {value}; KPIs unavailable without it: {off}"


def columns_markdown(tables: tuple[str, ...] = schema.TABLE_NAMES) -> str:
    """The column reference of ``tables`` as Markdown (one section per table)."""
    parts = ["# Columns of the kpilib data model\n",
             "Generated from `kpilib.schema`. **Required** tables: "
             f"{', '.join(schema.REQUIRED_TABLES)}; all others are optional. `NOT NULL` "
             "columns need a value in every row; other columns may be left empty or left "
             "out of the file. A `NOT NULL` column marked *may be left out* is one a source "
             "may honestly lack: when the file has no such column, it gets the stated "
             "default, `import_report.json` notes it, and the KPIs named there report "
             "`unavailable` (not recorded). Types:\n"]
    parts += [f"- **{SHORT_TYPE[t]}**: {TYPE_TEXT[t]}" for t in SHORT_TYPE]
    parts.append("")
    for name in tables:
        table = schema.TABLES[name]
        key = ", ".join(table.primary_key) or "none (no key)"
        need = "required" if table.required else "optional"
        parts.append(f"## {name} ({need})\n\n{table.doc} Primary key: {key}.\n")
        parts.append("| column | type | NOT NULL | allowed values / rules | references | meaning |")
        parts.append("|---|---|---|---|---|---|")
        rules = _rules(name)
        for col in table.columns:
            allowed = [", ".join(f"`{v}`" for v in col.enum)] if col.enum else []
            if col.nonnegative:
                allowed.append(">= 0")
            if (name, col.name) in schema.PLANNED_COLUMNS:
                allowed.append("plan/deadline: may lie in the future")
            allowed += rules.get(col.name, [])
            if col.absent is not None:
                allowed.append(_absent_text(name, col.name))
            parts.append(
                f"| `{col.name}` | {SHORT_TYPE[col.dtype]} | {'yes' if col.required else ''} "
                f"| {'; '.join(allowed)} | {col.references or ''} | {col.doc} |")
        parts.append("")
    return "\n".join(parts)


README = """# kpilib data template

This folder was written by `kpilib template`. It is a dataset folder in the layout that
`kpilib validate`, `kpilib.load_dataset` and `kpilib reports run --data` read.

1. **Required**: fill `orders.csv` and `order_lines.csv` (one row per order / order line).
   Keep the header; column order does not matter, column names do. Optional columns may be
   left empty or removed.
2. **Optional tables** are in `optional/`. Move a file up into this folder only once you fill
   it. A table that is absent makes its KPIs say `unavailable`; a table that is present but
   empty says "we record this and there was none" (an empty `shipments.csv` makes every
   delivery late, not unknown).
3. `COLUMNS.md` lists every column: type, NOT NULL, allowed values, foreign keys, rules.
   `example/` holds one valid order: `kpilib validate {dir}/example` shows a clean result.
4. Run `kpilib validate {dir}` and fix what it lists; every problem at once, with table,
   column, rule, row count and example keys. Typical first-export problems:
   - `naive_timestamp`: timestamps without offset. Add the offset in the export, or pass
     `--assume-tz Europe/Berlin` (your IANA zone) to validate, load_dataset and reports.
   - `wrong_type` on a bool: write `true`/`false` (or `1`/`0`), not `yes`/`Y`/`WAHR`.
   - `not_in_enum`: map your codes to the allowed values in COLUMNS.md (e.g. cancel reasons).
   - `foreign_key`: a referenced row is missing (order lines of orders not exported, SKUs not
     in products.csv, nodes not in nodes.csv). Export the parent rows, or leave the parent
     table out entirely (a foreign key is only checked when its table is present).
   - `time_order`: e.g. shipped before the order existed; usually a time-zone mix-up.
5. `kpilib reports run --data {dir} --out reports` runs the report suite.

The full guide: docs/byod.md in the kpilib repository.
"""


def write_template(directory: str | Path, tables: tuple[str, ...] = (),
                   force: bool = False) -> list[Path]:
    """Write the template layout (module doc) into ``directory``; return the files written.

    ``tables`` are optional tables to place in ``directory`` itself (header only) instead of
    ``optional/``. Raises ``FileExistsError`` when a table CSV already exists there, unless
    ``force``; ``ValueError`` for an unknown table name.
    """
    unknown = sorted(set(tables) - set(schema.TABLE_NAMES))
    if unknown:
        raise ValueError(f"unknown table(s) {unknown}; tables are {list(schema.TABLE_NAMES)}")
    out = Path(directory)
    top = [n for n in schema.TABLE_NAMES if n in schema.REQUIRED_TABLES or n in tables]
    targets = {n: out / f"{n}.csv" for n in top}
    targets |= {n: out / "optional" / f"{n}.csv" for n in schema.TABLE_NAMES if n not in top}
    existing = [p for p in targets.values() if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{len(existing)} template file(s) already exist, e.g. "
                              f"{existing[0]}; pass force=True (--force) to overwrite")
    written = [_header(path, name) for name, path in targets.items()]
    for name, row in EXAMPLE.items():
        written.append(_header(out / "example" / f"{name}.csv", name, [row]))
    (out / "COLUMNS.md").write_text(columns_markdown(), encoding="utf-8")
    (out / "README.md").write_text(README.format(dir=out), encoding="utf-8")
    return [*written, out / "COLUMNS.md", out / "README.md"]
