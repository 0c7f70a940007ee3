-- Per order line: node, carrier and service level of its latest shipment (ship confirm,
-- else creation time; ties broken by the higher shipment id, then the later row).
WITH rows_ AS (
  SELECT
    sl.order_line_id,
    s.node_id AS ship_node,
    s.carrier,
    s.service_level,
    sl._row,
    ROW_NUMBER() OVER (
      PARTITION BY sl.order_line_id
      ORDER BY COALESCE(s.shipped_at, s.created_at) DESC NULLS FIRST,
               s.shipment_id DESC, sl._row DESC
    ) AS rank_
  FROM shipment_lines AS sl
  JOIN shipments AS s ON s.shipment_id = sl.shipment_id
)
SELECT _row, order_line_id, ship_node, carrier, service_level
FROM rows_
WHERE rank_ = 1
