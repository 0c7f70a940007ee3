"""Benchmark: how long one widget change of the explorer takes, cold and warm (issue 18).

Opens the order explorer on a dataset (default ``data/sample``, what ``make lab`` prepares),
then plays the same sequence of widget changes several times, as an analyst would: pick OTIF,
cut it by channel, pick the web segment, go one week back, list the passed records, switch KPI
(perfect order, then order cycle time), filter on a node, clear the filter, back to total.
Each change is timed from setting the value to the widget holding the new chart and records.
The first round is cold (engine contexts and fact tables are built); the later rounds are warm
(the explorer caches contexts, results and drill buckets per dataset and parameters). Goal:
every warm change under 2 s on the default sample.

Usage::

    .venv/bin/python benchmarks/bench_explorer.py                 # data/sample, 3 rounds
    .venv/bin/python benchmarks/bench_explorer.py --data data/ci --rounds 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

GOAL_S = 2.0


def steps(ui):
    """(name, action) of one round; each action sets one widget value or clicks."""
    def setter(widget, value):
        return lambda: setattr(widget, "value", value() if callable(value) else value)

    return [
        ("kpi = otif_rate", setter(ui.kpi, "otif_rate")),
        ("segment = channel", setter(ui.by, "channel")),
        ("value = web", setter(ui.value, "web")),
        ("period = one week back", setter(ui.period, lambda: ui.period.options[
            min(1, len(ui.period.options) - 1)][1])),
        ("rows = passed", setter(ui.outcome, "passed")),
        ("kpi = perfect_order_rate", setter(ui.kpi, "perfect_order_rate")),
        ("kpi = order_cycle_time_hours", setter(ui.kpi, "order_cycle_time_hours")),
        ("filters = node=DC-2 (Enter)", setter(ui.filters, "node=DC-2")),
        ("filters cleared (Enter)", setter(ui.filters, "")),
        ("segment = total", setter(ui.by, None)),
        ("Update button", ui.update.click),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="data/sample", help="dataset folder")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (the first is cold)")
    args = parser.parse_args()
    if not Path(args.data).is_dir():
        print(f"dataset folder not found: {args.data} (run `make data`)", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    from kpilib.reports.explorer import Explorer
    from kpilib.reports.explorer_widgets import ExplorerWidget
    from kpilib.reports.session import Report

    t0 = time.perf_counter()
    rep = Report.open(args.data, freq="W")
    t1 = time.perf_counter()
    ui = ExplorerWidget(Explorer(rep, domain="order"))
    t2 = time.perf_counter()
    print(f"load {t1 - t0:.2f} s, first view {t2 - t1:.2f} s; {len(rep.ds.orders):,} orders; "
          f"load average {os.getloadavg()[0]:.2f}")
    warm: dict[str, list[float]] = {}
    for r in range(args.rounds):
        print(f"round {r + 1} ({'cold' if r == 0 else 'warm'}):")
        for name, action in steps(ui):
            t = time.perf_counter()
            action()
            dt = time.perf_counter() - t
            problem = f"  [{ui.message.value}]" if ui.message.value else ""
            print(f"  {name:32s} {dt:6.2f} s  {len(ui.rows):6d} rows{problem}")
            if r:
                warm.setdefault(name, []).append(dt)
    if warm:
        medians = {k: statistics.median(v) for k, v in warm.items()}
        worst = max(medians.values())
        print(f"warm: median per change {statistics.median(medians.values()):.2f} s, slowest "
              f"change (median of rounds) {worst:.2f} s, goal < {GOAL_S:.0f} s: "
              f"{'met' if worst < GOAL_S else 'NOT met'}; load average "
              f"{os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
