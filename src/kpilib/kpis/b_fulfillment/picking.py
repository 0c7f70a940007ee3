"""B2 picking accuracy and B3 pick productivity. Warehouse population: only test orders are
excluded (leading and warehouse figures count the work that happened).

B2 notes
--------
A pick error is a task with ``error_detected`` at any detection point (pack
verification, audit, customer: errors caught at pack still count), or a return with
reason ``wrong_item``/``missing_item`` on the line requested within ``maturity_days``
(default 14) of the line's last pick. A short the picker reported (``short_reported``
with error type ``wrong_qty`` or none) is not a pick error (it is an inventory-accuracy
issue, C6). Cancelled tasks are ignored; a unit with an open task is pending. Transfer
orders are included; test orders excluded. ``preliminary`` while a unit's last
pick is younger than the maturity window (B2 14 days; measured from the pick, as
the pick is what is being judged). Cut by a task-level dimension (picker,
product_class...) the unit is the sub-unit of its tasks in the segment.

B3 notes
--------
Grain: node-day; anchors = ``picked_at`` for picks, local midnight of ``work_date`` (in
the reporting time zone) for hours. A pick line is one ``pick_tasks`` row confirmed with
``qty_picked > 0`` (a location visit serving three order lines is three rows). Only
``activity='pick'`` hours are in the denominator (indirect time excluded). Zero pick hours
→ undefined. Test orders' picks are excluded. Cut by ``picker`` the hours are matched on
``labor_hours.worker_id``. Automated picks cannot be told apart (pick tasks carry no such tag),
so all confirmed picks count; product_class is not offered (hours carry no product class).
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.fact_tables.times import day_anchor
from kpilib.fact_tables.warehouse import pick_tasks, pick_units
from kpilib.kpis.common import observations
from kpilib.registry import kpi

PICK_DIMS = ("node", "fulfillment_model", "picker", "channel", "product_class", "supplier",
             "sku")


def _accuracy_obs(ctx: Context, unit: str) -> pd.DataFrame:
    u = pick_units(ctx, unit)
    return observations(u, ctx, anchor=u["last_picked_at"].where(u["picked"]),
                        num=(~u["error"]).astype(float), den=1.0,
                        excluded=u["warehouse_exclusion"], preliminary=u["preliminary"])


@kpi("order_picking_accuracy", code="B2", fact="pick_lines",
     name="Order picking accuracy", domain="fulfillment",
     unit="fraction", direction="higher", grain="order-node slice (picked)", kind="rate",
     tables=("orders", "order_lines", "pick_tasks"), dims=PICK_DIMS, params=("maturity_days",))
def order_picking_accuracy(ctx: Context) -> pd.DataFrame:
    """order_picking_accuracy = |{slices picked in P with no pick error}| / |{slices picked
    in P}|; slice = the pick tasks of one order at one node; anchor = its last pick.

    Anchor: the slice's last pick.

    Population: picked slices of every order that was worked, transfers included; test orders
    excluded.

    Grain, population and edge cases: see the B2 notes in the module docstring.
    """
    return _accuracy_obs(ctx, "order")


@kpi("line_picking_accuracy", code="B2", fact="pick_lines",
     name="Line picking accuracy", domain="fulfillment",
     unit="fraction", direction="higher", grain="pick line (order line at a node)",
     kind="rate", tables=("orders", "order_lines", "pick_tasks"), dims=PICK_DIMS,
     params=("maturity_days",))
def line_picking_accuracy(ctx: Context) -> pd.DataFrame:
    """line_picking_accuracy = |{pick lines picked in P with no error}| / |{pick lines picked
    in P}|; pick line = the pick tasks of one order line at one node; anchor = last pick.

    Anchor: the pick line's last pick.

    Population: as ``order_picking_accuracy``, per order line at a node.

    Grain, population and edge cases: see the B2 notes in the module docstring.
    """
    return _accuracy_obs(ctx, "line")


PROD_DIMS = ("node", "fulfillment_model", "picker")


def _productivity_obs(ctx: Context, units: bool) -> pd.DataFrame:
    t = pick_tasks(ctx)
    t = t.loc[t["picked_at"].notna() & (t["qty_picked"] > 0)]
    picks = observations(t, ctx, anchor=t["picked_at"], num=t["qty_picked"] if units else 1.0,
                         den=0.0, n=1, excluded=t["warehouse_exclusion"])
    lh = ctx.table("labor_hours")
    lh = lh.loc[lh["activity"].eq("pick")]
    fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
    labor_dims = {"node": lh["node_id"], "picker": lh["worker_id"],
                  "fulfillment_model": lh["node_id"].map(fm)}
    hours_rows = observations(pd.DataFrame(labor_dims), ctx,
                              anchor=day_anchor(lh["work_date"], ctx.tz), num=0.0,
                              den=lh["hours"], n=0, excluded=None)
    return pd.concat([picks, hours_rows], ignore_index=True)


@kpi("lines_picked_per_hour", code="B3", fact=None,
     name="Lines picked per hour", domain="fulfillment",
     unit="lines/hour", direction="higher", grain="node-day", kind="ratio",
     tables=("orders", "order_lines", "pick_tasks", "labor_hours"), dims=PROD_DIMS)
def lines_picked_per_hour(ctx: Context) -> pd.DataFrame:
    """lines_picked_per_hour = |{pick lines confirmed in P}| / Σ labor_hours.hours
    (activity 'pick') with work_date in P.

    Anchor: pick confirmation for picks; the work date for hours.

    Population: confirmed pick tasks with units picked (test orders excluded) over hours booked to
    the ``pick`` activity.

    Grain, population and edge cases: see the B3 notes in the module docstring.
    """
    return _productivity_obs(ctx, units=False)


@kpi("units_picked_per_hour", code="B3", fact=None,
     name="Units picked per hour", domain="fulfillment",
     unit="units/hour", direction="higher", grain="node-day", kind="ratio",
     tables=("orders", "order_lines", "pick_tasks", "labor_hours"), dims=PROD_DIMS)
def units_picked_per_hour(ctx: Context) -> pd.DataFrame:
    """units_picked_per_hour = Σ qty_picked of pick lines confirmed in P / Σ labor_hours.hours
    (activity 'pick') with work_date in P.

    Anchor: as ``lines_picked_per_hour``.

    Population: as ``lines_picked_per_hour``, counting units.

    Grain, population and edge cases: see the B3 notes in the module docstring.
    """
    return _productivity_obs(ctx, units=True)


