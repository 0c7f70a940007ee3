"""Hand-written DuckDB SQL for six order KPIs, weekly by channel: the yardstick of
``bench_engine.py`` (what a data engineer would write instead of using kpilib).

KPIs: order_cycle_time_hours, order_release_time_hours, cancellation_rate_pre_ship,
split_shipment_rate, on_time_shipment_rate, line_fill_rate, with kpilib's default parameters
and the definitions in the KPIs' docstrings (population exclusions, kit lines, full-order
cancellations, pre-order backorders, merchant holds, commit units). It reads the parquet
files directly (``<table>.parquet`` or a folder ``<table>/`` of part files) and does no
contract checks. Store pickup (``ready_for_pickup`` events, pickup_in_store nodes) is not
modelled: the benchmark datasets have none.

:func:`run` returns one DataFrame ``kpi, period, channel, numerator, denominator, n, p50,
p90`` with the non-empty (period, channel) cells only.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

TABLES = ("orders", "order_lines", "order_events", "shipments", "shipment_lines")
# planned times, deadlines and targets are not observations: they do not move "as of"
PLANNED = {("orders", "earliest_ship_at"), ("order_lines", "requested_delivery_at"),
           ("order_lines", "promised_delivery_at_original"),
           ("order_lines", "promised_delivery_at_current"),
           ("order_lines", "planned_ship_by_at"), ("products", "launch_date"),
           ("products", "discontinue_date"), ("waves", "cutoff_at"),
           ("forecasts", "target_period_start"), ("fulfillment_costs", "period_end"),
           ("replenishment_recommendations", "decision_due_at")}

BASE = """
CREATE TEMP TABLE pop AS
SELECT order_id, channel, created_at, cancelled_at, cancel_initiator, authorized_at,
       earliest_ship_at,
       coalesce(authorized_at, created_at) AS start_at,
       CASE WHEN is_test THEN 'is_test' WHEN cancel_initiator = 'fraud' THEN 'fraud_cancel'
            WHEN cancel_reason = 'duplicate' THEN 'duplicate'
            WHEN order_type = 'transfer' THEN 'transfer_order'
            WHEN order_type = 'replacement' THEN 'replacement_order' END AS exclusion
FROM orders;

CREATE TEMP TABLE kit AS SELECT DISTINCT parent_line_id AS line_id
FROM order_lines WHERE parent_line_id IS NOT NULL;

-- confirmed or not, every shipment row of a line
CREATE TEMP TABLE ship_rows AS
SELECT sl.order_line_id, sl.shipment_id, sl.qty_shipped, s.order_id, s.node_id,
       s.created_at, s.shipped_at, s.delivered_at, s.delivery_status, s.carrier
FROM shipment_lines sl JOIN shipments s USING (shipment_id);

-- requirement lines (kit components stand in for their kit line)
CREATE TEMP TABLE req AS
WITH kf AS (
  SELECT l.order_line_id,
         greatest(least(coalesce((l.qty_ordered - l.qty_cancelled_customer
                  - l.qty_cancelled_merchant) / CASE WHEN l.qty_ordered > 0
                  THEN l.qty_ordered END, 0.0), 1.0), 0.0) AS frac
  FROM order_lines l SEMI JOIN kit ON l.order_line_id = kit.line_id)
SELECT l.order_line_id, l.order_id, l.promised_delivery_at_original,
       greatest(l.qty_ordered - l.qty_cancelled_customer - l.qty_cancelled_merchant, 0.0)
         * coalesce(kf.frac, 1.0) AS required
FROM order_lines l LEFT JOIN kf ON kf.order_line_id = l.parent_line_id
WHERE l.order_line_id NOT IN (SELECT line_id FROM kit);

CREATE TEMP TABLE req_ship AS
SELECT r.order_line_id, r.order_id, r.required, r.promised_delivery_at_original,
       coalesce(sum(s.qty_shipped) FILTER (s.shipped_at IS NOT NULL), 0) AS shipped_qty,
       min(s.shipped_at) AS first_shipped_at, max(s.shipped_at) AS last_shipped_at,
       coalesce(sum(s.qty_shipped) FILTER (s.delivery_status = 'delivered'), 0)
         AS delivered_qty,
       max(s.delivered_at) FILTER (s.delivery_status = 'delivered') AS delivered_last_at,
       coalesce(bool_or(s.delivery_status = 'delivered' AND s.delivered_at IS NULL), false)
         AS missing_scan
