"""`kpilib refresh` from the shell: --init, a batch, a rejected batch (exit 1, store kept)."""

from __future__ import annotations

from store_helpers import scenario_dataset
from typer.testing import CliRunner

from kpilib.cli.main import app
from kpilib.store import open_store
from kpilib.store.replay import write_batch


def test_init_then_reject_a_bad_batch(tmp_path):
    ds = scenario_dataset("omnichannel")
    data = write_batch(tmp_path / "full", ds.tables, snapshot=False)
    runner = CliRunner()
    st = tmp_path / "st"
    res = runner.invoke(app, ["refresh", "--store", str(st), "--init", "--data", str(data),
                              "--kpis", "order_cycle_time_hours", "--by", "", "--freq", "D"])
    assert res.exit_code == 0, res.output
    assert "created store" in res.output and "batch full: applied" in res.output
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "orders.csv").write_text("order_id,channel\nO-x,web\n")
    res = runner.invoke(app, ["refresh", "--store", str(st), "--data", str(bad)])
    assert res.exit_code == 1
    assert "rejected, store unchanged" in res.output and "missing_column" in res.output
    assert open_store(st).manifest["batches"] == ["full"]
    res = runner.invoke(app, ["refresh", "--store", str(tmp_path / "nope"), "--data", str(bad)])
    assert res.exit_code == 2 and "not a kpilib store" in res.output


def test_each_by_of_init_is_one_maintained_set():
    """--by none --by channel,node: the totals and one set cut by channel and node."""
    from kpilib.cli.refresh import set_specs

    assert set_specs("order_cycle_time_hours", ["none", "channel,node"], "W") == [
        {"kpis": ["order_cycle_time_hours"], "by": [], "freq": "W"},
        {"kpis": ["order_cycle_time_hours"], "by": ["channel", "node"], "freq": "W"}]
    assert set_specs("all", [""], "none") == [{"kpis": "all", "by": [], "freq": None}]
