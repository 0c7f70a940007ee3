"""Run the report suite on a cron expression in one long-running process.

Rules:

- APScheduler (``BackgroundScheduler``; the main thread blocks on a stop event) with a
  ``CronTrigger`` built from a standard crontab expression (``cron_trigger``: weekday numbers
  as in cron, 0/7 = Sunday, 1 = Monday); one job,
  ``max_instances=1``, ``coalesce=True`` (missed fires collapse into one run).
- Each run takes the output folder's ``fcntl`` lock (``publish.RunLock``); when another run (this
  process, cron, a person) holds it, the fire is skipped and logged, never queued.
- Retention is applied after each run (``ReportParams.keep``).
- SIGTERM and SIGINT stop the scheduler: no new run starts; a run in progress finishes and
  publishes (its publication is atomic either way), then the process exits 0.
- Nothing waits on a schedule that cannot work: ``serve`` first checks the time zone, the cron
  expression (it must parse and fire at least once, so ``0 0 30 2 *`` is refused) and every
  report parameter (``params.validate_params``: data folder loads, segment, role, notebooks,
  output folder), and returns 2 naming every problem.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

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
    for line in getattr(outcome, "notes", ()):
        log.info("run %s: %s", outcome.run_id, line)
    return outcome.status


_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_dow(field: str) -> str:
    """Standard crontab day-of-week (0 or 7 = Sunday, 1 = Monday) -> APScheduler names.

    APScheduler's ``day_of_week`` numbers start at Monday = 0, so ``from_crontab("0 6 * * 1")``
    would fire on Tuesdays; numeric items, ranges and steps are expanded to day names.
    """
    if field == "*" or not any(ch.isdigit() for ch in field):
        return field
    days: list[int] = []
    for item in field.split(","):
        rng, _, step = item.partition("/")
        if rng == "*":
            lo, hi = 0, 6
        elif "-" in rng:
            a, b = rng.split("-", 1)
            lo, hi = _dow_num(a), _dow_num(b)
            if hi == 0 and b.strip() in ("7",):
                hi = 7
        else:
            lo = hi = _dow_num(rng)
            if step:
                hi = 6
        days.extend(range(lo, hi + 1, int(step) if step else 1))
    return ",".join(dict.fromkeys(_DOW_NAMES[d % 7] for d in days))


def _dow_num(token: str) -> int:
    token = token.strip().lower()
    if token.isdigit():
        n = int(token)
        if not 0 <= n <= 7:
            raise ValueError(f"day of week {n} is out of range 0-7")
        return n
    if token[:3] in _DOW_NAMES:
        return _DOW_NAMES.index(token[:3])
    raise ValueError(f"unknown day of week {token!r}")


def cron_trigger(cron: str, timezone: str = "UTC"):
    """``CronTrigger`` for a standard 5-field crontab expression (cron's weekday numbering)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, dow = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=_cron_dow(dow), timezone=timezone)


def check_timezone(timezone: str) -> str | None:
    """Why ``timezone`` is not an IANA time zone, or None."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return (f"time zone {timezone!r} is unknown; use an IANA name such as 'UTC' or "
                "'Europe/Berlin'")
    return None


def check_cron(cron: str, timezone: str) -> str | None:
    """Why ``cron`` cannot drive the schedule (does not parse, never fires), or None."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        trigger = cron_trigger(cron, timezone)
    except (ValueError, KeyError) as err:
        return f"invalid cron expression {cron!r}: {err}"
    if trigger.get_next_fire_time(None, datetime.now(ZoneInfo(timezone))) is None:
        return f"cron expression {cron!r} never fires (e.g. 30 February); fix the day or month"
    return None


def preflight(cron: str, params: ReportParams, timezone: str) -> list[str]:
    """Every problem that would make the schedule fail, found before it starts waiting."""
    from kpilib.errors import ParameterError
    from kpilib.reports.params import validate_params

    problems = [p for p in (check_timezone(timezone),) if p]
    if not problems:
        problems += [p for p in (check_cron(cron, timezone),) if p]
    try:
        validate_params(replace(params, as_of=None))
    except ParameterError as err:
        problems += [line.strip(" -") for line in str(err).splitlines()[1:]] or [str(err)]
    return problems


def make_scheduler(cron: str, params: ReportParams, timezone: str = "UTC",
                   runner: Callable[[ReportParams], Any] | None = None):
    """A configured (not started) ``BackgroundScheduler`` with the report job."""
    from apscheduler.schedulers.background import BackgroundScheduler

    trigger = cron_trigger(cron, timezone)
    sched = BackgroundScheduler(timezone=timezone)
    sched.add_job(run_job, trigger, args=[params, runner], id="kpilib-reports",
                  max_instances=1, coalesce=True, misfire_grace_time=3600)
    return sched


def serve(cron: str, params: ReportParams, timezone: str = "UTC", run_now: bool = False,
          runner: Callable[[ReportParams], Any] | None = None) -> int:
    """Block running ``params`` on ``cron`` until SIGTERM/SIGINT; return the exit code (0).

    The scheduler runs in the background; the main thread waits on an event that the signal
    handler sets (a handler must not block or log), then shuts the scheduler down, waiting
    for a run in progress to finish.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    problems = preflight(cron, params, timezone)
    if problems:
        for problem in problems:
            log.error("not scheduled: %s", problem)
        return 2
    sched = make_scheduler(cron, params, timezone, runner)
    stop = threading.Event()
    received: list[str] = []

    def _stop(signum: int, _frame: Any) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    old = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if run_now:
            run_job(params, runner)
        sched.start()
        job = sched.get_jobs()[0]
        log.info("schedule %r (%s): next run at %s", cron, timezone, job.next_run_time)
        while not stop.wait(1.0):
            pass
        log.info("received %s: stopping (no new runs; waiting for a run in progress)",
                 received[0] if received else "stop")
        sched.shutdown(wait=True)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    log.info("scheduler stopped")
    return 0
