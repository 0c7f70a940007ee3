-- Per order line with shipments: the quantity on confirmed shipments (with shipped_at).
SELECT sl.order_line_id, SUM(sl.qty_shipped) AS qty
FROM shipment_lines AS sl
JOIN shipments AS s ON s.shipment_id = sl.shipment_id
WHERE s.shipped_at IS NOT NULL
GROUP BY sl.order_line_id
