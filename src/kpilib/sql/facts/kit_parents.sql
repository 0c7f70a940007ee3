-- Order lines that are kits: the line id of every line some component names as its parent.
SELECT DISTINCT parent_line_id AS line_id
FROM order_lines
WHERE parent_line_id IS NOT NULL
