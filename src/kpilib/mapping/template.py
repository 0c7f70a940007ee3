"""``kpilib template --mapping FILE``: a commented starting mapping file.

The file maps one export (``sources.export``) to ``orders`` and ``order_lines`` with every
required column listed (type, meaning) and a placeholder source column to replace, examples of
each column expression, and ``shipments`` / ``shipment_lines`` commented out. Column names
come from :mod:`kpilib.schema`, so the template follows the data model.
"""

from __future__ import annotations

from kpilib import schema

HEADER = """\
# kpilib mapping file: how your export becomes the kpilib data model.
#   kpilib import mapped THIS_FILE --out data/mine [--src FOLDER_OF_THE_FILES]
#   kpilib validate data/mine && kpilib reports run --data data/mine
# Column specs:  SourceColumn | a constant (0, true) | {value: text}
#   {column: Status, map: {S: shipped, X: cancelled}, default: other}   value map
#   {column: Order Date, parse: "%d/%m/%y"}                             read a date format
#   {column: Order Date, parse: "%d/%m/%y", add_days: 3, as_date: true} date + N days (a date)
#   {column: Ship By, end_of_day: true}           end of that day in `timezone` (or a zone)
#   {format: "{Order ID}-{Line}"}                  concatenation of source columns
#   {first_of: [Approved, Created]}                first non-empty
#   {latest_of: [Approved, Shipped]}               latest of these date-times on the row
#   {sum: Amount, by: Order ID}                    total over the rows of the same order
#   {min: Order Date, by: Order ID}                earliest date-time of the order (max: latest)
#   {sum: {eval: "Qty * Price", if: "Code != 'POST'"}, by: Order ID}   total of some rows only
#     (sum/min/max run over all the source's rows, even those a table's `where:` leaves out)
#   {eval: "Sales / Quantity"}                     arithmetic on numeric source columns
#   {column: Cancelled, if: "Status == 'X'"}       empty where the condition is false
name: my_shop
timezone: Europe/Berlin        # timestamps without offset are local times of this zone
delivery_events: scan          # `none` when the source has a ship scan but no delivery scan
sources:
  export:
    file: orders_export.csv    # relative to --src (default: this file's folder); a pattern
    # sep: ";"                 #   such as export_*.csv reads every match, in name order
    # columns: [Order ID, SKU] # the columns the file must have (else a clear error)
    # numbers: [Quantity]      # read these columns as numbers (for conditions like Quantity < 0)
    # row_number: {column: Line, by: Order ID}   # new column: the row's number in its order
    # set_aside:               # rows left out, counted in import_report.json; first rule wins
    #   - {reason: test_order, where: "Status == 'TEST'"}
    #   - {reason: credit_note, where: "Invoice.str.startswith('C')", distinct: Invoice,
    #      detail: "{n} invoices"}   # {n}: distinct values of Invoice among those rows
  # export_with_status:        # two sources joined on a key (each row of the first, with the
  #   join: [export, status]   #   columns of the second's rows of that key); `how: left`
  #   key: Order ID            #   keeps rows without a match, else they are counted under
  #   unmatched: no_status     #   `unmatched` in import_report.json
dimensions:                    # your own columns: cut like channel / product_class / node
  orders: [market]
tables:
"""

EXAMPLES = {
    "order_id": "Order ID", "channel": "{value: web}", "order_type": "{value: standard}",
    "is_test": "false", "created_at": "Order Date", "currency": "{value: EUR}",
    "order_line_id": '{format: "{Order ID}-{Line}"}', "sku": "SKU",
    "qty_ordered": "Quantity", "qty_cancelled_customer": "0", "qty_cancelled_merchant": "0",
    "promised_delivery_at_original": "{column: Promised Date, as_date: true}",
    "promise_is_date": "true", "unit_price": "Unit Price",
    "shipment_id": '{format: "{Order ID}-S"}', "node_id": "{value: main_dc}",
    "delivery_status": "{column: Status, map: {D: delivered, "
    "S: in_transit}, default: pending}", "qty_shipped": "Quantity",
}
EXTRA = {
    "orders": {"market": "Market               # extra column: a dimension (above)",
               "ship_to_timezone": "{value: Europe/Berlin}"},
    "order_lines": {"planned_ship_by_at": "{column: Ship By, as_date: true}",
                    "ship_by_is_date": "true"},
    "shipments": {"shipped_at": "Ship Date              # in_transit / delivered need it",
                  "delivered_at": "Delivered At"},
}


def _table(name: str, commented: bool) -> list[str]:
    table = schema.TABLES[name]
    p = "# " if commented else ""
    out = [f"  {p}{name}:", f"  {p}  from: export",
           *([f"  {p}  unique: {table.primary_key[0]}"] if name in ("orders", "shipments")
             else []),
           *([f"  {p}  # where: \"Status != 'X'\"   # only the rows matching this condition",
              f"  {p}  # sort: {table.primary_key[0]:<18}# the rows in order of column(s)"]
             if name == "orders" else []), f"  {p}  columns:"]
    for col in table.columns:
        if not col.required:
            continue
        enum = f"; one of {', '.join(col.enum)}" if col.enum else ""
        doc = f"; {col.doc}" if col.doc else ""
        value = EXAMPLES.get(col.name, "SOURCE_COLUMN")
        need = "required" if col.absent is None else (
            f"required, or leave out (default {col.absent[0]!r})")
        out.append(f"  {p}    {col.name}: {value:<24} # {col.dtype}, {need}{enum}{doc}")
    for col, value in EXTRA.get(name, {}).items():
        out.append(f"  {p}    {col}: {value}")
    return out


def mapping_template() -> str:
    """The text of the starting mapping file (module doc)."""
    lines = [*_table("orders", False), *_table("order_lines", False),
             "  # Uncomment once the export has ship data:",
             *_table("shipments", True), *_table("shipment_lines", True)]
    return HEADER + "\n".join(lines) + "\n"
