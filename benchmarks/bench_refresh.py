"""Hourly batch refresh vs full recompute, and landing-to-alert time through `watch`.

Steps (one process): generate a history (``--scale`` x about 50,000 orders a year, default
100k orders), cut it one hour before its end, build a store from that history (timed: the
full load + validate + compute of every maintained set, i.e. a full recompute), then:

1. apply the last hour as one batch with ``kpilib.refresh.refresh`` (timed, ``--repeat``
   times on fresh copies of the store; the median is printed) and print its share of the
   full recompute (goal: at most 2 %);
2. start ``kpilib.watch.watch`` on the store in a thread, with a webhook on 127.0.0.1, move
   the same batch into the inbox, and time landing -> the webhook receiving that batch's
   alerts (goal: under 10 s). The early-warning threshold is 0 here so the batch is sure to
   raise an alert (every newly released order opens one).

Run: ``nice .venv/bin/python benchmarks/bench_refresh.py`` (``--help`` lists the options).
Machine shared: quote ``uptime`` with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd

from kpilib.dataset import Dataset
from kpilib.refresh import refresh
from kpilib.store import create
from kpilib.store.replay import batches, write_batch
from kpilib.synth import generate
from kpilib.watch import watch


def webhook() -> tuple[HTTPServer, list[tuple[float, dict]]]:
    got: list[tuple[float, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((time.perf_counter(), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=2.0, help="2.0 = about 100k orders/year")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--kpis", default="all")
    p.add_argument("--by", default="channel")
    p.add_argument("--freq", default="W")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workdir", default=None,
                   help="keep the stores and batches here (default: a temporary folder, "
                        "removed at the end)")
    args = p.parse_args()
    if args.workdir:
        run(args, Path(args.workdir))
        return
    with tempfile.TemporaryDirectory(prefix="bench_refresh_") as tmp:
        run(args, Path(tmp))


def run(args: argparse.Namespace, work: Path) -> None:
    """Time the full recompute, the hourly batch and landing -> alert, working in `work`."""
    t = time.perf_counter()
    frames, _ = generate(scenario="omnichannel", seed=args.seed, days=args.days,
                         scale=args.scale)
    ds = Dataset.from_frames(**frames)
    print(f"history: {len(ds.orders):,} orders, {len(ds.order_lines):,} lines "
          f"(generated in {time.perf_counter() - t:.0f} s)", flush=True)
    cut = ds.data_as_of - pd.Timedelta(hours=1)
    (_, hist, _), (bid, last, _) = list(batches(ds, [cut]))
    history = write_batch(work / "history", hist, snapshot=True)
    batch = write_batch(work / f"hour-{cut:%Y%m%dT%H%M}", last, snapshot=False)
    print("hourly batch rows: " + ", ".join(f"{k} {len(v)}" for k, v in last.items()))
    sets = [{"kpis": args.kpis, "by": [b for b in args.by.split(",") if b],
             "freq": args.freq}]
    ew = {"threshold": 0.0}
    base = work / "store"
    t = time.perf_counter()
    create(base, sets, early_warning=ew)
    init = refresh(base, history)
    full = time.perf_counter() - t
    print(f"full recompute (store from the history: validate + compute + band + alerts + early "
          f"warning): {full:.1f} s; {init.seconds}", flush=True)
    times, stages = [], []
    for i in range(args.repeat):
        copy = work / f"store{i}"
        shutil.copytree(base, copy, symlinks=True)
        t = time.perf_counter()
        s = refresh(copy, batch)
        times.append(time.perf_counter() - t)
        stages.append(s.seconds)
        print(f"  hourly batch run {i + 1}: {times[-1]:.1f} s "
              f"{ {k: round(v, 1) for k, v in s.seconds.items()} }", flush=True)
    med = statistics.median(times)
    print(f"hourly batch refresh: median {med:.1f} s = {med / full:.1%} of a full recompute "
          f"(goal <= 2%)")
    split = {k: round(statistics.median(st[k] for st in stages), 2) for k in stages[0]}
    print(f"hourly batch stages (median s, RefreshSummary.seconds): {split}")
    server, got = webhook()
    live = work / "store_live"
    shutil.copytree(base, live, symlinks=True)
    cfg = json.loads((live / "store.json").read_text())
    cfg["webhook"] = f"http://127.0.0.1:{server.server_port}/hook"
    (live / "store.json").write_text(json.dumps(cfg))
    inbox = work / "inbox"
    inbox.mkdir()
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(live, inbox),
                              kwargs={"poll": 0.2, "stop": stop}, daemon=True)
    thread.start()
    time.sleep(1.0)
    staged = work / ".staged"
    shutil.copytree(batch, staged)
    landed = time.perf_counter()
    os.rename(staged, inbox / batch.name)
    while not any(pl["run_id"] == batch.name for _, pl in got):
        if time.perf_counter() - landed > 600:
            raise SystemExit("no alert delivered within 600 s")
        time.sleep(0.05)
    at = next(ts for ts, pl in got if pl["run_id"] == batch.name)
    stop.set()
    thread.join(60)
    n = sum(len(pl["alerts"]) for _, pl in got if pl["run_id"] == batch.name)
    print(f"landing to alert delivered: {at - landed:.1f} s ({n} alert event(s); goal < 10 s)")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
