"""`kpilib alerts` end to end on a results file (CSV and parquet)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from bands_helpers import BASELINE, series
from typer.testing import CliRunner

from kpilib.bands.config import default_config_path
from kpilib.cli.main import app


def results_file(tmp_path, tail, name="res.csv"):
    res = pd.concat([series(BASELINE * 2 + tail, channel="web"),
                     series(BASELINE * 2 + [0.91], channel="app")], ignore_index=True)
    path = tmp_path / name
    res.to_parquet(path) if name.endswith(".parquet") else res.to_csv(path, index=False)
    return path


def test_help():
    out = CliRunner().invoke(app, ["alerts", "--help"])
    assert out.exit_code == 0
    assert "--results" in out.output and "--webhook" in out.output and "outbox" in out.output


def test_cli_runs_dedups_and_closes(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    shutil.copy(default_config_path(), cfg / "bands.yaml")  # roles: packaged default
    store = tmp_path / "store"
    args = ["alerts", "--config", str(cfg), "--store", str(store), "--as-of",
            "2024-06-01T06:00Z"]
    # 24 baseline weeks (default k=20) then 0.85 for web: critical
    r1 = CliRunner().invoke(app, [*args, "--results", str(results_file(tmp_path, [0.85])),
                                  "--run-id", "r1"])
    assert r1.exit_code == 0, r1.output
    assert "opened 1" in r1.output and "customer_service" in r1.output
    rec = json.loads((store / "runs" / "r1" / "alerts.jsonl").read_text().splitlines()[0])
    assert rec["segment"] == "channel=web" and rec["band"] == "critical"
    r2 = CliRunner().invoke(app, [*args, "--results", str(results_file(tmp_path, [0.85])),
                                  "--run-id", "r2"])
    assert "opened 0" in r2.output and "not re-sent 1" in r2.output
    # recovered, two better weeks (packaged hysteresis m=2) -> closed
    path = results_file(tmp_path, [0.85, 0.91, 0.91], "res.parquet")
    r3 = CliRunner().invoke(app, [*args, "--results", str(path), "--run-id", "r3"])
    assert "closed 1" in r3.output and "open now 0" in r3.output
    assert pd.read_csv(store / "runs" / "r3" / "alerts.csv")["event"].tolist() == ["closed"]


def test_cli_pending_webhook_exit_code_3(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = CliRunner().invoke(app, [
        "alerts", "--results", str(results_file(tmp_path, [0.85])), "--store",
        str(tmp_path / "st"), "--webhook", f"http://127.0.0.1:{port}/x", "--retries", "0",
        "--timeout", "0.5", "--run-id", "r1"])
    assert out.exit_code == 3 and "pending in outbox 1" in out.output


def test_cli_bad_config_exit_2(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "roles.yaml").write_text("roles:\n  ops: {kpis: [nope_rate]}\n")
    out = CliRunner().invoke(app, ["alerts", "--results", str(results_file(tmp_path, [0.85])),
                                   "--store", str(tmp_path / "st"), "--config", str(cfg)])
    assert out.exit_code == 2 and "roles.ops.kpis" in out.output


@pytest.mark.slow
def test_risk_command(tmp_path):
    from kpilib.synth import generate

    generate("omnichannel", seed=2, days=60, scale=0.1, out=tmp_path / "data")
    out = CliRunner().invoke(app, ["risk", "--data", str(tmp_path / "data"), "--top", "5",
                                   "--out", str(tmp_path / "queue.csv")])
    assert out.exit_code == 0, out.output
    assert "ROC AUC" in out.output and "action queue" in out.output
    queue = pd.read_csv(tmp_path / "queue.csv")
    assert len(queue) <= 5 and {"order_id", "risk", "reasons"} <= set(queue.columns)
    assert CliRunner().invoke(app, ["risk", "--help"]).exit_code == 0
