"""Reports read from a KPI store: the tables equal those computed from the same data, the
covered results are not computed, and one report never mixes two generations."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from store_helpers import daily_batches, scenario_dataset

import kpilib
from kpilib import engine
from kpilib.refresh import refresh
from kpilib.reports import fromstore, session
from kpilib.reports.session import Report
from kpilib.store import create, open_store

KPIS = ["order_cycle_time_hours", "on_time_shipment_rate", "cancellation_rate_pre_ship"]
EXTRA = "line_fill_rate"  # asked by the report, not maintained by the store
SETS = [{"kpis": KPIS, "by": [], "freq": "W"}, {"kpis": KPIS, "by": ["channel"], "freq": "W"}]


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """Daily batches of a short omnichannel run (snapshot at day 10, then one per day)."""
    root = tmp_path_factory.mktemp("fromstore")
    ds = scenario_dataset("omnichannel")
    return root, daily_batches(ds, root / "batches")


@pytest.fixture(scope="module")
def store1(replay):
    """A store after its first (snapshot) batch, for the tests that only read it."""
    root, batches = replay
    return _store(root / "st1", batches)


def _store(path, batches, n: int = 1):
    create(path, SETS, early_warning={"enabled": False})
    for b in batches[:n]:
        refresh(path, b)
    return path


@pytest.fixture
def shown(monkeypatch):
    """The HTML fragments the report displays, in order (instead of a notebook)."""
    out: list[str] = []
    monkeypatch.setattr(session, "html", out.append)
    monkeypatch.setattr(session, "record_bad", lambda head, cache: None)
    monkeypatch.setattr(fromstore.StoreSource, "record", lambda self: None)
    return out


def _open(path) -> Report:
    return Report.open(str(path), freq="W", segment_by="channel", targets=None)


def _tables(rep: Report) -> list[pd.DataFrame]:
    """What a report section shows: headline (banded, with story), by channel, unbanded."""
    res, head = rep.show([*KPIS, EXTRA])
    seg = rep.show_by_segment([*KPIS, EXTRA])
    return [res, head, seg, rep.headline(seg, by=["channel"]), rep.frame(KPIS, bands=False)]


def test_report_from_store_shows_exactly_the_tables_computed_from_the_data(
        tmp_path, replay, shown):
    _, batches = replay
    st = _store(tmp_path / "st", batches, n=2)
    data = open_store(st).dataset().to_parquet(tmp_path / "data")
    from_store = _tables(_open(st))
    html_store = list(shown)
    shown.clear()
    from_data = _tables(_open(data))
    assert len(from_store) == len(from_data) == 5
    for got, want in zip(from_store, from_data, strict=True):
        assert len(got) > 0
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert html_store == shown  # the HTML tables, notes and all, character for character
    # the running week is judged "partial" in both (the store's own bands judge it)
    assert "partial" in set(from_store[0]["status"])


def test_covered_results_are_read_not_computed(store1, shown, monkeypatch):
    rep = _open(store1)

    def boom(*args, **kwargs):
        raise AssertionError("compute called")

    monkeypatch.setattr(kpilib, "compute", boom)
    monkeypatch.setattr(engine, "compute", boom)
    res, head = rep.show(KPIS)
    rep.show_by_segment(KPIS)
    assert set(res["kpi"]) == set(KPIS) and len(head) == 3
    assert rep.source.computed == {}
    assert len(rep.source.read) == 6  # 3 KPIs, total and by channel
    with pytest.raises(AssertionError, match="compute called"):
        rep.frame([EXTRA])  # not in the store: computed (here: the patched engine)
    with pytest.raises(AssertionError, match="compute called"):
        rep.frame(KPIS, freq="D")  # the store keeps weekly results only


def test_what_the_store_lacks_is_computed_and_named_once(store1, shown):
    st = store1
    rep = _open(st)
    rep.show([*KPIS, EXTRA])
    rep.frame(KPIS, freq="M")
    rep.frame([EXTRA])  # cached: not computed again
    assert rep.source.computed == {"total, weekly": [EXTRA],
                                   "total, monthly": KPIS}
    filtered = Report.open(str(st), freq="W", filters={"channel": ["web"]}, targets=None)
    filtered.frame(KPIS)  # a filtered report is not what the store holds
    assert filtered.source.computed == {"total, weekly": KPIS}
    rec = {"store": {"read": 3, "computed": rep.source.computed}}
    line = fromstore.run_log(rep.source, [rec, {"store": {"read": 2, "computed": {
        "total, weekly": ["perfect_order_rate"]}}}, {}])
    assert line.endswith("5 KPI result(s) read from the store; computed (not held by the "
                         "store for the report's cut): total, monthly: "
                         "cancellation_rate_pre_ship, on_time_shipment_rate, "
                         "order_cycle_time_hours; total, weekly: line_fill_rate, "
                         "perfect_order_rate")
    assert f"generation {rep.source.generation}" in line


def test_a_report_keeps_its_generation_while_the_store_moves_on(tmp_path, replay, shown,
                                                                 monkeypatch):
    _, batches = replay
    st = _store(tmp_path / "st", batches)
    rep = _open(st)
    first = rep.source.generation
    old = rep.ds
    refresh(st, batches[1])  # a new generation lands mid-report
    assert open_store(st).generation != first
    assert open_store(st).dataset().fingerprint() != old.fingerprint()
    got = rep.frame(KPIS, bands=False)
    pd.testing.assert_frame_equal(got, kpilib.compute(old, KPIS, freq="W"), check_exact=True)
    # a notebook started later in the same run reads the generation the run pinned
    monkeypatch.setenv(fromstore.PIN_ENV, rep.source.pin_env()[fromstore.PIN_ENV])
    later = _open(st)
    assert later.source.generation == first
    assert later.ds.fingerprint() == old.fingerprint()
    # once the store has dropped that generation, reading it is a clear error, not a mix
    for b in batches[2:4]:  # the last three are kept
        refresh(st, b)
    with pytest.raises(FileNotFoundError, match=f"generation {first} of store .* is gone"):
        _open(st)


def test_a_dataset_that_is_not_the_generations_own_is_refused(store1):
    source = fromstore.StoreSource.open(store1)
    other = scenario_dataset("omnichannel", seed=4)
    with pytest.raises(kpilib.ParameterError, match="fingerprint"):
        source.dataset(other)
    manifest = json.loads((source.store.dir / "manifest.json").read_text())
    assert source.fingerprint == manifest["fingerprint"]


def test_a_store_written_before_table_digests_says_how_to_renew_it(store1, tmp_path):
    legacy = tmp_path / "legacy"
    shutil.copytree(store1, legacy)
    source = fromstore.StoreSource.open(legacy)
    path = source.store.dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.pop("table_digests")
    manifest["fingerprint"] = "0" * 64  # what the earlier whole-data hash gave, say
    path.write_text(json.dumps(manifest))
    with pytest.raises(kpilib.ParameterError, match="written by an earlier kpilib") as err:
        fromstore.StoreSource.open(legacy).dataset()
    assert f"kpilib refresh --store {legacy} --data BATCH" in str(err.value)


NOTEBOOK = (
    "from kpilib.reports.setup import open_report\n"
    "rep = open_report(globals())\n"
    f"res = rep.frame({[KPIS[0], EXTRA]!r})\n"
    f"rep.frame({KPIS!r})\n"
    "import os\n"
    "print('generation', rep.source.generation, sorted(set(res['kpi'])))\n"
    "print('pinned', os.environ['KPILIB_STORE_PIN'])"
)


def test_a_run_from_the_store_pins_logs_and_links_the_live_page(store1, tmp_path):
    from test_reports_pipeline import write_notebook

    from kpilib.reports import ReportParams, run_reports

    nb = tmp_path / "nb"
    nb.mkdir()
    write_notebook(nb / "probe.ipynb", NOTEBOOK)
    params = ReportParams(data_path=str(store1), out_dir=str(tmp_path / "out"), store=True,
                          notebooks=["probe"], notebook_dir=str(nb), jobs=1, targets=None)
    outcome = run_reports(params)
    assert outcome.status == "ok", outcome.results[0].error
    gen = open_store(store1).generation
    text = (outcome.run_dir / "probe.ipynb").read_text()
    assert f"generation {gen} " in text and f'\\"generation\\": \\"{gen}\\"' in text
    assert outcome.notes == [fromstore.run_log(fromstore.StoreSource.open(store1), [
        {"store": {"read": 3, "computed": {"total, weekly": [EXTRA]}}}])]
    manifest = json.loads((outcome.run_dir / "manifest.json").read_text())
    assert manifest["store"]["generation"] == gen and manifest["store"]["log"] == outcome.notes[0]
    live = (tmp_path / "out" / "live.html").read_text()
    assert f"generation {gen}" in live
    assert 'href="../live.html"' in (outcome.run_dir / "index.html").read_text()


def test_store_flag_on_a_plain_data_folder_is_a_parameter_error(tmp_path, store1):
    from kpilib.reports import ReportParams
    from kpilib.reports.params import validate_params

    data = open_store(store1).dataset().to_parquet(tmp_path / "data")
    with pytest.raises(kpilib.ParameterError, match="is not a KPI store .no store.json"):
        validate_params(ReportParams(data_path=str(data), out_dir=str(tmp_path / "o"),
                                     store=True))


def test_the_live_pages_are_rewritten_after_every_batch(tmp_path, replay):
    """The store's live.html and the one beside the report runs (``reports_dir``) name the
    batch just applied, after each batch."""
    _, batches = replay
    st, runs = tmp_path / "st", tmp_path / "reports"
    create(st, SETS, early_warning={"enabled": False}, reports_dir=str(runs))
    for b in batches[:2]:
        refresh(st, b)
        gen = open_store(st).generation
        for page in (st / "live.html", runs / "live.html"):
            text = page.read_text()
            assert f"last batch <b>{b.name}</b>" in text and f"generation {gen}" in text


def test_a_set_added_by_hand_before_any_batch_is_computed_meanwhile(store1, tmp_path, shown):
    import shutil

    st = shutil.copytree(store1, tmp_path / "st")
    cfg = json.loads((st / "store.json").read_text())
    cfg["sets"].append({"name": "by_node", "kpis": KPIS, "by": ["node"], "freq": "W"})
    (st / "store.json").write_text(json.dumps(cfg))
    rep = _open(st)
    got = rep.frame(KPIS, by=["node"], bands=False)
    pd.testing.assert_frame_equal(got, kpilib.compute(rep.ds, KPIS, by=["node"], freq="W"),
                                  check_exact=True)
    assert rep.source.computed == {"by node, weekly": KPIS}


def test_cli_takes_data_or_store_not_both(tmp_path, store1, caplog):
    from typer.testing import CliRunner

    from kpilib.cli.main import app

    runner = CliRunner()
    both = runner.invoke(app, ["reports", "run", "--data", str(store1), "--store", str(store1),
                               "--out", str(tmp_path / "r")])
    assert both.exit_code == 2 and "give --data or --store, not both" in both.output
    plain = runner.invoke(app, ["reports", "schedule", "--cron", "0 6 * * 1", "--store",
                                str(tmp_path), "--out", str(tmp_path / "r")])
    assert plain.exit_code == 2 and "is not a KPI store (no store.json)" in caplog.text
    assert "kpilib watch --store st --inbox inbox --once" in runner.invoke(
        app, ["reports", "run", "--help"], terminal_width=200).output
