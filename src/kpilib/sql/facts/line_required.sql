-- Per order line (kit lines and components too): the required quantity r = qty_ordered -
-- qty_cancelled_customer and the merchant-cancelled quantity cm of the line-level (A1-A10)
-- facts, where a full-order cancellation cancels whatever had not shipped on confirmed
-- shipments, on the customer's or the merchant's side by its initiator (system counts as
-- merchant); neither below 0. The requirement lines of order_flow_lines use their own rule
-- (the remaining quantity, scaled by the kit's remaining fraction).
WITH base AS (
  SELECT
    l._row,
    l.qty_ordered AS qty,
    l.qty_cancelled_customer AS cc,
    l.qty_cancelled_merchant AS cm,
    COALESCE(s.qty, 0.0) AS shp,
    COALESCE(o.cancelled_at IS NOT NULL AND o.cancel_initiator = 'customer', FALSE)
      AS by_customer,
    COALESCE(o.cancelled_at IS NOT NULL AND o.cancel_initiator IN ('merchant', 'system'),
             FALSE) AS by_merchant
  FROM order_lines AS l
  LEFT JOIN orders AS o ON o.order_id = l.order_id
  LEFT JOIN line_shipped AS s ON s.order_line_id = l.order_line_id
)
SELECT
  _row,
  GREATEST(qty - CASE WHEN by_customer THEN GREATEST(cc, qty - cm - shp) ELSE cc END, 0.0)
    AS r,
  GREATEST(CASE WHEN by_merchant THEN GREATEST(cm, qty - cc - shp) ELSE cm END, 0.0) AS cm
FROM base
