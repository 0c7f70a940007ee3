"""Report parameters are checked before any kernel starts, with every problem named at once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from builders import build_dataset

from kpilib.errors import ParameterError
from kpilib.reports.params import ReportParams, segment_values, validate_params
from kpilib.reports.runner import inside, safe_name
from kpilib.reports.suite import plan_jobs


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Orders from 2024-01-01 to 2024-01-10 (the data range) in channels web and app."""
    ds = build_dataset(orders=[
        {"order_id": "O1", "channel": "web", "created_at": "2024-01-01T00:00Z"},
        {"order_id": "O2", "channel": "app", "created_at": "2024-01-10T00:00Z"},
    ])
    out = tmp_path_factory.mktemp("params") / "ds"
    ds.to_parquet(out)
    return out


@pytest.fixture(scope="module")
def nb_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("nbs")
    for name in ("00_executive_summary", "01_order_workflow", "02_inventory_health",
                 "03_fulfillment_cost"):
        (d / f"{name}.ipynb").write_text("{}")
    return d


def params(data_dir, nb_dir, **kw) -> ReportParams:
    return ReportParams(data_path=str(data_dir), out_dir="unused", notebook_dir=str(nb_dir), **kw)


def test_valid_parameters_are_normalised(data_dir, nb_dir):
    p, ds = validate_params(params(data_dir, nb_dir, as_of="2024-01-05"))
    assert p.as_of == "2024-01-05T00:00:00+00:00"  # naive input means UTC
    assert Path(p.data_path).is_absolute()
    assert p.notebooks == ["00_executive_summary", "01_order_workflow", "02_inventory_health",
                           "03_fulfillment_cost"]
    assert p.jobs >= 1
    assert len(ds.orders) == 2


def test_as_of_defaults_to_the_data_as_of(data_dir, nb_dir):
    p, ds = validate_params(params(data_dir, nb_dir))
    assert pd.Timestamp(p.as_of) == ds.data_as_of


def test_missing_data_path(tmp_path, nb_dir):
    with pytest.raises(ParameterError, match="does not exist"):
        validate_params(params(tmp_path / "nope", nb_dir))


def test_data_that_breaks_the_contract_is_rejected(tmp_path, nb_dir):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "orders.csv").write_text("order_id\nO1\n")  # required columns and table missing
    with pytest.raises(ParameterError, match="data contract|could not be loaded"):
        validate_params(params(bad, nb_dir))


@pytest.mark.parametrize("as_of", ["2023-12-31", "2024-02-01T00:00Z"])
def test_as_of_outside_the_data(data_dir, nb_dir, as_of):
    with pytest.raises(ParameterError, match="outside the data"):
        validate_params(params(data_dir, nb_dir, as_of=as_of))


def test_as_of_that_is_not_a_date(data_dir, nb_dir):
    with pytest.raises(ParameterError, match="not a date"):
        validate_params(params(data_dir, nb_dir, as_of="yesterday-ish"))


def test_unknown_segment_and_fanout_dimension(data_dir, nb_dir):
    with pytest.raises(ParameterError) as err:
        validate_params(params(data_dir, nb_dir, segment_by="planet", per="galaxy"))
    msg = str(err.value)
    assert "segment_by='planet'" in msg and "per='galaxy'" in msg  # both named at once
    assert "channel" in msg  # the valid choices are listed


def test_unknown_role(data_dir, nb_dir):
    with pytest.raises(ParameterError, match="role='chief_vibes_officer' is unknown"):
        validate_params(params(data_dir, nb_dir, role="chief_vibes_officer"))


def test_known_role_passes(data_dir, nb_dir):
    p, _ = validate_params(params(data_dir, nb_dir, role="executive"))
    assert p.role == "executive"


def test_unknown_kpi_id(data_dir, nb_dir):
    with pytest.raises(ParameterError, match=r"unknown KPI id\(s\) \['perfect_vibes_rate'\]"):
        validate_params(params(data_dir, nb_dir, kpis=["perfect_vibes_rate"]))


def test_unknown_kpi_in_band_thresholds(tmp_path, data_dir, nb_dir):
    cfg = tmp_path / "bands.yaml"
    cfg.write_text("version: 1\nkpis:\n  perfect_vibes_rate:\n    chart: xmr\n")
    with pytest.raises(ParameterError, match="perfect_vibes_rate"):
        validate_params(params(data_dir, nb_dir, thresholds=str(cfg)))


def test_missing_threshold_file(tmp_path, data_dir, nb_dir):
    with pytest.raises(ParameterError, match="does not exist"):
        validate_params(params(data_dir, nb_dir, thresholds=str(tmp_path / "none.yaml")))


@pytest.mark.parametrize("targets, kernel_value", [
    ("benchmarks", "benchmarks"), ("none", None), (None, None)])
def test_targets_presets_reach_the_notebooks(data_dir, nb_dir, targets, kernel_value):
    p, _ = validate_params(params(data_dir, nb_dir, targets=targets))
    assert p.notebook_parameters()["targets"] == kernel_value


def test_targets_file_is_passed_by_absolute_path(tmp_path, data_dir, nb_dir, monkeypatch):
    (tmp_path / "goals.yaml").write_text("version: 1\ntargets:\n  otif_rate: {target: 0.95}\n")
    monkeypatch.chdir(tmp_path)  # a relative path: the kernels run in notebooks/, not here
    p, _ = validate_params(params(data_dir, nb_dir, targets="goals.yaml"))
    assert p.notebook_parameters()["targets"] == str(tmp_path / "goals.yaml")


