"""Segment tables stay readable when a dimension has hundreds of values (e.g. sellers)."""

from __future__ import annotations

import pandas as pd

from kpilib.reports.session import MAX_SEGMENTS, top_segments


def test_wide_table_keeps_the_worst_segments():
    n = MAX_SEGMENTS + 8
    head = pd.DataFrame({"node": [f"S{i:02d}" for i in range(n)] * 2,
                         "name": ["A"] * n + ["B"] * n, "display": ["1%"] * (2 * n),
                         "band": ["normal"] * (2 * n - 1) + ["critical"],
                         "value": [1.0] * (2 * n)})
    kept, intro = top_segments(head, "node")
    assert f"Showing {MAX_SEGMENTS} of {n} node values" in intro
    assert kept["node"].nunique() == MAX_SEGMENTS
    assert f"S{n - 1:02d}" in set(kept["node"])  # the critical one
    few, none = top_segments(head[head["node"] < "S05"], "node")
    assert none == "" and few["node"].nunique() == 5
