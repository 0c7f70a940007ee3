"""Run the report suite on a cron expression in one long-running process.

Rules:

- APScheduler ``BlockingScheduler`` with ``CronTrigger.from_crontab(cron, timezone)``; one job,
  ``max_instances=1``, ``coalesce=True`` (missed fires collapse into one run).
- Each run takes the output folder's ``fcntl`` lock (``publish.RunLock``); when another run (this
  process, cron, a person) holds it, the fire is skipped and logged, never queued.
- Retention is applied after each run (``ReportParams.keep``).
- SIGTERM and SIGINT stop the scheduler: no new run starts; a run in progress finishes and
  publishes (its publication is atomic either way), then the process exits 0.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kpilib.reports.params import ReportParams

log = logging.getLogger("kpilib.reports.schedule")


def run_job(params: ReportParams, runner: Callable[[ReportParams], Any] | None = None) -> str:
    """One scheduled fire: run the suite, log the outcome; return ``ok``/``partial``/... ."""
    from kpilib.errors import ParameterError
    from kpilib.reports.publish import RunLockedError

    if runner is None:
        from kpilib.reports.suite import run_reports as runner
    try:
        outcome = runner(replace(params, as_of=None))
    except RunLockedError as err:
        log.warning("skipped: %s", err)
        return "skipped"
    except ParameterError as err:
        log.error("not started: %s", err)
        return "invalid"
    log.info("run %s: %s (%s)", outcome.run_id, outcome.status, outcome.run_dir)
    return outcome.status


def make_scheduler(cron: str, params: ReportParams, timezone: str = "UTC",
                   runner: Callable[[ReportParams], Any] | None = None):
    """A configured (not started) ``BlockingScheduler`` with the report job."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(cron, timezone=timezone)
    sched = BlockingScheduler(timezone=timezone)
    sched.add_job(run_job, trigger, args=[params, runner], id="kpilib-reports",
                  max_instances=1, coalesce=True, misfire_grace_time=3600)
    return sched


def serve(cron: str, params: ReportParams, timezone: str = "UTC", run_now: bool = False,
          runner: Callable[[ReportParams], Any] | None = None) -> int:
    """Block running ``params`` on ``cron`` until SIGTERM/SIGINT; return the exit code (0)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        sched = make_scheduler(cron, params, timezone, runner)
    except ValueError as err:
        log.error("invalid cron expression %r: %s", cron, err)
        return 2

    def _stop(signum: int, _frame: Any) -> None:
        log.info("received %s: stopping after the current run", signal.Signals(signum).name)
        sched.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if run_now:
        run_job(params, runner)
    job = sched.get_jobs()[0]
    now = datetime.now(ZoneInfo(timezone))
    log.info("schedule %r (%s): next run at %s", cron, timezone,
             job.trigger.get_next_fire_time(None, now))
    sched.start()
    log.info("scheduler stopped")
    return 0