FROM req r LEFT JOIN ship_rows s USING (order_line_id)
GROUP BY ALL;

CREATE TEMP TABLE order_roll AS
SELECT order_id,
       count(*) FILTER (required > 1e-9) AS n_need,
       count(*) FILTER (required > 1e-9 AND delivered_qty < required - 1e-9) AS n_open,
       max(delivered_last_at) FILTER (required > 1e-9) AS final_delivery_at,
       bool_or(missing_scan) AS missing_scan,
       count(*) FILTER (shipped_qty < required - 1e-9) AS n_unshipped,
       bool_or(shipped_qty > 1e-9) AS any_shipped,
       max(last_shipped_at) AS last_shipped_at, min(first_shipped_at) AS first_shipped_at
FROM req_ship GROUP BY order_id;
"""

CYCLE = """
SELECT 'order_cycle_time_hours' AS kpi,
       date_trunc('week', r.final_delivery_at::TIMESTAMPTZ) AS period, p.channel,
       (epoch_ns(r.final_delivery_at) - epoch_ns(p.start_at)) / 3.6e12 AS x
FROM pop p JOIN order_roll r USING (order_id)
WHERE p.exclusion IS NULL AND p.cancelled_at IS NULL AND r.n_need > 0 AND r.n_open = 0
  AND NOT r.missing_scan AND r.final_delivery_at >= p.start_at
  AND r.final_delivery_at <= $as_of
"""

CANCEL = """
SELECT 'cancellation_rate_pre_ship' AS kpi,
       date_trunc('week', p.created_at::TIMESTAMPTZ) AS period,
       p.channel,
       (p.cancelled_at IS NOT NULL AND (r.first_shipped_at IS NULL
        OR p.cancelled_at < r.first_shipped_at))::DOUBLE AS num
FROM pop p LEFT JOIN order_roll r USING (order_id)
WHERE p.exclusion IS NULL AND p.created_at <= $as_of
"""

SPLIT = """
WITH cu AS (
  SELECT r.order_id, r.promised_delivery_at_original, count(DISTINCT s.shipment_id) AS n
  FROM ship_rows s JOIN req r USING (order_line_id)
  WHERE s.shipped_at IS NOT NULL GROUP BY ALL),
per AS (SELECT order_id, max(n) AS cu_ship FROM cu GROUP BY order_id)
SELECT 'split_shipment_rate' AS kpi,
       date_trunc('week', r.last_shipped_at::TIMESTAMPTZ) AS period,
       p.channel, (per.cu_ship > 1)::DOUBLE AS num
FROM pop p JOIN order_roll r USING (order_id) LEFT JOIN per USING (order_id)
WHERE p.exclusion IS NULL AND r.n_unshipped = 0 AND r.any_shipped
  AND r.last_shipped_at <= $as_of
"""

SLICES = """
-- order-node slices: leaf lines at their latest shipment's node, else the assigned node
CREATE TEMP TABLE line_node AS
WITH latest AS (
  SELECT order_line_id, node_id FROM ship_rows
  QUALIFY row_number() OVER (PARTITION BY order_line_id
          ORDER BY coalesce(shipped_at, created_at) DESC, shipment_id DESC) = 1),
conf AS (SELECT order_line_id, sum(qty_shipped) AS q FROM ship_rows
         WHERE shipped_at IS NOT NULL GROUP BY ALL)
SELECT l.order_line_id, l.order_id, coalesce(latest.node_id, l.assigned_node_id) AS node,
       l.planned_ship_by_at,
       l.qty_ordered - l.qty_cancelled_customer AS req,
       l.qty_ordered - l.qty_cancelled_customer - l.qty_cancelled_merchant AS rem,
       coalesce(conf.q, 0) AS shipped
FROM order_lines l LEFT JOIN latest USING (order_line_id) LEFT JOIN conf USING (order_line_id)
WHERE l.order_line_id NOT IN (SELECT line_id FROM kit);

CREATE TEMP TABLE slices AS
WITH ls AS (
  SELECT order_id, node, count(*) AS n_lines, min(planned_ship_by_at) AS planned_ship_by,
         bool_and(req <= 0) AS all_cc, bool_and(rem <= 0) AS all_c,
         bool_and(rem - shipped <= 1e-9) AS lines_done
  FROM line_node GROUP BY ALL),
