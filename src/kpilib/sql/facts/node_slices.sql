-- One row per order-node slice (key of slice_lines), in key order: what its lines say
-- (n_lines, earliest planned_ship_by, whether every line is customer-cancelled / cancelled /
-- done = remaining quantity shipped on confirmed shipments; NULL without lines), what its
-- shipments at the node say (first / last ship confirm, shipments with / without one, carrier
-- and service level of the last confirmed one) and its first release (a released_to_node
-- event at the node, or one without node for the whole order).
WITH width AS (
  SELECT COALESCE(MAX(width), 1) AS width FROM node_codes
),
line_slices AS (
  SELECT
    l.key,
    COUNT(*) AS n_lines,
    MIN(l.planned_ship_by_at) AS planned_ship_by_at,
    MIN(CASE WHEN l.qty_ordered - l.qty_cancelled_customer <= 0 THEN 1 ELSE 0 END) = 1
      AS all_customer_cancelled,
    MIN(CASE WHEN l.qty_ordered - l.qty_cancelled_customer - l.qty_cancelled_merchant <= 0
             THEN 1 ELSE 0 END) = 1 AS all_cancelled,
    MIN(CASE WHEN l.qty_ordered - l.qty_cancelled_customer - l.qty_cancelled_merchant
                  - COALESCE(s.qty, 0.0) <= 1e-9
             THEN 1 ELSE 0 END) = 1 AS lines_done
  FROM slice_lines AS l
  LEFT JOIN line_shipped AS s ON s.order_line_id = l.order_line_id
  GROUP BY l.key
),
ship_rows AS (
  SELECT
    o._row * w.width + COALESCE(n.nc, -1) + 1 AS key,
    s.shipped_at,
    s.carrier,
    s.service_level,
    ROW_NUMBER() OVER (
      PARTITION BY o._row * w.width + COALESCE(n.nc, -1) + 1, s.shipped_at IS NULL
      ORDER BY s.shipped_at DESC, s._row DESC
    ) AS rank_
  FROM shipments AS s
  JOIN orders AS o ON o.order_id = s.order_id
  CROSS JOIN width AS w
  LEFT JOIN node_codes AS n ON n.id = s.node_id
),
ship_slices AS (
  SELECT
    key,
    MIN(shipped_at) AS first_shipped_at,
    MAX(shipped_at) AS last_shipped_at,
    COUNT(shipped_at) AS n_shipped,
    COUNT(*) - COUNT(shipped_at) AS n_unshipped,
    MAX(CASE WHEN shipped_at IS NOT NULL AND rank_ = 1 THEN carrier END) AS carrier,
    MAX(CASE WHEN shipped_at IS NOT NULL AND rank_ = 1 THEN service_level END)
      AS service_level
  FROM ship_rows
  GROUP BY key
),
slices AS (
  SELECT
    COALESCE(ls.key, ss.key) AS key,
    COALESCE(ls.n_lines, 0) AS n_lines,
    ls.planned_ship_by_at,
    COALESCE(ls.all_customer_cancelled, FALSE) AS all_customer_cancelled,
    COALESCE(ls.all_cancelled, FALSE) AS all_cancelled,
    ls.lines_done,
    ss.first_shipped_at,
    ss.last_shipped_at,
    COALESCE(ss.n_shipped, 0) AS n_shipped,
    COALESCE(ss.n_unshipped, 0) AS n_unshipped,
    ss.carrier,
    ss.service_level
  FROM line_slices AS ls
  FULL OUTER JOIN ship_slices AS ss ON ss.key = ls.key
),
released AS (
  SELECT
    o._row AS oc,
    CASE WHEN e.node_id IS NOT NULL
         THEN o._row * w.width + COALESCE(n.nc, -1) + 1 END AS key,
    e.event_at
  FROM order_events AS e
  JOIN orders AS o ON o.order_id = e.order_id
  CROSS JOIN width AS w
  LEFT JOIN node_codes AS n ON n.id = e.node_id
  WHERE e.event_type = 'released_to_node'
),
release_at_node AS (
  SELECT key, MIN(event_at) AS first_at FROM released WHERE key IS NOT NULL GROUP BY key
),
release_any_node AS (
  SELECT oc, MIN(event_at) AS first_at FROM released WHERE key IS NULL GROUP BY oc
),
coded AS (
  SELECT s.*, CAST(FLOOR(s.key / w.width) AS BIGINT) AS oc,
         CAST(s.key % w.width AS BIGINT) - 1 AS nc
  FROM slices AS s
  CROSS JOIN width AS w
)
SELECT
  c.key AS _row,
  c.*,
  n.id AS node,
  LEAST(rn.first_at, ra.first_at) AS released_at
FROM coded AS c
LEFT JOIN node_codes AS n ON n.nc = c.nc
LEFT JOIN release_at_node AS rn ON rn.key = c.key
LEFT JOIN release_any_node AS ra ON ra.oc = c.oc
