"""Global population filters, decided once for every order.

``order_population(ctx)`` gives one row per order with the reason it leaves the customer-
service population (or NaN when it stays). Reason codes, first match wins:

- ``is_test``: ``orders.is_test`` (excluded everywhere, also from warehouse KPIs);
- ``fraud_cancel``: cancelled with ``cancel_initiator='fraud'``;
- ``duplicate``: cancelled with ``cancel_reason='duplicate'``;
- ``transfer_order``: ``order_type='transfer'`` (customer KPIs only; warehouse KPIs keep it);
- ``replacement_order``: ``order_type='replacement'`` (never a new order in a denominator).

The reasons are decided in SQL (``order_population.sql``); :func:`fake_order_conditions`
states the first three again for ``engine.recorded``, which works on raw ``orders`` frames.

Customer-service KPIs (A1-A16, B1) drop every reason; warehouse work KPIs (B2-B9) and leading
indicators count the work that happened and drop only ``is_test``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.sql import run

CUSTOMER_REASONS = ("is_test", "fraud_cancel", "duplicate", "transfer_order", "replacement_order")
WAREHOUSE_REASONS = ("is_test",)


def fake_order_conditions(orders: pd.DataFrame) -> list[np.ndarray]:
    """Per order: is_test, fraud_cancel, duplicate (the first three reasons, in that order).
    These orders are not real demand; rows of theirs also prove nothing about what a source
    records (``engine.recorded``)."""
    return [orders["is_test"].to_numpy(dtype=bool),
            orders["cancel_initiator"].eq("fraud").to_numpy(),
            orders["cancel_reason"].eq("duplicate").to_numpy()]


def order_population(ctx: Context) -> pd.DataFrame:
    """order_id, channel, order_type, exclusion (reason code or None), warehouse_exclusion
    (``is_test`` or NaN), one row per order in the order of ``orders`` (SQL:
    ``kpilib/sql/facts/order_population.sql``)."""

    def build() -> pd.DataFrame:
        out = run.frame(ctx, "order_population")
        out["warehouse_exclusion"] = out["exclusion"].where(out["exclusion"].eq("is_test"))
        return out

    return ctx.memo("_order_population", build)