ss AS (
  SELECT order_id, node_id AS node, max(shipped_at) AS last_shipped_at,
         count(shipped_at) AS n_shipped, count(*) - count(shipped_at) AS n_unshipped
  FROM shipments GROUP BY ALL)
SELECT order_id, node, coalesce(n_lines, 0) AS n_lines, planned_ship_by,
       coalesce(all_cc, false) AS all_cc, coalesce(all_c, false) AS all_c,
       last_shipped_at, coalesce(n_shipped, 0) AS n_shipped,
       CASE WHEN coalesce(n_lines, 0) > 0 THEN coalesce(lines_done, true)
                 AND coalesce(n_shipped, 0) > 0
            ELSE coalesce(n_shipped, 0) > 0 AND coalesce(n_unshipped, 0) = 0 END AS complete
FROM ls FULL JOIN ss USING (order_id, node);
"""

RELEASE = """
WITH rel AS (
  SELECT order_id, node_id, min(event_at) AS t FROM order_events
  WHERE event_type = 'released_to_node' GROUP BY ALL),
s AS (
  SELECT sl.order_id, sl.node, p.channel, p.exclusion, p.cancelled_at,
         CASE WHEN p.earliest_ship_at > p.start_at THEN p.earliest_ship_at
              ELSE p.start_at END AS start_at,
         least(a.t, b.t) AS released_at
  FROM slices sl JOIN pop p USING (order_id)
  LEFT JOIN rel a ON a.order_id = sl.order_id AND a.node_id = sl.node
  LEFT JOIN rel b ON b.order_id = sl.order_id AND b.node_id IS NULL)
SELECT 'order_release_time_hours' AS kpi,
       date_trunc('week', released_at::TIMESTAMPTZ) AS period, channel,
       (epoch_ns(released_at) - epoch_ns(start_at)) / 3.6e12 AS x
FROM s
WHERE exclusion IS NULL AND released_at <= $as_of
  AND NOT coalesce(cancelled_at < released_at, false) AND released_at >= start_at
"""

ON_TIME = """
WITH h AS (
  SELECT order_id, order_line_id, event_type = 'hold_placed' AS placed, event_at,
         row_number() OVER (PARTITION BY order_id, order_line_id, event_type
                            ORDER BY event_at) AS k
  FROM order_events
  WHERE event_type IN ('hold_placed', 'hold_released') AND actor_type IS DISTINCT FROM
        'customer'),
pairs AS (
  SELECT a.order_id, a.order_line_id, a.event_at,
         greatest((epoch_ns(coalesce(b.event_at, $as_of)) - epoch_ns(a.event_at)) / 1e9
                  / 3600, 0) AS dur
  FROM h a LEFT JOIN h b ON b.order_id = a.order_id AND NOT b.placed AND b.k = a.k
       AND b.order_line_id IS NOT DISTINCT FROM a.order_line_id
  WHERE a.placed),
hold AS (
  SELECT sl.order_id, sl.node, sum(pr.dur) AS hours
  FROM slices sl
  JOIN pairs pr ON pr.order_id = sl.order_id AND pr.event_at < sl.planned_ship_by
  LEFT JOIN line_node ln ON ln.order_line_id = pr.order_line_id
  WHERE pr.order_line_id IS NULL
     OR (ln.order_line_id IS NOT NULL AND ln.node IS NOT DISTINCT FROM sl.node)
  GROUP BY ALL),
s AS (
  SELECT sl.*, p.channel, p.exclusion, p.cancelled_at,
         make_timestamp_ns(epoch_ns(sl.planned_ship_by)
           + round(coalesce(hold.hours, 0) * 3.6e12)::BIGINT)::TIMESTAMPTZ_NS AS deadline
  FROM slices sl JOIN pop p USING (order_id)
  LEFT JOIN hold ON hold.order_id = sl.order_id AND hold.node IS NOT DISTINCT FROM sl.node)
SELECT 'on_time_shipment_rate' AS kpi,
       date_trunc('week', deadline::TIMESTAMPTZ) AS period, channel,
       (complete AND coalesce(last_shipped_at <= deadline, false))::DOUBLE AS num
FROM s
WHERE exclusion IS NULL AND deadline <= $as_of
  AND NOT (all_cc AND n_shipped = 0 AND NOT coalesce(cancelled_at > deadline, false))
  AND NOT (all_c AND NOT all_cc AND n_shipped = 0)
"""

LINE_FILL = """
WITH conf AS (
  SELECT order_line_id, sum(qty_shipped) AS shp FROM ship_rows
  WHERE shipped_at IS NOT NULL GROUP BY ALL),
