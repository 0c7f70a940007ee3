-- Per order line (kit lines too): first and last ready_for_pickup time of the line, of its
-- kit line, or of its whole order (an event without order_line_id); NULL when none. Events
-- on a line or an order the dataset does not know are ignored.
WITH ready AS (
  SELECT e.order_id, e.order_line_id, e.event_at
  FROM order_events AS e
  WHERE e.event_type = 'ready_for_pickup'
),
ready_line AS (   -- events on a known line
  SELECT r.order_line_id, MIN(r.event_at) AS first_at, MAX(r.event_at) AS last_at
  FROM ready AS r
  JOIN order_lines AS l ON l.order_line_id = r.order_line_id
  GROUP BY r.order_line_id
),
ready_order AS (  -- events on a known order without a line: every line of the order
  SELECT r.order_id, MIN(r.event_at) AS first_at, MAX(r.event_at) AS last_at
  FROM ready AS r
  JOIN orders AS o ON o.order_id = r.order_id
  WHERE r.order_line_id IS NULL
  GROUP BY r.order_id
)
SELECT
  l._row,
  l.order_line_id,
  LEAST(own.first_at, kit_line.first_at, o.first_at) AS ready_first_at,
  GREATEST(own.last_at, kit_line.last_at, o.last_at) AS ready_last_at
FROM order_lines AS l
LEFT JOIN ready_line AS own ON own.order_line_id = l.order_line_id
LEFT JOIN ready_line AS kit_line ON kit_line.order_line_id = l.parent_line_id
LEFT JOIN ready_order AS o ON o.order_id = l.order_id
