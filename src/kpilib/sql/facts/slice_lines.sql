-- Order lines that are not kit parents (warehouse KPIs work on components; a kit and its
-- components share the node), each with its node (the node of its latest shipment, else the
-- last assigned one), order position oc, node position nc (-1 without node) and slice key.
WITH width AS (
  SELECT COALESCE(MAX(width), 1) AS width FROM node_codes
)
SELECT
  l._row,
  l._row AS line_pos,
  l.order_line_id,
  l.order_id,
  l.qty_ordered,
  l.qty_cancelled_customer,
  l.qty_cancelled_merchant,
  l.planned_ship_by_at,
  COALESCE(ls.ship_node, l.assigned_node_id) AS node,
  o._row AS oc,
  COALESCE(n.nc, -1) AS nc,
  o._row * w.width + COALESCE(n.nc, -1) + 1 AS key
FROM order_lines AS l
JOIN orders AS o ON o.order_id = l.order_id
CROSS JOIN width AS w
LEFT JOIN kit_parents AS kp ON kp.line_id = l.order_line_id
LEFT JOIN line_latest_shipment AS ls ON ls.order_line_id = l.order_line_id
LEFT JOIN node_codes AS n ON n.id = COALESCE(ls.ship_node, l.assigned_node_id)
WHERE kp.line_id IS NULL
