"""`kpilib watch`: batches processed once, rejected ones filed with a reason, SIGTERM stops
between batches, and kill -9 mid-batch loses or duplicates no batch and no alert."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest
from store_helpers import daily_batches, scenario_dataset

import kpilib
from kpilib.refresh import refresh
from kpilib.store import create, open_store
from kpilib.watch import watch

KPIS = ["order_cycle_time_hours", "on_time_shipment_rate", "cancellation_rate_pre_ship"]
# every open order alerts (threshold 0), so each batch opens and closes alerts; hourly
# training snapshots give this short run enough late rows to fit a model from the first batch
EW = {"threshold": 0.0, "near_hours": 1e6, "min_train": 10, "snapshot_hours": 1.0}


class Hook:
    """A webhook on 127.0.0.1 recording every JSON payload it receives."""

    def __init__(self) -> None:
        self.payloads: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.payloads.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[tuple[str, str, str]]:
        return [(p["run_id"], a["alert_key"], a["event"]) for p in self.payloads
                for a in p["alerts"]]


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """Batches of a short omnichannel run and the dataset they add up to."""
    root = tmp_path_factory.mktemp("replay")
    ds = scenario_dataset("omnichannel")
    return ds, daily_batches(ds, root / "staging")


def _copy(batch: Path, dest: Path) -> None:
    dest.mkdir(parents=True)
    for f in batch.iterdir():
        (dest / f.name).write_bytes(f.read_bytes())


def _new_store(path: Path, url: str | None) -> Path:
    opts = {"early_warning": EW, "webhook_options": {"retries": 0, "timeout": 5}}
    if url:
        opts["webhook"] = url
    create(path, [{"kpis": KPIS, "by": ["channel"], "freq": "D"}], **opts)
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from kpilib.cli.main import main; main()", *args]


def _wait(condition, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert proc.poll() is None and time.time() < deadline, "watcher stopped or stalled"
        time.sleep(0.05)


def _events_of(store: Path) -> list[tuple[str, str, str]]:
    out = []
    for f in sorted((store / "alert_runs").glob("*/alerts.jsonl")):
        out += [(r["run_id"], r["alert_key"], r["event"])
                for r in map(json.loads, f.read_text().splitlines())]
    return out


def test_once_applies_in_order_and_files_rejected(tmp_path, replay):
    ds, batches = replay
    st = _new_store(tmp_path / "st", None)
    inbox = tmp_path / "inbox"
    for b in batches[:3]:
        _copy(b, inbox / b.name)
    bad = inbox / "zz-bad"
    bad.mkdir()
    (bad / "orders.csv").write_text("order_id,channel\nO-x,web\n")
    (inbox / ".incoming").mkdir()  # still being written: ignored
    stats = watch(st, inbox, once=True)
    assert stats.applied == [b.name for b in batches[:3]] and stats.rejected == ["zz-bad"]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [b.name for b in batches[:3]]
    reason = (inbox / "rejected" / "zz-bad.reason.txt").read_text()
    assert "rejected, store unchanged" in reason and "missing_column" in reason
    assert (inbox / ".incoming").exists()
    assert open_store(st).manifest["batches"] == [b.name for b in batches[:3]]
    live = (st / "live.html").read_text()
    assert batches[2].name in live and "http" not in live


def test_sigterm_stops_between_batches(tmp_path, replay):
    ds, batches = replay
    st = _new_store(tmp_path / "st", None)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    proc = subprocess.Popen(_cli("watch", "--store", str(st), "--inbox", str(inbox),
                                 "--poll", "0.2"), stderr=subprocess.PIPE, text=True)
    _copy(batches[0], inbox / batches[0].name)
    deadline = time.time() + 120
    while not (inbox / "done" / batches[0].name).exists() and time.time() < deadline:
        time.sleep(0.2)
    _copy(batches[1], inbox / batches[1].name)
    time.sleep(0.5)  # the second batch is being applied
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopped: applied" in err and f"batch {batches[0].name}: applied" in err
    applied = open_store(st).manifest["batches"]
    # the batch in progress was finished, not cut: it is either applied and filed, or waiting
    assert applied[0] == batches[0].name
    assert (batches[1].name in applied) == (inbox / "done" / batches[1].name).exists()


@pytest.mark.slow
def test_kill_9_mid_batch_loses_and_duplicates_nothing(tmp_path, replay):
    """Kill the watcher with SIGKILL several times while it works; after a final --once the
    store, the alert records and the webhook deliveries equal an uninterrupted run."""
    ds, batches = replay
    hook = Hook()
    ref = _new_store(tmp_path / "ref", None)
    for b in batches:
        refresh(ref, b)
    st = _new_store(tmp_path / "st", hook.url)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for b in batches:
        _copy(b, inbox / b.name)
    gens = st / "generations"
    for _ in range(3):  # each round: let one more batch commit, then kill inside the next
        proc = subprocess.Popen(_cli("watch", "--store", str(st), "--inbox", str(inbox),
                                     "--poll", "0.2"), stderr=subprocess.DEVNULL)
        start = open_store(st).generation
        _wait(lambda s=start: open_store(st).generation != s, proc)
        _wait(lambda: any(gens.glob(".building-*")), proc)
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert any(gens.glob(".building-*"))  # killed mid-batch: an unfinished build is left
    done = subprocess.run(_cli("watch", "--store", str(st), "--inbox", str(inbox), "--once"),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    names = [b.name for b in batches]
    store = open_store(st)
    assert store.manifest["batches"] == names
    assert sorted(p.name for p in (inbox / "done").iterdir()) == names
    pd.testing.assert_frame_equal(store.results(KPIS, by=["channel"], freq="D"),
                                  kpilib.compute(ds, KPIS, by=["channel"], freq="D"),
                                  check_exact=True)
    expected = _events_of(ref)
    assert expected, "the scenario should raise alerts (threshold 0)"
    assert _events_of(st) == expected
    assert sorted(hook.events()) == sorted(expected)  # each delivered exactly once
    assert store.early_warning().equals(open_store(ref).early_warning())
