-- Every node id seen in nodes, line assignments, shipments and order events, with its
-- position nc in sorted order and width = number of ids + 1: an order-node slice is keyed
-- by order position * width + nc + 1 (0 for a line or shipment without node).
WITH ids AS (
  SELECT assigned_node_id AS id FROM order_lines
  UNION SELECT node_id FROM nodes
  UNION SELECT node_id FROM shipments
  UNION SELECT node_id FROM order_events
)
SELECT
  id,
  ROW_NUMBER() OVER (ORDER BY id) - 1 AS nc,
  COUNT(*) OVER () + 1 AS width
FROM ids
WHERE id IS NOT NULL
