"""Risk factors in words: one phrase per feature of both risk models."""

from __future__ import annotations

import numpy as np
import pytest

from kpilib.risk import features, snapshots
from kpilib.risk.reasons import PHRASES, phrase


@pytest.mark.parametrize(("feature", "value", "text"), [
    ("alloc_failures", 3.0, "3 failed allocations"),
    ("node", "DC-1", "at node DC-1"),
    ("node", "unreleased", "not yet released to a node"),
    ("released", 0.0, "not released"),
    ("released", 1.0, "released"),
    ("hours_open", 0.294, "open 0.3 h"),
    ("hours_left", 23.0, "23 h left"),
    ("lines_done_share", 0.5, "50% of lines done"),
    ("net_late_rate_24h", 0.2, "20% of orders late in 24 h"),
    ("node_backlog", 17, "17 orders waiting at the node"),
    ("channel", "web", "channel web"),
    ("backorders", np.nan, "backorders unknown"),
    ("some_new_input", 2.5, "some_new_input=2.5"),
])
def test_phrase(feature, value, text):
    assert phrase(feature, value) == text


def test_every_model_input_has_a_phrase():
    inputs = {*features.CATEGORICAL, *features.NUMERIC, *snapshots.CATEGORICAL,
              *snapshots.NUMERIC}
    assert inputs - set(PHRASES) - {"node"} == set()


@pytest.mark.parametrize(("feature", "text"), [
    ("units", "1 unit"), ("backorders", "1 backorder"), ("alloc_failures", "1 failed allocation"),
    ("holds_open", "1 hold open"), ("node_backlog", "1 order waiting at the node"),
    ("lines_done_share", "100% of lines done"),
])
def test_a_count_of_one_is_singular(feature, text):
    assert phrase(feature, 1.0) == text
