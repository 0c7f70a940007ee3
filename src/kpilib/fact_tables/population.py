"""Global population filters, decided once for every order.

``order_population(ctx)`` gives one row per order with the reason it leaves the customer-
service population (or NaN when it stays). Reason codes, first match wins:

- ``is_test``: ``orders.is_test`` (excluded everywhere, also from warehouse KPIs);
- ``fraud_cancel``: cancelled with ``cancel_initiator='fraud'``;
- ``duplicate``: cancelled with ``cancel_reason='duplicate'``;
- ``transfer_order``: ``order_type='transfer'`` (customer KPIs only; warehouse KPIs keep it);
- ``replacement_order``: ``order_type='replacement'`` (never a new order in a denominator).

The reasons are decided in SQL (``order_population.sql``) and nowhere else; the first three
(``FAKE_REASONS``) mark the orders that are not real demand (:func:`fake_orders`).

Customer-service KPIs (A1-A16, B1) drop every reason; warehouse work KPIs (B2-B9) and leading
indicators count the work that happened and drop only ``is_test``.
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.sql import run

CUSTOMER_REASONS = ("is_test", "fraud_cancel", "duplicate", "transfer_order", "replacement_order")
WAREHOUSE_REASONS = ("is_test",)
FAKE_REASONS = ("is_test", "fraud_cancel", "duplicate")  # not real demand


def order_population(ctx: Context) -> pd.DataFrame:
    """order_id, channel, order_type, exclusion (reason code or None), warehouse_exclusion
    (``is_test`` or NaN), one row per order in the order of ``orders`` (SQL:
    ``kpilib/sql/facts/order_population.sql``)."""

    def build() -> pd.DataFrame:
        out = run.frame(ctx, "order_population")
        out["warehouse_exclusion"] = out["exclusion"].where(out["exclusion"].eq("is_test"))
        return out

    return ctx.memo("_order_population", build)


def fake_orders(ctx: Context) -> pd.Series:
    """Ids of the orders whose reason is one of ``FAKE_REASONS`` (test, fraud and duplicate
    orders: not real demand) in the whole source ``ctx.source`` (``ctx.ds`` when there is
    none), not only what was known at ``as_of``. Rows of theirs prove nothing about what a
    source records (``engine.recorded``). Built once per context."""

    def build() -> pd.Series:
        source = ctx.source if ctx.source is not None else ctx.ds
        whole = ctx if source is ctx.ds else Context(ds=source, as_of=ctx.as_of, keys=ctx.keys)
        pop = order_population(whole)
        return pop.loc[pop["exclusion"].isin(FAKE_REASONS), "order_id"]

    return ctx.memo("_fake_order_ids", build)
