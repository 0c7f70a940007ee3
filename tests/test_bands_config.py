"""bands.yaml loading and validation: every error names the file and the key."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kpilib.bands import load_bands_config
from kpilib.bands.config import default_config_path
from kpilib.cli.main import app
from kpilib.errors import ConfigError
from kpilib.roles import default_roles_path


def write(tmp_path, text):
    p = tmp_path / "bands.yaml"
    p.write_text(text)
    return p


def test_shipped_config_loads():
    cfg = load_bands_config()
    assert cfg.settings_for("tracking_signal").fixed.high_critical == 4.0
    assert cfg.settings_for("order_cycle_time_hours").metric == "p90"
    assert cfg.settings_for("days_of_supply").direction == "target"


def test_config_init_writes_identical_editable_copies(tmp_path):
    out = CliRunner().invoke(app, ["config", "init", str(tmp_path / "cfg")])
    assert out.exit_code == 0, out.output
    copy = tmp_path / "cfg" / "bands.yaml"
    assert copy.read_text() == default_config_path().read_text()
    assert (tmp_path / "cfg" / "roles.yaml").read_text() == default_roles_path().read_text()
    assert load_bands_config(copy).settings_for("tracking_signal").fixed.high_critical == 4.0
    # a second init refuses to overwrite the edited copy, --force overwrites it
    copy.write_text("version: 1\n")
    again = CliRunner().invoke(app, ["config", "init", str(tmp_path / "cfg")])
    assert again.exit_code == 2 and "already exist" in again.output
    assert copy.read_text() == "version: 1\n"
    forced = CliRunner().invoke(app, ["config", "init", str(tmp_path / "cfg"), "--force"])
    assert forced.exit_code == 0 and copy.read_text() == default_config_path().read_text()


@pytest.mark.parametrize(("text", "key", "words"), [
    ("kpis:\n  perfect_ordr_rate: {chart: xmr}\n", "kpis.perfect_ordr_rate", "unknown KPI id"),
    ("families:\n  f:\n    kpis: [nope_rate]\n", "families.f.kpis", "unknown KPI id"),
    ("kpis:\n  perfect_order_rate:\n    fixed: {stressed_at: 0.9, critical_at: 0.95}\n",
     "kpis.perfect_order_rate.fixed.critical_at", "higher is better"),
    ("kpis:\n  order_cycle_time_hours:\n    fixed: {stressed_at: 72, critical_at: 48}\n",
     "kpis.order_cycle_time_hours.fixed.critical_at", "lower is better"),
    ("kpis:\n  days_of_supply:\n    fixed:\n      lower: {critical_at: 14, stressed_at: 7}\n",
     "kpis.days_of_supply.fixed.lower.stressed_at", "two-sided"),
    ("kpis:\n  days_of_supply:\n    fixed: {stressed_at: 7}\n",
     "kpis.days_of_supply.fixed", "lower/upper"),
    ("kpis:\n  perfect_order_rate: {chrat: xmr}\n", "kpis.perfect_order_rate.chrat",
     "unknown key"),
    ("treshold: 1\n", "treshold", "unknown key"),
    ("defaults: {chart: ewma}\n", "defaults.chart", "not one of"),
    ("defaults: {baseline_k: 5}\n", "defaults.baseline_k", ">= baseline_min"),
    ("defaults: {run_length: 1}\n", "defaults.run_length", "integer >= 2"),
    ("defaults: {bounds: [1, 0]}\n", "defaults.bounds", "low < high"),
    ("kpis:\n  perfect_order_rate:\n    fixed: {stressed_at: high}\n",
     "kpis.perfect_order_rate.fixed.stressed_at", "number"),
    ("families:\n  a: {kpis: [otif_rate]}\n  b: {kpis: [otif_rate]}\n", "families.b.kpis",
     "already in family"),
])
def test_invalid_config_names_file_and_key(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_bands_config(path)
    assert info.value.path == str(path)
    assert info.value.key == key
    assert words in str(info.value)
    assert str(path) in str(info.value)


def test_known_ids_argument_overrides_registry():
    with pytest.raises(ConfigError, match="unknown KPI id 'otif_rate'"):
        load_bands_config({"kpis": {"otif_rate": {}}}, known_ids=["perfect_order_rate"])
    load_bands_config({"kpis": {"otif_rate": {}}}, known_ids=["otif_rate"])


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_bands_config(write(tmp_path, "kpis: [\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_bands_config(tmp_path / "absent.yaml")


@pytest.mark.parametrize(("text", "key", "words"), [
    ("kpis:\n  stockout_rate:\n    segments: {abc_class: {chart: none}}\n",
     "kpis.stockout_rate.segments.abc_class", "dim=value"),
    ("kpis:\n  stockout_rate:\n    segments:\n      abc_class=A: {fixed: {stressed_at: 0.1, "
     "critical_at: 0.05}}\n", "kpis.stockout_rate.segments.abc_class=A.fixed.critical_at",
     "lower is better"),
    ("kpis:\n  stockout_rate:\n    segments:\n      abc_class=A: {direction: higher}\n",
     "kpis.stockout_rate.segments.abc_class=A.direction", "unknown key"),
    ("defaults: {mr_rule: sometimes}\n", "defaults.mr_rule", "not one of"),
])
def test_invalid_segment_settings(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_bands_config(path)
    assert info.value.key == key and words in str(info.value)