base AS MATERIALIZED (   -- every line, with the full-order cancellation raising cc / cm
  SELECT l.order_line_id, l.order_id, l.created_at, l.qty_ordered,
         par.order_line_id AS parent_line_id,   -- null unless the kit line exists
         p.channel, p.exclusion, p.cancelled_at, p.cancel_initiator, p.earliest_ship_at,
         coalesce(conf.shp, 0) AS shp, conf.order_line_id IS NOT NULL AS own,
         CASE WHEN p.cancelled_at IS NOT NULL AND p.cancel_initiator = 'customer'
              THEN greatest(l.qty_cancelled_customer, l.qty_ordered
                            - l.qty_cancelled_merchant - coalesce(conf.shp, 0))
              ELSE l.qty_cancelled_customer END AS cc,
         CASE WHEN p.cancelled_at IS NOT NULL AND p.cancel_initiator IN ('merchant', 'system')
              THEN greatest(l.qty_cancelled_merchant, l.qty_ordered
                            - l.qty_cancelled_customer - coalesce(conf.shp, 0))
              ELSE l.qty_cancelled_merchant END AS cm0
  FROM order_lines l JOIN pop p USING (order_id) LEFT JOIN conf USING (order_line_id)
  LEFT JOIN order_lines par ON par.order_line_id = l.parent_line_id),
top AS MATERIALIZED (
  SELECT *, greatest(qty_ordered - cc, 0) AS r, greatest(cm0, 0) AS cm,
         order_line_id IN (SELECT line_id FROM kit) AS is_kit
  FROM base WHERE parent_line_id IS NULL),
phys AS MATERIALIZED (   -- the lines that carry each top line's shipping, with the kit ratio
  SELECT t.order_line_id AS ei, t.order_line_id AS li, 1.0 AS ratio FROM top t
  WHERE NOT (t.is_kit AND NOT t.own)
  UNION ALL
  SELECT t.order_line_id, c.order_line_id,
         CASE WHEN t.qty_ordered > 0 AND c.qty_ordered / t.qty_ordered > 0
              THEN c.qty_ordered / t.qty_ordered ELSE 1.0 END
  FROM top t JOIN base c ON c.parent_line_id = t.order_line_id
  WHERE t.is_kit AND NOT t.own),
ev AS (     -- line events go to the top line, order events to every top line
  SELECT coalesce(b.parent_line_id, b.order_line_id) AS ei, e.event_type, e.event_at
  FROM order_events e JOIN base b ON b.order_line_id = e.order_line_id
  WHERE e.event_type IN ('backordered', 'cancelled')
  UNION ALL
  SELECT t.order_line_id, e.event_type, e.event_at
  FROM order_events e JOIN top t ON t.order_id = e.order_id
  WHERE e.order_line_id IS NULL AND e.event_type IN ('backordered', 'cancelled')),
evs AS MATERIALIZED (
  SELECT ev.ei,
         min(ev.event_at) FILTER (ev.event_type = 'backordered' AND (t.earliest_ship_at IS NULL
             OR ev.event_at >= t.earliest_ship_at)) AS bo_after,
         bool_or(ev.event_type = 'backordered' AND ev.event_at < t.earliest_ship_at)
           AS bo_before,
         min(ev.event_at) FILTER (ev.event_type = 'cancelled') AS cancel_event
  FROM ev JOIN top t ON t.order_line_id = ev.ei GROUP BY ev.ei),
by_esa AS (
  SELECT ph.ei, min(coalesce(q.qty, 0) / ph.ratio) AS qty
  FROM phys ph JOIN top t ON t.order_line_id = ph.ei
  LEFT JOIN (SELECT s.order_line_id, sum(s.qty_shipped) AS qty FROM ship_rows s
             JOIN base b USING (order_line_id)
             WHERE s.shipped_at IS NOT NULL AND s.shipped_at <= b.earliest_ship_at
             GROUP BY ALL) q ON q.order_line_id = ph.li
  GROUP BY ph.ei),
bo AS MATERIALIZED (
  SELECT t.order_line_id AS ei,
         least(evs.bo_after, CASE WHEN coalesce(evs.bo_before, false)
               AND t.r - t.cm - coalesce(by_esa.qty, 0) > 1e-9
               AND NOT coalesce(t.cancelled_at <= t.earliest_ship_at, false)
               AND t.earliest_ship_at <= $as_of THEN t.earliest_ship_at END) AS bo_start_at
  FROM top t LEFT JOIN evs ON evs.ei = t.order_line_id
  LEFT JOIN by_esa ON by_esa.ei = t.order_line_id),
