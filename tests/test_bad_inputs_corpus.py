"""A corpus of malformed inputs, each run through the CLI as a hostile user would.

One small omnichannel dataset is generated once per session; every case mutates a copy and
runs one command in-process (typer's CliRunner). For each case the test asserts the exit code,
that the named rule (or the named problem) is in the output, that no traceback reached the
user, and, for report and alert cases, that ``<out>/latest`` or the alert store is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from corpus_cases import ALERT_CASES, DATA_CASES, HELD, REPORT_CASES, SCHEDULE_CASES
from typer.testing import CliRunner

from kpilib.cli.main import app

# the tables the cases break or that those reference; the other optional tables are left out
# so that each of the ~70 validate runs costs half as much (the corpus must stay under 90 s)
CORPUS_TABLES = ("orders", "order_lines", "shipments", "shipment_lines", "nodes", "products",
                 "inventory_movements", "fulfillment_costs", "pick_tasks")


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> Path:
    """`kpilib generate --scenario omnichannel --seed 1` (4 weeks, scale 0.05) as CSV, once,
    keeping the ``CORPUS_TABLES``."""
    out = tmp_path_factory.mktemp("corpus") / "base"
    res = CliRunner().invoke(app, ["generate", "--scenario", "omnichannel", "--seed", "1",
                                   "--days", "28", "--scale", "0.05", "--format", "csv",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    (out / "truth.json").unlink(missing_ok=True)
    for f in out.glob("*.csv"):
        if f.stem not in CORPUS_TABLES:
            f.unlink()
    return out


@pytest.fixture
def data(small_data, tmp_path) -> Path:
    """A fresh copy of the small dataset for one case to break."""
    return Path(shutil.copytree(small_data, tmp_path / "data"))


CRASHES = ("Traceback (most recent call last)", "OverflowError", "MarkupError",
           "OutOfBoundsDatetime", "ZoneInfoNotFoundError", "UnicodeDecodeError", "KeyError")


def _invoke(args: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(app, args, env={"COLUMNS": "400"})  # no folded cells
    text = res.output  # stdout and stderr, as a terminal shows them
    assert res.exception is None or isinstance(res.exception, SystemExit), (
        f"{type(res.exception).__name__}: {res.exception}\n{text}")
    return res.exit_code, text


def _no_traceback(text: str) -> None:
    assert not any(c in text for c in CRASHES), text


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda c: c.id)
def test_data_case(case, data):
    case.mutate(data)
    code, text = _invoke(case.args(data))
    _no_traceback(text)
    assert code == case.code, text
    for needle in case.expect:
        assert needle in text, f"{needle!r} not in output:\n{text}"


def _snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with its content hash (or link target)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        if p.is_symlink():
            out[key] = "->" + os.readlink(p)
        elif p.is_file():
            out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[key] = "dir"
    return out


@pytest.fixture
def published(tmp_path) -> Path:
    """A reports folder with one published run and ``latest`` pointing at it."""
    out = tmp_path / "reports"
    run = out / "20240101T000000Z"
    run.mkdir(parents=True)
    (run / "index.html").write_text("<html>last good run</html>")
    os.symlink(run.name, out / "latest")
    return out


@pytest.mark.parametrize("case", REPORT_CASES, ids=lambda c: c.id)
def test_report_case_never_moves_latest(case, data, published):
    case.mutate(data, published)
    before = _snapshot(published) if published.is_dir() else None
    try:
        code, text = _invoke(case.args(data, published))
    finally:
        while HELD:
            HELD.pop().release()
    _no_traceback(text)
    assert code == case.code, text
    for needle in case.expect:
        assert needle in text, f"{needle!r} not in output:\n{text}"
    if before is not None and published.is_dir():
        after = _snapshot(published)
        after.pop(".kpilib-reports.lock", None)
        before.pop(".kpilib-reports.lock", None)
        assert after == before


@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=lambda c: c.id)
def test_schedule_case_refused_before_waiting(case, data, published, caplog):
    before = _snapshot(published)
    with caplog.at_level("ERROR", logger="kpilib.reports.schedule"):
        code, text = _invoke(case.args(data, published))
    text += "\n".join(r.getMessage() for r in caplog.records)
    _no_traceback(text)
    assert code == 2, text
    assert "next run at" not in text
    for needle in case.expect:
        assert needle in text, f"{needle!r} not in output:\n{text}"
    assert _snapshot(published) == before


@pytest.mark.parametrize("case", ALERT_CASES, ids=lambda c: c.id)
def test_alert_case_keeps_every_alert(case, tmp_path):
    case.check(tmp_path, _invoke, _no_traceback)


def test_corpus_has_at_least_40_malformed_inputs():
    n = len(DATA_CASES) + len(REPORT_CASES) + len(SCHEDULE_CASES) + len(ALERT_CASES)
    assert n >= 40, n
