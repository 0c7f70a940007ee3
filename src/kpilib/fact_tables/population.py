"""Global population filters, decided once for every order.

``order_population(ctx)`` gives one row per order with the reason it leaves the customer-
service population (or NaN when it stays). Reason codes, first match wins:

- ``is_test``: ``orders.is_test`` (excluded everywhere, also from warehouse KPIs);
- ``fraud_cancel``: cancelled with ``cancel_initiator='fraud'``;
- ``duplicate``: cancelled with ``cancel_reason='duplicate'``;
- ``transfer_order``: ``order_type='transfer'`` (customer KPIs only; warehouse KPIs keep it);
- ``replacement_order``: ``order_type='replacement'`` (never a new order in a denominator).

Customer-service KPIs (A1-A16, B1) drop every reason; warehouse work KPIs (B2-B9) and leading
indicators count the work that happened and drop only ``is_test``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context

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
    """order_id, channel, order_type, exclusion (reason code or NaN), warehouse_exclusion."""

    def build() -> pd.DataFrame:
        o = ctx.ds.orders
        conditions = [
            *fake_order_conditions(o),
            o["order_type"].eq("transfer").to_numpy(),
            o["order_type"].eq("replacement").to_numpy(),
        ]
        reason = np.select(conditions, list(CUSTOMER_REASONS), default="")
        out = o[["order_id", "channel", "order_type"]].copy()
        out["exclusion"] = pd.Series(np.where(reason == "", None, reason), index=o.index,
                                     dtype=object)
        out["warehouse_exclusion"] = out["exclusion"].where(out["exclusion"].eq("is_test"))
        return out.reset_index(drop=True)

    return ctx.memo("_order_population", build)
