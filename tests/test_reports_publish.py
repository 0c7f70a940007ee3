"""Publication rules: atomic ``latest`` switch, retention, the run lock and the scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builders import baseline_frames, write_csv

from kpilib.reports import publish
from kpilib.reports.params import ReportParams
from kpilib.reports.publish import (
    RunLock,
    RunLockedError,
    apply_retention,
    latest_run,
    list_runs,
    new_run_id,
    switch_latest,
)


def make_run(out: Path, run_id: str) -> Path:
    d = out / run_id
    d.mkdir(parents=True)
    (d / "index.html").write_text(run_id)
    return d


def test_run_ids_sort_by_time_and_never_collide(tmp_path):
    t = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    first = new_run_id(tmp_path, t)
    assert first == "20240506T070809Z"
    make_run(tmp_path, first)
    second = new_run_id(tmp_path, t)
    assert second == "20240506T070809Z-2"


def test_switch_latest_points_to_the_run_and_replaces_the_old_link(tmp_path):
    make_run(tmp_path, "20240101T000000Z")
    make_run(tmp_path, "20240102T000000Z")
    switch_latest(tmp_path, "20240101T000000Z")
    assert (tmp_path / "latest" / "index.html").read_text() == "20240101T000000Z"
    switch_latest(tmp_path, "20240102T000000Z")
    assert os.readlink(tmp_path / "latest") == "20240102T000000Z"  # relative: survives moves
    assert latest_run(tmp_path) == "20240102T000000Z"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".latest-")]


def test_latest_is_never_missing_while_it_is_switched(tmp_path):
    """A reader polling latest/index.html during 300 switches always finds a page."""
    for rid in ("20240101T000000Z", "20240102T000000Z"):
        make_run(tmp_path, rid)
    switch_latest(tmp_path, "20240101T000000Z")
    misses = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                (tmp_path / "latest" / "index.html").read_text()
            except OSError as err:
                misses.append(err)

    t = threading.Thread(target=reader)
    t.start()
    for i in range(300):
        switch_latest(tmp_path, ("20240101T000000Z", "20240102T000000Z")[i % 2])
    stop.set()
    t.join()
    assert misses == []


def test_switch_uses_an_atomic_replace(tmp_path, monkeypatch):
    make_run(tmp_path, "20240101T000000Z")
    calls = []
    real = os.replace

    def spy(src, dst):
        calls.append((Path(src).name, Path(dst).name, os.path.islink(src)))
        return real(src, dst)

    monkeypatch.setattr(publish.os, "replace", spy)
    switch_latest(tmp_path, "20240101T000000Z")
    assert len(calls) == 1 and calls[0][1] == "latest" and calls[0][2]  # a symlink moved in


def test_publish_run_renames_the_build_folder(tmp_path):
    tmp = publish.build_dir(tmp_path, "20240101T000000Z")
    (tmp / "index.html").write_text("x")
    final = publish.publish_run(tmp, tmp_path, "20240101T000000Z")
    assert final == tmp_path / "20240101T000000Z" and (final / "index.html").exists()
    assert not tmp.exists()


def test_retention_keeps_the_newest_and_never_latest(tmp_path):
    ids = [f"2024010{d}T000000Z" for d in range(1, 7)]  # 6 runs
    for rid in ids:
        make_run(tmp_path, rid)
    switch_latest(tmp_path, ids[0])  # the last good run is the oldest one
    (tmp_path / ".tmp-20240107T000000Z").mkdir()  # left over by a killed run
    deleted = apply_retention(tmp_path, keep=3)
    # newest 3 kept (04, 05, 06), 01 kept because latest points to it; 02, 03 deleted
    assert deleted == [ids[1], ids[2]]
    assert list_runs(tmp_path) == [ids[0], ids[3], ids[4], ids[5]]
    assert not (tmp_path / ".tmp-20240107T000000Z").exists()
    assert latest_run(tmp_path) == ids[0]


def test_lock_refuses_a_second_run(tmp_path):
    with RunLock(tmp_path), pytest.raises(RunLockedError, match="another report run"):
        RunLock(tmp_path).acquire()
    with RunLock(tmp_path):  # released: free again
        pass


def test_lock_held_by_another_process_blocks_run_reports(tmp_path):
    """A run started while another process holds the lock fails before any kernel starts."""
    from kpilib.reports import run_reports, suite

    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from kpilib.reports.publish import RunLock
            lock = RunLock({str(tmp_path)!r}).acquire()
            print("locked", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError):
            # parameters are valid enough to reach the lock: notebooks are checked first,
            # so give an existing folder and monkeypatch validation away
            orig = suite.validate_params
            suite.validate_params = lambda p, load=None: (p, None)
            try:
                run_reports(ReportParams(data_path=str(tmp_path), out_dir=str(tmp_path)))
            finally:
                suite.validate_params = orig
        assert list_runs(tmp_path) == []
    finally:
        holder.kill()
        holder.wait()


def test_scheduled_fire_is_skipped_while_locked(tmp_path):
    from kpilib.reports.schedule import run_job

    calls = []

    def runner(p):
        calls.append(p)
        raise RunLockedError("another report run holds the lock")

    assert run_job(ReportParams(data_path="d", out_dir=str(tmp_path)), runner) == "skipped"
    assert len(calls) == 1


def test_scheduled_fire_uses_the_latest_data(tmp_path):
    """Each fire evaluates at the data's own as-of (never a stale as_of from the start)."""
    from types import SimpleNamespace

    from kpilib.reports.schedule import run_job

    seen = []

    def runner(p):
        seen.append(p.as_of)
        return SimpleNamespace(run_id="r", status="ok", run_dir=tmp_path)

    p = ReportParams(data_path="d", out_dir=str(tmp_path), as_of="2024-01-01")
    assert run_job(p, runner) == "ok"
    assert seen == [None]


