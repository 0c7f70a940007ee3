"""The running period is never judged (partial): no band, no alert, last complete one used."""

from __future__ import annotations

import pandas as pd
import pytest
from bands_helpers import BASELINE, CFG12, series
from typer.testing import CliRunner

from kpilib.alerts import from_bands, latest_per_series
from kpilib.bands import apply_bands
from kpilib.bands.partial import days_in, infer_freq, mark_partial, partial_note
from kpilib.cli.main import app

# 12 baseline weeks (Mondays from 2024-01-01) + a normal week 13 (2024-03-25) + week 14
# (2024-04-01) with a crash to 0.10, far below the LCL 0.8568: critical if it were judged.
VALUES = [*BASELINE, 0.91, 0.10]
AS_OF = pd.Timestamp("2024-04-03 12:00", tz="UTC")  # week 14 runs 04-01 .. 04-08: 2.5 days in


def test_infer_freq_from_spacing():
    assert infer_freq(series(VALUES)["period"]) == "W"
    daily = pd.Series(pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC"))
    assert infer_freq(daily) == "D"
    monthly = pd.Series(pd.date_range("2024-01-01", periods=3, freq="MS", tz="UTC"))
    assert infer_freq(monthly) == "M"
    assert infer_freq(pd.Series([pd.NaT])) is None  # freq=None results: nothing to mark


def test_running_week_is_partial_unbanded_and_not_alerted():
    banded = apply_bands(series(VALUES), CFG12, as_of=AS_OF)
    last, before = banded.iloc[-1], banded.iloc[-2]
    assert last["status"] == "partial" and last["band"] == "insufficient_data"
    assert not last["alertable"] and "status_partial" in last["signals"]
    # 2024-04-01 00:00 -> 2024-04-03 12:00 is 2.5 days
    assert last["note"] == "partial: 2.5 of 7 days"
    assert before["status"] == "ok" and before["band"] == "normal"
    # the chart limits come from the 12 baseline weeks only (CL 0.91), untouched by week 14
    assert abs(last["cl"] - 0.91) < 1e-12
    assert from_bands(banded, None, "t", AS_OF).empty
    assert latest_per_series(banded)["period"].iloc[0] == before["period"]


def test_same_frame_judged_once_the_week_is_over():
    banded = apply_bands(series(VALUES), CFG12, as_of="2024-04-08")  # week 14 has ended
    assert banded.iloc[-1]["status"] == "ok" and banded.iloc[-1]["band"] == "critical"
    assert len(from_bands(banded, None, "t", "2024-04-08")) == 1


def test_without_as_of_nothing_is_marked_and_data_as_of_column_is_read():
    frame = series(VALUES)
    assert mark_partial(frame) is frame
    marked = mark_partial(frame.assign(data_as_of=AS_OF.isoformat()))
    assert list(marked["status"]).count("partial") == 1


def test_cli_alerts_raise_nothing_for_the_running_week(tmp_path):
    crash = series(VALUES).assign(data_as_of=AS_OF.isoformat())
    path = tmp_path / "res.csv"
    crash.to_csv(path, index=False)
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "bands.yaml").write_text("version: 1\ndefaults: {baseline_k: 12, hysteresis: 0}\n")
    out = CliRunner().invoke(app, ["alerts", "--results", str(path), "--config", str(cfg),
                                   "--store", str(tmp_path / "store"), "--as-of", "2024-06-01"])
    assert out.exit_code == 0, out.output
    assert "0 breach(es)" in out.output


@pytest.mark.parametrize(("as_of", "note"), [
    ("2024-04-07T23:40:00Z", "partial: 6.9 of 7 days"),   # 20 minutes before the week ends
    ("2024-04-04T00:00:00Z", "partial: 3 of 7 days"),     # exactly three days in
    ("2024-04-01T00:05:00Z", "partial: 0.1 of 7 days"),   # five minutes in: it has begun
])
def test_partial_note_never_reads_complete(as_of, note):
    start = pd.Timestamp("2024-04-01", tz="UTC")
    assert partial_note(*days_in(start, "W", pd.Timestamp(as_of))) == note
