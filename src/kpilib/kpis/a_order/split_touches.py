"""Order-handling KPIs: split shipments (A14) and touches (A15), on the order facts of
:mod:`kpilib.fact_tables.orders`; order-grain, evaluated on sub-units when cut by a line-level
dimension, population exclusions counted by reason.

A14 notes
---------
Grain: order (sub-unit for fulfillment_model / product_class); population: orders
fully shipped (every line's required quantity - ordered minus customer and merchant
cancellations - shipped, and at least one unit shipped); anchor: the last ship confirm,
when the order becomes fully shipped.

Edge cases
----------
- ``exclude_customer_requested=True`` (default): split only if one commit unit (lines
  sharing ``promised_delivery_at_original``) left in more than one shipment (node);
  with False the whole order is compared.
- Several packages under one shipment id are one shipment (not a split).
- Population exclusions counted by reason. Orders not yet fully shipped are
  pending. Store-pickup lines without a shipment keep an order out of the
  population (they never ship).

A15 notes
---------
Grain: order (sub-unit for node / fulfillment_model: line-level touches count for the
sub-unit of their line, order-level touches for every sub-unit of the order); anchor:
terminal state = final delivery (A11 definition, pickup = ready_for_pickup) or
cancellation, whichever applies.

touches(o) = count of order_events with actor_type='user' and event_type in
{manual_touch, hold_released, manual_allocation, address_corrected, order_edited,
manual_release, cancelled} (``cancelled`` by a user = manual_cancel), at or before
the terminal time.

Edge cases
----------
- Customer (self-service) and system actions are not touches; notes without a state change
  have no event type and are never counted.
- Orders not yet terminal are pending. A delivered order with a missing delivery
  scan is excluded ``missing_delivery_scan`` (counted at its last ship confirm).
- Population exclusions counted by reason.
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.orders import (
    flow_lines,
    join_on,
    line_by,
    line_shipments,
    per_context,
    subunits,
)
from kpilib.kpis.common import observations
from kpilib.registry import kpi

FLOW_TABLES = ("orders", "order_lines", "shipments", "shipment_lines")
TOUCH_TYPES = ("manual_touch", "hold_released", "manual_allocation", "address_corrected",
               "order_edited", "manual_release", "cancelled")


# --- A14 -------------------------------------------------------------------------------------

A14_DIMS = ("channel", "fulfillment_model", "product_class")


@per_context
def _split_frame(ctx: Context) -> pd.DataFrame:
    """Fully shipped sub-units with distinct shipments / nodes (per unit and per commit unit)."""

    u = subunits(ctx)
    lines = flow_lines(ctx)
    keys = ["order_id", *line_by(ctx)]
    s = line_shipments(ctx)
    s = s.loc[s["shipped_at"].notna(), ["order_line_id", "shipment_id", "node_id",
                                        "qty_shipped"]]
    s = s.merge(lines[[*keys, "order_line_id", "promised_delivery_at_original"]],
                on="order_line_id")
    g = s.groupby(keys, dropna=False, sort=False)
    per = g.agg(n_ship=("shipment_id", "nunique"), n_node=("node_id", "nunique"),
                units=("qty_shipped", "sum"))
    cu = s.groupby([*keys, "promised_delivery_at_original"], dropna=False, sort=False).agg(
        n_ship=("shipment_id", "nunique"), n_node=("node_id", "nunique"))
    cu = cu.groupby(level=list(range(len(keys))), dropna=False, sort=False).max()
    cu.columns = ["cu_ship", "cu_node"]
    return join_on(u.loc[u["fully_shipped"]], per.join(cu).reset_index(), keys)


def _split_obs(ctx: Context, what: str) -> pd.DataFrame:
    u = _split_frame(ctx)
    if what == "shipments":
        return observations(u, ctx, anchor=u["last_shipped_at"], x=u["n_ship"].astype(float),
                            excluded=u["exclusion"])
    if what == "multi_unit":
        num = u["units"] > 1
    else:
        col = ("cu_" if ctx.param("exclude_customer_requested") else "n_") + what
        num = u[col] > 1
    return observations(u, ctx, anchor=u["last_shipped_at"], num=num.astype(float), den=1.0,
                        excluded=u["exclusion"])


@kpi("split_shipment_rate", code="A14", fact="orders",
     name="Split-shipment rate", domain="order", unit="fraction",
     direction="lower", grain="order", kind="rate", tables=FLOW_TABLES, dims=A14_DIMS,
     params=("exclude_customer_requested",))
def split_shipment_rate(ctx: Context) -> pd.DataFrame:
    """|{o fully shipped in P : count(distinct shipment_id) > 1}| / |{o fully shipped in P}|.

    Anchor: the time the order became fully shipped.

    Population: customer orders fully shipped (every required unit shipped or merchant-cancelled, at
    least one shipped); usual order exclusions by reason.

    Grain, population and edge cases: see the A14 notes in the module docstring.
    """
    return _split_obs(ctx, "ship")



@kpi("split_node_rate", code="A14", fact="orders",
     name="Split-node rate", domain="order", unit="fraction",
     direction="lower", grain="order", kind="rate", tables=FLOW_TABLES, dims=A14_DIMS,
     params=("exclude_customer_requested",), requires=("shipments.node_id",))
def split_node_rate(ctx: Context) -> pd.DataFrame:
    """|{o fully shipped in P : count(distinct node_id) > 1}| / |{o fully shipped in P}|.

    Anchor: the time the order became fully shipped.

    Population: as ``split_shipment_rate``.

    Grain, population and edge cases: see the A14 notes in the module docstring.
    """
    return _split_obs(ctx, "node")



@kpi("shipments_per_order", code="A14", fact="orders",
     name="Shipments per order", domain="order",
     unit="shipments/order", direction="lower", grain="order", kind="mean",
     tables=FLOW_TABLES, dims=A14_DIMS)
def shipments_per_order(ctx: Context) -> pd.DataFrame:
    """mean over orders fully shipped in P of count(distinct shipped shipment_id).

    Anchor: the time the order became fully shipped.

    Population: as ``split_shipment_rate``.

    Notes
    -----
    Reading: a raw count, ``exclude_customer_requested`` does not apply.

    Grain, population and edge cases: see the A14 notes in the module docstring.
    """
    return _split_obs(ctx, "shipments")



@kpi("multi_unit_order_share", code="A14", fact="orders",
     name="Multi-unit order share", domain="order",
     unit="fraction", direction="none", grain="order", kind="rate", tables=FLOW_TABLES,
     dims=A14_DIMS)
def multi_unit_order_share(ctx: Context) -> pd.DataFrame:
    """|{o fully shipped in P : Σ qty_shipped > 1}| / |{o fully shipped in P}|.

    Anchor: the time the order became fully shipped.

    Population: as ``split_shipment_rate``.

    Notes
    -----
    Context for A14: single-unit orders cannot split.

    Grain, population and edge cases: see the A14 notes in the module docstring.
    """
    return _split_obs(ctx, "multi_unit")



# --- A15 -------------------------------------------------------------------------------------

A15_DIMS = ("channel", "node", "fulfillment_model")


@per_context
def _touch_frame(ctx: Context) -> pd.DataFrame:
    """Sub-units with ``touches`` (user events of TOUCH_TYPES up to the terminal time)."""

    u = subunits(ctx)
    keys = ["order_id", *line_by(ctx)]
    ev = ctx.table("order_events")
    ev = ev.loc[ev["actor_type"].eq("user").to_numpy() & ctx.event_mask(*TOUCH_TYPES),
                ["order_id", "order_line_id", "event_at"]]
    term = u.drop_duplicates("order_id").set_index("order_id")["order_terminal_at"]
    ev = ev.loc[ev["event_at"] <= ev["order_id"].map(term)]
    if len(keys) == 1:
        counts = ev.groupby("order_id").size().rename("touches")
    else:
        lines = flow_lines(ctx)
        ref = pd.concat([lines[[*keys, "order_line_id"]].rename(columns={"order_line_id": "k"}),
                         lines[[*keys, "top_line_id"]].rename(columns={"top_line_id": "k"})]
                        ).drop_duplicates()
        hit = ev.merge(ref, left_on=["order_id", "order_line_id"], right_on=["order_id", "k"])
        whole = ev.loc[~ev["order_line_id"].isin(ref["k"]) | ev["order_line_id"].isna()]
        whole = whole[["order_id"]].merge(u[keys], on="order_id")
        counts = pd.concat([hit[keys], whole[keys]]).groupby(
            keys, dropna=False).size().rename("touches")
    u = join_on(u, counts.reset_index(), keys)
    u["touches"] = u["touches"].fillna(0.0)
    return u


def _touch_obs(ctx: Context, rate: bool) -> pd.DataFrame:
    u = _touch_frame(ctx)
    cancelled = u["cancelled_at"].notna()
    scanless = u["delivered"] & u["missing_scan"] & ~cancelled
    excluded = u["exclusion"].where(u["exclusion"].notna() | ~scanless,
                                    "missing_delivery_scan")
    anchor = u["order_terminal_at"].where(~scanless, u["last_shipped_at"])
    values = {"num": (u["touches"] == 0).astype(float), "den": 1.0} if rate else \
        {"x": u["touches"]}
    return observations(u, ctx, anchor=anchor, excluded=excluded, **values)


@kpi("order_touch_count", code="A15", fact="orders",
     name="Order touch count", domain="order", unit="touches",
     direction="lower", grain="order", kind="mean", tables=(*FLOW_TABLES, "order_events"),
     dims=A15_DIMS,
     requires=('order_events.actor_type=user',))
def order_touch_count(ctx: Context) -> pd.DataFrame:
    """mean touches(o) over orders reaching a terminal state in P.

    Anchor: the time the order reached a terminal state (delivered, cancelled).

    Population: customer orders that reached a terminal state; usual order exclusions by reason.

    Grain, population and edge cases: see the A15 notes in the module docstring.
    """
    return _touch_obs(ctx, rate=False)


@kpi("touchless_order_rate", code="A15", fact="orders",
     name="Touchless order rate", domain="order", unit="fraction",
     direction="higher", grain="order", kind="rate", tables=(*FLOW_TABLES, "order_events"),
     dims=A15_DIMS,
     requires=('order_events.actor_type=user',))
def touchless_order_rate(ctx: Context) -> pd.DataFrame:
    """|{o terminal in P : touches(o) = 0}| / |{o terminal in P}|.

    Anchor: as ``order_touch_count``.

    Population: as ``order_touch_count``.

    Grain, population and edge cases: see the A15 notes in the module docstring.
    """
    return _touch_obs(ctx, rate=True)
