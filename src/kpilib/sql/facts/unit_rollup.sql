-- One row per unit of order_units (an order, or a sub-unit of one), in the order of its first
-- line. delivered: a line with required > 0 exists and every such line is delivered;
-- final_delivery_at: latest delivery among those lines; first_delivery_at: earliest delivery
-- of any line; fully_shipped: every line's required quantity shipped and at least one unit
-- shipped; last_shipped_at / first_shipped_at over the shipped lines.
SELECT
  MIN(u._row) AS _row,
  u.unit,
  COUNT(CASE WHEN u.required > 1e-9 THEN 1 END) AS n_need,
  MAX(CASE WHEN u.required > 1e-9 THEN u.delivered_last_at END) AS final_delivery_at,
  MIN(u.delivered_first_at) AS first_delivery_at,
  MAX(CASE WHEN u.missing_scan THEN 1 ELSE 0 END) = 1 AS missing_scan,
  MAX(u.last_shipped_at) AS last_shipped_at,
  MIN(u.first_shipped_at) AS first_shipped_at,
  COUNT(CASE WHEN u.required > 1e-9 THEN 1 END) > 0
    AND COUNT(CASE WHEN u.required > 1e-9 AND NOT u.delivered_ok THEN 1 END) = 0
    AS delivered,
  COUNT(CASE WHEN NOT u.shipped_ok THEN 1 END) = 0
    AND MAX(CASE WHEN u.shipped_qty > 1e-9 THEN 1 ELSE 0 END) = 1 AS fully_shipped
FROM order_units AS u
GROUP BY u.unit