def test_cron_expression_is_parsed():
    from kpilib.reports.schedule import make_scheduler

    sched = make_scheduler("0 6 * * 1", ReportParams(data_path="d", out_dir="o"))
    job = sched.get_jobs()[0]
    nxt = job.trigger.get_next_fire_time(None, datetime(2024, 1, 3, tzinfo=UTC))  # Wednesday
    assert nxt.isoformat() == "2024-01-08T06:00:00+00:00"  # next Monday 06:00 UTC


@pytest.mark.parametrize(("cron", "expected"), [
    ("0 6 * * 0", "2024-01-07T06:00:00+00:00"),  # Sunday
    ("0 6 * * 7", "2024-01-07T06:00:00+00:00"),  # Sunday as 7
    ("30 5 * * 1-5", "2024-01-04T05:30:00+00:00"),  # weekdays: Thursday
    ("0 0 * * 6,0", "2024-01-06T00:00:00+00:00"),  # Saturday or Sunday
    ("0 6 * * mon", "2024-01-08T06:00:00+00:00"),
])
def test_crontab_weekdays_follow_cron(cron, expected):
    from kpilib.reports.schedule import cron_trigger

    trig = cron_trigger(cron)
    nxt = trig.get_next_fire_time(None, datetime(2024, 1, 3, 12, tzinfo=UTC))  # Wed noon
    assert nxt.isoformat() == expected


def test_invalid_cron_exits_2():
    from kpilib.reports.schedule import serve

    assert serve("not a cron", ReportParams(data_path="d", out_dir="o")) == 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_scheduler_stops_cleanly_on_signal(tmp_path, sig):
    data = write_csv(baseline_frames(), tmp_path / "data")  # serve checks the data first
    script = textwrap.dedent(f"""
        from kpilib.reports.params import ReportParams
        from kpilib.reports.schedule import serve
        raise SystemExit(serve("0 6 * * 1", ReportParams(data_path={str(data)!r},
                                                         out_dir={str(tmp_path / "out")!r})))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if "next run at" in line:
            break
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, "".join(lines) + err
    assert "scheduler stopped" in err
