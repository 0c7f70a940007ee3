"""`kpilib validate DIR`: readable table, JSON, exit codes and a help text that teaches."""

from __future__ import annotations

import json

import pandas as pd
from builders import baseline_frames, write_csv
from typer.testing import CliRunner

from kpilib.cli.main import app

runner = CliRunner()


def test_clean_folder_exits_0_with_summary(tmp_path):
    folder = write_csv(baseline_frames(), tmp_path)
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "clean: 20 tables, 28 rows" in result.output


def test_problems_exit_1_and_are_listed(tmp_path):
    frames = baseline_frames()
    frames["orders"].loc[0, "order_type"] = "rush"
    frames["order_lines"].loc[1, "order_id"] = "O9"
    folder = write_csv(frames, tmp_path)
    result = runner.invoke(app, ["validate", str(folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    for text in ("2 data contract problem(s)", "not_in_enum", "foreign_key", "order_type",
                 "order_line_id=L2"):
        assert text in result.output


def test_json_output_lists_records(tmp_path):
    frames = baseline_frames()
    frames["shipments"].loc[0, "delivered_at"] = "2024-01-03 09:00"
    folder = write_csv(frames, tmp_path)
    result = runner.invoke(app, ["validate", str(folder), "--json"])
    assert result.exit_code == 1
    [record] = json.loads(result.output)
    assert (record["table"], record["column"], record["rule"], record["n_rows"]) == (
        "shipments", "delivered_at", "naive_timestamp", 1)
    assert record["examples"] == [{"shipment_id": "S1", "delivered_at": "2024-01-03 09:00"}]
    ok = runner.invoke(app, ["validate", str(folder), "--assume-tz", "UTC"])
    assert ok.exit_code == 0, ok.output


def test_missing_folder_and_bad_zone_exit_2(tmp_path):
    assert runner.invoke(app, ["validate", str(tmp_path / "nope")]).exit_code == 2
    folder = write_csv({"orders": pd.DataFrame({"order_id": ["O1"]})}, tmp_path / "d")
    assert runner.invoke(app, ["validate", str(folder), "--assume-tz", "Nowhere/X"]).exit_code == 2


def test_help_teaches_the_fixes():
    result = runner.invoke(app, ["validate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in ("--assume-tz", "kpilib template", "naive_timestamp", "orders and order_lines"):
        assert text in result.output
