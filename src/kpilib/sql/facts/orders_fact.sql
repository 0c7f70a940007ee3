-- One row per order: population exclusion, start, cancellation, delivery and shipping (the
-- order's requirement lines rolled up by unit_rollup) and terminal time (cancellation, else
-- a final delivery without a missing scan).
WITH shipped AS (
  SELECT
    s.order_id,
    COUNT(DISTINCT s.shipment_id) AS n_shipments,
    COUNT(DISTINCT s.node_id) AS n_ship_nodes
  FROM shipment_lines AS sl
  JOIN shipments AS s ON s.shipment_id = sl.shipment_id
  WHERE s.shipped_at IS NOT NULL
  GROUP BY s.order_id
),
base AS (
  SELECT
    o._row,
    o.order_id,
    p.channel,
    p.order_type,
    p.exclusion,
    CASE WHEN p.exclusion = 'is_test' THEN p.exclusion END AS warehouse_exclusion,
    o.created_at,
    o.authorized_at,
    o.earliest_ship_at,
    o.cancelled_at,
    o.cancel_initiator,
    o.cancel_reason,
    COALESCE(o.authorized_at, o.created_at) AS start_at,
    COALESCE(r.n_need, 0) AS n_need,
    r.final_delivery_at,
    r.first_delivery_at,
    COALESCE(r.missing_scan, FALSE) AS missing_scan,
    r.last_shipped_at,
    r.first_shipped_at,
    COALESCE(r.delivered, FALSE) AS delivered,
    COALESCE(r.fully_shipped, FALSE) AS fully_shipped,
    COALESCE(s.n_shipments, 0) AS n_shipments,
    COALESCE(s.n_ship_nodes, 0) AS n_ship_nodes
  FROM orders AS o
  JOIN order_population AS p ON p._row = o._row
  LEFT JOIN unit_rollup AS r ON r.unit = o.order_id
  LEFT JOIN shipped AS s ON s.order_id = o.order_id
)
SELECT
  *,
  delivered OR cancelled_at IS NOT NULL AS is_terminal,
  CASE
    WHEN cancelled_at IS NOT NULL THEN cancelled_at
    WHEN delivered AND NOT missing_scan THEN final_delivery_at
  END AS terminal_at
FROM base
