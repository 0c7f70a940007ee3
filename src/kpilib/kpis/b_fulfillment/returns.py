"""B9 return processing cycle time and its companions, from the
``return_lines`` fact. Warehouse population: only test orders are excluded."""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.timeline import expand_open
from kpilib.fact_tables.times import hours
from kpilib.kpis.common import first_reason, observations, record_columns
from kpilib.registry import kpi

DIMS = ("node", "fulfillment_model", "channel", "product_class", "supplier", "sku",
        "return_reason", "disposition")
COMMON = dict(domain="fulfillment", direction="lower", tables=("orders", "order_lines",
                                                               "returns"), dims=DIMS)


def _lines(ctx: Context) -> pd.DataFrame:
    return ctx.fact("return_lines")


@kpi("return_processing_hours", code="B9", fact="return_lines",
     name="Return processing cycle time", unit="hours",
     grain="return line", kind="mean", **COMMON,
     requires=('returns.disposition_at',))
def return_processing_hours(ctx: Context) -> pd.DataFrame:
    """processing = disposition_at − received_at (hours) per return line; mean, p50, p90, n
    over lines dispositioned in P.

    Anchor: disposition time.

    Population: received return lines with a disposition; never-received returns and negative
    durations excluded by reason.

    Grain: return line; anchor = ``disposition_at``. Returns never received (lost, or a
    disposition recorded with no receipt) are excluded (``not_received``); negative durations
    too (``negative_duration``). Lines received and not yet dispositioned are pending: see
    ``open_return_age_hours``. Node = receiving node.
    """
    rl = _lines(ctx)
    reason = first_reason(rl["warehouse_exclusion"], rl["disposition_at"].notna()
                    & rl["received_at"].isna(), "not_received")
    reason = first_reason(reason, rl["processing_hours"] < 0, "negative_duration")
    return observations(rl, ctx, rows=rl.index, anchor=rl["disposition_at"],
                        x=rl["processing_hours"].where(reason.isna()), excluded=reason)


@kpi("return_refund_hours", code="B9", fact="return_lines",
     name="Return refund cycle time", unit="hours",
     grain="return line", kind="mean", **COMMON,
     requires=('returns.refund_issued_at',))
def return_refund_hours(ctx: Context) -> pd.DataFrame:
    """refund = refund_issued_at − received_at (hours) per return line; mean, p50, p90, n over
    refunds issued in P.

    Anchor: refund time.

    Population: refunded return lines received before the refund; pre-receipt refunds excluded
    (``pre_receipt_refund``).

    Grain: return line; anchor = ``refund_issued_at``. Refunds issued before the return was
    received (instant or keep-it refunds, including returns not received at all) are not
    errors: they are excluded from the duration under ``pre_receipt_refund`` and reported by
    ``pre_receipt_refund_share``.
    """
    rl = _lines(ctx)
    reason = first_reason(rl["warehouse_exclusion"], rl["pre_receipt_refund"], "pre_receipt_refund")
    return observations(rl, ctx, rows=rl.index, anchor=rl["refund_issued_at"],
                        x=rl["refund_hours"].where(reason.isna()), excluded=reason)


@kpi("pre_receipt_refund_share", code="B9", fact="return_lines",
     name="Pre-receipt refund share", unit="fraction",
     grain="return line", kind="rate", **COMMON,
     requires=('returns.refund_issued_at',))
def pre_receipt_refund_share(ctx: Context) -> pd.DataFrame:
    """pre_receipt_refund_share = |{refunds issued in P before the return was received (or
    with no receipt)}| / |{refunds issued in P}|.

    Anchor: refund time.

    Population: refunded return lines.

    Grain: return line; anchor = ``refund_issued_at`` (B9 companion). A refund issued while
    the parcel is still on its way is pre-receipt, also when the receipt follows later.
    """
    rl = _lines(ctx)
    return observations(rl, ctx, rows=rl.index, anchor=rl["refund_issued_at"],
                        num=rl["pre_receipt_refund"].astype(float), den=1.0,
                        excluded=rl["warehouse_exclusion"])


@kpi("open_return_age_hours", code="B9", fact="return_lines",
     name="Open return age (snapshot)", unit="hours",
     grain="return line (snapshot)", kind="mean", snapshot=True, **COMMON)
def open_return_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t − received_at of return lines received by t and not dispositioned by t
    (hours); mean, p50, p90, n.

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: return lines received and not yet dispositioned at the snapshot.

    Snapshot at ``as_of`` (``freq=None``) or each period end capped at ``as_of``.
    Reading: "open receipts" are returns physically received whose processing (B9's clock)
    has not finished; RMAs not yet received are E5's ``open_rma_age_hours``.
    """
    rl = _lines(ctx)
    base = rl[[*record_columns(rl, ctx), "received_at", "warehouse_exclusion"]]
    rows = expand_open(base, rl["received_at"], rl["disposition_at"], ctx.snapshot_points())
    age = hours(rows["t"], rows["received_at"])
    return observations(rows, ctx, period=rows["period"],
                        x=age.where(rows["warehouse_exclusion"].isna()),
                        excluded=rows["warehouse_exclusion"])
