-- Requirement lines keyed by the unit they roll up into (unit_rollup): here the whole order.
-- A caller that rolls lines up per sub-unit (an order's lines in one node, SKU...) hands
-- unit_rollup rows of its own with these columns instead.
SELECT
  _row,
  order_id AS unit,
  required,
  delivered_ok,
  delivered_first_at,
  delivered_last_at,
  missing_scan,
  shipped_ok,
  shipped_qty,
  first_shipped_at,
  last_shipped_at
FROM order_flow_lines
