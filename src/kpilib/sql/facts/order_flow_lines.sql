-- One row per requirement line (an order line that is not a kit line: a kit's components
-- stand in for it): required (remaining) quantity scaled by its kit's remaining fraction (the
-- line-level facts' r and cm are line_required's), shipped and delivered quantities and times.
-- Store pickup: a line with a ready_for_pickup time (line_ready: its own, its kit line's or
-- its order's) or at a pickup_in_store node is delivered at its ready time, never by a scan.
WITH kit_frac AS (
  SELECT
    l.order_line_id,
    CASE
      WHEN l.qty_ordered > 0
      THEN LEAST(GREATEST((l.qty_ordered - l.qty_cancelled_customer
                           - l.qty_cancelled_merchant) / l.qty_ordered, 0.0), 1.0)
      ELSE 0.0
    END AS frac
  FROM order_lines AS l
  JOIN kit_parents AS kit ON kit.line_id = l.order_line_id
),
req AS (
  SELECT
    l._row,
    l.order_line_id,
    l.order_id,
    l.parent_line_id,
    l.promised_delivery_at_original,
    GREATEST(l.qty_ordered - l.qty_cancelled_customer - l.qty_cancelled_merchant, 0.0)
      * COALESCE(kf.frac, 1.0) AS required,
    CAST(COALESCE(l.parent_line_id, l.order_line_id) AS DOUBLE) AS top_line_id
  FROM order_lines AS l
  LEFT JOIN kit_parents AS kit ON kit.line_id = l.order_line_id
  LEFT JOIN kit_frac AS kf ON kf.order_line_id = l.parent_line_id
  WHERE kit.line_id IS NULL
),
ship AS (
  SELECT
    sl.order_line_id,
    SUM(CASE WHEN s.shipped_at IS NOT NULL THEN sl.qty_shipped ELSE 0.0 END) AS shipped_qty,
    MIN(s.shipped_at) AS first_shipped_at,
    MAX(s.shipped_at) AS last_shipped_at,
    SUM(CASE WHEN s.delivery_status = 'delivered' THEN sl.qty_shipped ELSE 0.0 END)
      AS delivered_qty,
    MIN(CASE WHEN s.delivery_status = 'delivered' THEN s.delivered_at END) AS scan_first_at,
    MAX(CASE WHEN s.delivery_status = 'delivered' THEN s.delivered_at END) AS scan_last_at,
    MAX(CASE WHEN s.delivery_status = 'delivered' AND s.delivered_at IS NULL
             THEN 1 ELSE 0 END) = 1 AS missing_scan
  FROM shipment_lines AS sl
  JOIN shipments AS s ON s.shipment_id = sl.shipment_id
  GROUP BY sl.order_line_id
),
line_model AS (   -- fulfillment model of the line's node (shipping node, else assigned)
  SELECT l.order_line_id, n.fulfillment_model
  FROM order_lines AS l
  LEFT JOIN line_latest_shipment AS ls ON ls.order_line_id = l.order_line_id
  LEFT JOIN nodes AS n ON n.node_id = COALESCE(ls.ship_node, l.assigned_node_id)
),
flow AS (
  SELECT
    q._row,
    q.order_line_id,
    q.order_id,
    q.promised_delivery_at_original,
    q.required,
    q.top_line_id,
    COALESCE(s.shipped_qty, 0.0) AS shipped_qty,
    s.first_shipped_at,
    s.last_shipped_at,
    COALESCE(s.delivered_qty, 0.0) AS delivered_qty,
    COALESCE(s.missing_scan, FALSE) AS scan_missing,
    s.scan_first_at,
    s.scan_last_at,
    r.ready_first_at,
    r.ready_last_at,
    r.ready_last_at IS NOT NULL
      OR COALESCE(m.fulfillment_model = 'pickup_in_store', FALSE) AS is_pickup
  FROM req AS q
  LEFT JOIN ship AS s ON s.order_line_id = q.order_line_id
  LEFT JOIN line_ready AS r ON r._row = q._row
  LEFT JOIN line_model AS m ON m.order_line_id = q.order_line_id
)
SELECT
  _row,
  order_line_id,
  order_id,
  promised_delivery_at_original,
  required,
  top_line_id,
  shipped_qty,
  first_shipped_at,
  last_shipped_at,
  delivered_qty,
  scan_missing AND NOT is_pickup AS missing_scan,
  is_pickup,
  CASE WHEN is_pickup THEN ready_first_at ELSE scan_first_at END AS delivered_first_at,
  CASE WHEN is_pickup THEN ready_last_at ELSE scan_last_at END AS delivered_last_at,
  CASE
    WHEN is_pickup THEN ready_last_at IS NOT NULL
    ELSE COALESCE(delivered_qty >= required - 1e-9, FALSE)
  END AS delivered_ok,
  COALESCE(shipped_qty >= required - 1e-9, FALSE) AS shipped_ok
FROM flow