@pytest.mark.parametrize("content, needle", [
    (None, "'benchmark' is neither a preset (benchmarks, none) nor an existing file; did you "
           "mean 'benchmarks'?"),
    ("targets: [0.9, 0.95]\n", "targets: must be a mapping of KPI id"),
    ("targets:\n  perfect_vibes_rate: {target: 0.9}\n",
     "targets.perfect_vibes_rate: unknown KPI id 'perfect_vibes_rate'"),
    ("targets:\n  otif_rate: {target: high}\n", "targets.otif_rate: not a number"),
    ("targets:\n  otif_rate: {goal: 0.9}\n", "use keys target, lower, upper, source"),
    ("target:\n  otif_rate: {target: 0.9}\n", "target: unknown key"),
    ("targets: {otif_rate: [\n", "not valid YAML"),
])
def test_bad_targets_are_named(tmp_path, data_dir, nb_dir, content, needle):
    target = "benchmark"
    if content is not None:
        target = str(tmp_path / "goals.yaml")
        Path(target).write_text(content)
    with pytest.raises(ParameterError) as err:
        validate_params(params(data_dir, nb_dir, targets=target))
    assert needle in str(err.value)


def test_filters_need_one_value_and_a_known_dimension(data_dir, nb_dir):
    with pytest.raises(ParameterError) as err:
        validate_params(params(data_dir, nb_dir, filters={"channel": ["web", "app"],
                                                          "mood": ["x"]}))
    assert "exactly one value" in str(err.value) and "'mood'" in str(err.value)


def test_start_after_end_and_bad_freq(data_dir, nb_dir):
    with pytest.raises(ParameterError) as err:
        validate_params(params(data_dir, nb_dir, start="2024-01-09", end="2024-01-02",
                               freq="fortnight"))
    assert "must be before end" in str(err.value) and "freq='fortnight'" in str(err.value)


def test_missing_notebook(data_dir, nb_dir):
    with pytest.raises(ParameterError, match=r"notebook\(s\) \['99_nope'\] not found"):
        validate_params(params(data_dir, nb_dir, notebooks=["99_nope"]))


def test_segment_values_for_fanout(data_dir):
    import kpilib

    ds = kpilib.load_dataset(str(data_dir))
    assert segment_values(ds, "channel") == ["app", "web"]
    assert segment_values(ds, "abc_class") == ["A", "B", "C"]


@pytest.mark.parametrize("value", ["../../etc/passwd", "..", "/abs/path", "a\\b", "web shop",
                                   "<script>alert(1)</script>", "", "."])
def test_safe_name_never_leaves_its_folder(tmp_path, value):
    name = safe_name(value)
    assert "/" not in name and "\\" not in name and name not in ("", ".", "..")
    assert not name.startswith(".")
    assert inside(tmp_path, tmp_path / name) == (tmp_path / name).resolve()


def test_safe_names_do_not_collide():
    # "a/b" and "a_b" would both become "a_b" without the hash suffix
    assert safe_name("a/b") != safe_name("a_b")
    assert safe_name("web") == "web"  # clean values stay readable


def test_inside_rejects_escaping_paths(tmp_path):
    with pytest.raises(ParameterError, match="escape"):
        inside(tmp_path / "run", tmp_path / "run" / ".." / "elsewhere")


def test_extra_dimension_is_a_segment_filter_and_fanout(tmp_path, nb_dir):
    # orders.market declared in dataset.json: --per market fans out over its two values
    import json

    build_dataset(orders=[
        {"order_id": "O1", "created_at": "2024-01-01T00:00Z", "market": "north"},
        {"order_id": "O2", "created_at": "2024-01-10T00:00Z", "market": "south"},
    ]).to_parquet(tmp_path)
    (tmp_path / "dataset.json").write_text(json.dumps({"dimensions": {"orders": ["market"]}}))
    norm, ds = validate_params(params(tmp_path, nb_dir, per="market", segment_by="market"))
    assert norm.per == "market" and segment_values(ds, "market") == ["north", "south"]
    validate_params(params(tmp_path, nb_dir, filters={"market": ["north"]}))
    with pytest.raises(ParameterError, match="market='nroth' matches no row of the data; "
                                             "did you mean 'north'"):
        validate_params(params(tmp_path, nb_dir, filters={"market": ["nroth"]}))
    jobs = plan_jobs(norm, ds, tmp_path / "build")
    assert {(j.segment, str(j.parameters["filters"])) for j in jobs} == {
        ("north", "{'market': ['north']}"), ("south", "{'market': ['south']}")}
    with pytest.raises(ParameterError, match="segment_by='region'"):
        validate_params(params(tmp_path, nb_dir, segment_by="region"))


def test_targets_help_teaches_the_three_forms():
    from typer.testing import CliRunner

    from kpilib.cli.main import app

    for cmd in ("run", "schedule"):
        text = " ".join(CliRunner().invoke(app, ["reports", cmd, "--help"],
                                           env={"COLUMNS": "400"}).output.split())
        for needle in ("benchmarks|none|PATH.yaml", "'benchmarks' = published industry figures",
                       "'none' = control limits only", "they never change a band",
                       "kpilib config init config", "config/targets.yaml in the working"):
            assert needle in text, (cmd, needle)


def test_cli_default_targets_are_the_working_directory_copy(tmp_path, monkeypatch):
    from kpilib.cli.reports import _params

    args = ("d", "o", None, None, None, None, None, "W", "channel", None, None, None, None,
            None, None, 10)
    monkeypatch.chdir(tmp_path)
    assert _params(*args).targets == "benchmarks"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "targets.yaml").write_text("targets: {}\n")
    assert _params(*args).targets == str(Path("config/targets.yaml").resolve())
    assert _params(*args, targets="none").targets == "none"
