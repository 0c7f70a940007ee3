"""roles.yaml: role KPI lists, alert owners, validation errors and role views."""

from __future__ import annotations

import pandas as pd
import pytest
from bands_helpers import BASELINE, CFG12, series

from kpilib.errors import ConfigError
from kpilib.reports.views import view
from kpilib.roles import (
    default_roles_path,
    kpis_for_role,
    load_roles_config,
    owner_of,
)

ROLES = ("operations", "supply_chain", "finance", "customer_service", "executive")


def test_shipped_roles_and_repo_copy():
    cfg = load_roles_config()
    assert tuple(cfg.roles) == ROLES
    assert default_roles_path().is_file()
    # the headline opens with what executives read first: order cycle time, perfect order
    assert kpis_for_role("executive")[:2] == ["order_cycle_time_hours", "perfect_order_rate"]
    assert cfg.label_of("supply_chain") == "Head of supply-chain planning"
    assert "tracking_signal" in kpis_for_role("supply_chain", default_roles_path())
    assert owner_of("cost_per_order") == "finance"
    assert owner_of("wave_backlog") == "operations"  # the default owner


def test_unknown_role_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        kpis_for_role("marketing")
    assert info.value.key == "roles.marketing"
    assert "defined roles: operations" in str(info.value)


@pytest.mark.parametrize(("text", "key", "words"), [
    ("roles:\n  ops: {kpis: [otiff_rate]}\n", "roles.ops.kpis", "unknown KPI id"),
    ("roles:\n  ops: {kpis: [otif_rate]}\nalert_owners: {default: cfo}\n",
     "alert_owners.default", "unknown role 'cfo'"),
    ("roles:\n  ops: {kpis: [otif_rate]}\nalert_owners:\n  kpis: {otif_rate: cfo}\n",
     "alert_owners.kpis.otif_rate", "unknown role 'cfo'"),
    ("roles:\n  ops: {kpis: [otif_rate], owner: x}\n", "roles.ops.owner", "unknown key"),
    ("roles:\n  ops: {kpis: [otif_rate, otif_rate]}\n", "roles.ops.kpis", "listed twice"),
    ("roles: {}\n", "roles", "no roles"),
    ("groups: {}\n", "groups", "unknown key"),
])
def test_invalid_roles_name_file_and_key(tmp_path, text, key, words):
    path = tmp_path / "roles.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_roles_config(path)
    assert (info.value.path, info.value.key) == (str(path), key)
    assert words in str(info.value)


def test_view_filters_kpis_and_open_alerts():
    res = pd.concat([
        series(BASELINE + [0.85], "perfect_order_rate"),       # customer_service, critical
        series(BASELINE + [0.15], "split_shipment_rate"),      # operations; 0.15 > UCL
        series(BASELINE + [0.91], "otif_rate"),                # customer_service, normal
    ], ignore_index=True)
    v = view(res, "customer_service", bands_config=CFG12)
    assert set(v.kpis["kpi"]) == {"perfect_order_rate", "otif_rate"}
    assert list(v.kpis["kpi"].unique()) == ["perfect_order_rate", "otif_rate"]  # role order
    assert {"band", "signals", "cl"} <= set(v.kpis.columns)
    assert list(v.alerts["kpi"]) == ["perfect_order_rate"]
    assert v.alerts["owner_role"].iloc[0] == "customer_service"
    # split_shipment_rate baseline 0.90/0.92 -> 0.15 is far below CL; lower is better: normal
    ops = view(res, "operations", bands_config=CFG12)
    assert ops.alerts.empty and list(ops.kpis["kpi"].unique()) == ["split_shipment_rate"]


def test_view_uses_given_open_alerts():
    alerts = pd.DataFrame({"kpi": ["otif_rate", "cost_per_order"], "state": ["open", "open"]})
    v = view(series(BASELINE, "otif_rate"), "customer_service", bands_config=CFG12,
             alerts=alerts)
    assert list(v.alerts["kpi"]) == ["otif_rate"]
