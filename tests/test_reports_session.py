"""Segment tables stay readable when a dimension has hundreds of values (e.g. sellers)."""

from __future__ import annotations

import pandas as pd

from kpilib.reports.session import MAX_SEGMENTS, print_wide


def test_wide_table_keeps_the_worst_segments(capsys):
    n = MAX_SEGMENTS + 8
    head = pd.DataFrame({"node": [f"S{i:02d}" for i in range(n)] * 2,
                         "name": ["A"] * n + ["B"] * n, "display": ["1%"] * (2 * n),
                         "band": ["normal"] * (2 * n - 1) + ["critical"],
                         "value": [1.0] * (2 * n)})
    print_wide(head, "node")
    out = capsys.readouterr().out
    assert f"showing {MAX_SEGMENTS} of {n} node values" in out
    header = out.splitlines()[2].split()
    assert len(header) == MAX_SEGMENTS and f"S{n - 1:02d}" in header   # the critical one