per_phys AS (
  SELECT ph.ei, ph.li, ph.ratio,
         sum(s.qty_shipped) FILTER (bo.bo_start_at IS NULL OR s.created_at < bo.bo_start_at)
           AS ff, min(s.shipped_at) AS first_ship
  FROM phys ph JOIN bo ON bo.ei = ph.ei
  LEFT JOIN ship_rows s ON s.order_line_id = ph.li AND s.shipped_at IS NOT NULL
  GROUP BY ALL),
fill AS (
  SELECT ei, min(coalesce(ff, 0) / ratio) AS first_fill_qty, min(first_ship) AS first_ship_at
  FROM per_phys GROUP BY ei),
x AS (
  SELECT t.*, fill.first_fill_qty, fill.first_ship_at,
         CASE WHEN t.cancel_initiator IN ('merchant', 'system') THEN t.cancelled_at
              ELSE evs.cancel_event END AS cancel_at
  FROM top t JOIN fill ON fill.ei = t.order_line_id LEFT JOIN evs ON evs.ei = t.order_line_id),
a AS (
  SELECT channel, first_fill_qty >= r - 1e-9 AS ok,
         coalesce(first_ship_at, CASE WHEN cm > 1e-9 THEN coalesce(cancel_at, created_at)
                  END) AS anchor
  FROM x WHERE exclusion IS NULL AND r > 1e-9)
SELECT 'line_fill_rate' AS kpi,
       date_trunc('week', anchor::TIMESTAMPTZ) AS period, channel,
       ok::DOUBLE AS num
FROM a WHERE anchor <= $as_of
"""


def _source(folder: Path, table: str) -> str:
    parts = folder / table
    if parts.is_dir():
        return f"read_parquet('{parts}/*.parquet')"
    return f"read_parquet('{folder / (table + '.parquet')}')"


def data_as_of(con: duckdb.DuckDBPyConnection, folder: Path) -> pd.Timestamp:
    """Latest observed time over every timestamp / date column of every table (planned
    columns left out), as kpilib's ``Dataset.data_as_of`` defines it."""
    latest = []
    for file in sorted(folder.iterdir()):
        name = file.name.removesuffix(".parquet")
        if not (file.suffix == ".parquet" or file.is_dir()):
            continue
        src = _source(folder, name)
        cols = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
        times = [c[0] for c in cols if c[1].startswith(("TIMESTAMP", "DATE"))
                 and (name, c[0]) not in PLANNED]
        if times:
            expr = ", ".join(f"max({c})::TIMESTAMPTZ" for c in times)
            latest.append(con.execute(f"SELECT greatest({expr}) FROM {src}").fetchone()[0])
    return pd.Timestamp(max(t for t in latest if t is not None)).tz_convert("UTC")


def run(folder: str | Path, threads: int | None = None) -> pd.DataFrame:
    """The six KPIs weekly by channel over the parquet files of ``folder`` (see module doc)."""
    folder = Path(folder)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM {_source(folder, t)}")
    as_of = data_as_of(con, folder)
    con.execute(BASE)
    con.execute(SLICES)
    means = " UNION ALL ".join(f"({q})" for q in (CYCLE, RELEASE))
    rates = " UNION ALL ".join(f"({q})" for q in (CANCEL, SPLIT, ON_TIME, LINE_FILL))
    sql = f"""
    SELECT kpi, period, channel, sum(x) AS numerator, count(x)::DOUBLE AS denominator,
           count(x) AS n, quantile_cont(x, 0.5) AS p50, quantile_cont(x, 0.9) AS p90
    FROM ({means}) GROUP BY ALL
    UNION ALL
    SELECT kpi, period, channel, sum(num) AS numerator, count(*)::DOUBLE AS denominator,
           count(*) AS n, NULL::DOUBLE AS p50, NULL::DOUBLE AS p90
    FROM ({rates}) GROUP BY ALL
    """
    literal = f"'{as_of.isoformat()}'::TIMESTAMPTZ_NS"
    out = con.execute(sql.replace("$as_of", literal)).df()
    con.close()
    out["period"] = pd.to_datetime(out["period"], utc=True)
    return out.sort_values(["kpi", "period", "channel"]).reset_index(drop=True)
