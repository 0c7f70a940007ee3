"""Early warning replayed on the three scenarios: how many late orders it flags in time.

For each scenario the history is replayed as point-in-time views every ``--step-hours`` (the
state a store holds after each batch of that cadence; ``kpilib.asof.restrict``). At each step
the early-warning queue of ``kpilib.early_warning`` is rebuilt exactly as a refresh does
(model refitted on the outcomes known by then, at most every 24 h of data), and so is the
rule baseline: an open order still unreleased ``--unreleased-hours`` after creation.

Per method, over the orders whose outcome is known at the end (ship-by deadline on or after
the first step):

- ``caught``: share of late orders first flagged at least ``--lead-hours`` before their
  deadline;
- ``false alarms``: share of flagged orders that shipped on time;
- ``flagged``: orders flagged at least once.

Methods: the model's risk at or above each ``--thresholds`` value, at or above the model's own
threshold (``auto``: chosen at each refit from the training scores for ``--target-recall``),
the rule, and ``auto`` or the rule.

Ceiling: the share of late orders open at no step at least ``--lead-hours`` before their
deadline (created and due between two steps); no method can catch them.

Run: ``nice .venv/bin/python benchmarks/eval_early_warning.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from kpilib import early_warning
from kpilib.asof import restrict
from kpilib.dataset import Dataset
from kpilib.risk.features import releases, ship_outcomes
from kpilib.synth import generate


def rule_flags(view, t: pd.Timestamp, hours: float) -> pd.Series:
    """Order ids open at ``t``, not released, created at least ``hours`` before ``t``."""
    o = view.orders
    keep = ~o["is_test"].astype(bool) & (o["order_type"] != "transfer") & o["cancelled_at"].isna()
    released = set(releases(view)["order_id"])
    old = o["created_at"] <= t - pd.Timedelta(hours=hours)
    deadline = view.order_lines.groupby("order_id")["planned_ship_by_at"].min()
    ahead = o["order_id"].map(deadline) > t
    return o.loc[keep & old & ahead & ~o["order_id"].isin(released), "order_id"]


def replay(ds, first: pd.Timestamp, step: pd.Timedelta, args, thresholds: list[float]
           ) -> dict[str, dict[str, pd.Timestamp]]:
    """First flag time per order id, per method; appends the model's threshold of every step
    to ``thresholds``."""
    cfg = early_warning.settings({"target_recall": args.target_recall})
    first_flag: dict[str, dict[str, pd.Timestamp]] = {}
    model, t = None, first
    while t <= ds.data_as_of:
        view = restrict(ds, t)
        warn = early_warning.evaluate(view, t, "owner", cfg, "eval", model)
        model = warn.model
        q = warn.queue
        hits = {f"model>={thr:g}": q.loc[q["risk"] >= thr, "item"] for thr in args.thresholds}
        if model is not None:
            hits["model auto"] = q.loc[q["risk"] >= model.threshold, "item"]
            thresholds.append(model.threshold)
        hits[f"rule X={args.unreleased_hours:g}h"] = rule_flags(view, t, args.unreleased_hours)
        for name, ids in hits.items():
            for oid in ids:
                first_flag.setdefault(name, {}).setdefault(str(oid), t)
        t += step
    return first_flag


def ceiling(ds, first: pd.Timestamp, step: pd.Timedelta, lead: float) -> float:
    """Share of the scored late orders open at no step ``<= deadline − lead`` (not cancelled,
    created at or before the step)."""
    out = ship_outcomes(ds)
    out = out[(out["late"] == 1) & (out["deadline"] >= first)].set_index("order_id")
    o = ds.orders.set_index("order_id").reindex(out.index)
    steps = pd.date_range(first, ds.data_as_of, freq=step).asi8
    lim = (out["deadline"] - pd.Timedelta(hours=lead)).astype("int64").to_numpy()
    created = o["created_at"].astype("int64").to_numpy()
    gone = o["cancelled_at"].fillna(pd.Timestamp.max.tz_localize("UTC")).astype("int64")
    # the first step at or after creation must come before both the limit and the cancellation
    nxt = np.searchsorted(steps, created, side="left")
    at = np.where(nxt < len(steps), steps[np.minimum(nxt, len(steps) - 1)], np.iinfo(np.int64).max)
    reachable = (at <= lim) & (at < gone.to_numpy())
    return float((~reachable).mean()) if len(out) else float("nan")


def score(ds, first_flag: dict[str, pd.Timestamp], first: pd.Timestamp, lead: float) -> dict:
    out = ship_outcomes(ds)
    out = out[out["late"].notna() & (out["deadline"] >= first)].set_index("order_id")
    flag = out.index.to_series().map(first_flag)
    late = out["late"] == 1
    in_time = flag.notna() & (flag <= out["deadline"] - pd.Timedelta(hours=lead))
    flagged = flag.notna()
    return {"late": int(late.sum()), "orders": len(out),
            "caught": float((in_time & late).sum() / max(late.sum(), 1)),
            "false_alarms": float((flagged & ~late).sum() / max(flagged.sum(), 1)),
            "flagged": int(flagged.sum())}


class _Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help with each option's default and the module docstring as it is written."""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                formatter_class=_Help)
    p.add_argument("--scenarios", default="omnichannel,beauty_stockouts,apparel_surge",
                   help="generator scenarios, comma-separated")
    p.add_argument("--days", type=int, default=42, help="days of data generated per scenario")
    p.add_argument("--scale", type=float, default=0.1,
                   help="generator scale (1 is about 54,000 orders a year)")
    p.add_argument("--seed", type=int, default=7, help="generator seed")
    p.add_argument("--warmup-days", type=int, default=14,
                   help="history before the first step (not scored)")
    p.add_argument("--step-hours", type=float, default=6.0,
                   help="hours between two point-in-time views (the batch cadence)")
    p.add_argument("--lead-hours", type=float, default=4.0,
                   help="N: a late order counts as caught when flagged N hours before its deadline")
    p.add_argument("--unreleased-hours", type=float, default=6.0,
                   help="X of the rule baseline: open and unreleased X hours after creation")
    p.add_argument("--thresholds", default="0.2,0.35,0.5",
                   help="fixed risk thresholds of the model, comma-separated")
    p.add_argument("--target-recall", type=float, default=early_warning.DEFAULTS["target_recall"],
                   help="share of late training orders the auto threshold reaches")
    args = p.parse_args()
    args.thresholds = [float(x) for x in args.thresholds.split(",")]
    print(f"step {args.step_hours:g} h, N = {args.lead_hours:g} h, rule X = "
          f"{args.unreleased_hours:g} h, risk thresholds {args.thresholds}, scale "
          f"{args.scale:g}, {args.days} days (first {args.warmup_days} are history)")
    print(f"{'scenario':18s}{'method':18s}{'late':>6s}{'orders':>8s}{'caught':>8s}"
          f"{'false alarms':>14s}{'flagged':>9s}")
    for scenario in args.scenarios.split(","):
        t0 = time.perf_counter()
        frames, _ = generate(scenario=scenario, seed=args.seed, days=args.days,
                             scale=args.scale)
        ds = Dataset.from_frames(**frames)
        first = ds.orders["created_at"].min().floor("D") + pd.Timedelta(days=args.warmup_days)
        step, chosen = pd.Timedelta(hours=args.step_hours), []
        flags = replay(ds, first, step, args, chosen)
        model, rule = flags.get("model auto", {}), flags.get(
            f"rule X={args.unreleased_hours:g}h", {})
        flags["auto or rule"] = {
            k: min(v for v in (model.get(k), rule.get(k)) if v is not None)
            for k in set(model) | set(rule)}
        for name, ff in flags.items():
            s = score(ds, ff, first, args.lead_hours)
            print(f"{scenario:18s}{name:18s}{s['late']:6d}{s['orders']:8d}{s['caught']:8.1%}"
                  f"{s['false_alarms']:14.1%}{s['flagged']:9d}")
        print(f"  ceiling: {ceiling(ds, first, step, args.lead_hours):.1%} of the late orders "
              f"open at no step {args.lead_hours:g} h before their deadline; auto threshold "
              f"{min(chosen, default=float('nan')):.3f}-{max(chosen, default=float('nan')):.3f}"
              f" ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
