-- One row per order: why it leaves the customer-service population (first match wins), or
-- NULL when it stays. Warehouse KPIs drop only is_test.
SELECT
  o._row,
  o.order_id,
  o.channel,
  o.order_type,
  CASE
    WHEN o.is_test THEN 'is_test'
    WHEN o.cancel_initiator = 'fraud' THEN 'fraud_cancel'
    WHEN o.cancel_reason = 'duplicate' THEN 'duplicate'
    WHEN o.order_type = 'transfer' THEN 'transfer_order'
    WHEN o.order_type = 'replacement' THEN 'replacement_order'
  END AS exclusion
FROM orders AS o
