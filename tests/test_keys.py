"""Integer surrogate keys (kpilib.keys): codes inside the engine, text ids outside."""

from __future__ import annotations

import pandas as pd
from builders import build_dataset, build_frames

import kpilib
from kpilib import keys
from kpilib.dataset import Dataset
from kpilib.engine import make_context


def _ds():
    # ids deliberately not in sorted row order, one kit component (parent_line_id) and one
    # line-level and one order-level event (order_line_id null)
    return build_dataset(
        orders=[{"order_id": "O2"}, {"order_id": "O10"}, {"order_id": "O1"}],
        order_lines=[{"order_line_id": "L9", "order_id": "O2"},
                     {"order_line_id": "L1", "order_id": "O10"},
                     {"order_line_id": "L5", "order_id": "O10", "parent_line_id": "L1"},
                     {"order_line_id": "L7", "order_id": "O1"}],
        order_events=[{"event_id": "E1", "order_id": "O10", "order_line_id": "L1"},
                      {"event_id": "E2", "order_id": "O2"}],
    )


def test_codes_are_ranks_of_sorted_ids_and_shared_across_tables():
    coded, k = keys.encode(_ds())
    # sorted text ids: O1 < O10 < O2 and L1 < L5 < L7 < L9
    assert k.ids["order"].to_pylist() == ["O1", "O10", "O2"]
    assert coded.orders["order_id"].tolist() == [2, 1, 0]
    assert coded.order_lines["order_line_id"].tolist() == [3, 0, 1, 2]
    assert coded.order_lines["order_id"].tolist() == [2, 1, 1, 0]
    # a column with nulls keeps them (float codes); equal ids get equal codes everywhere
    parent = coded.order_lines["parent_line_id"]
    assert parent.isna().tolist() == [True, True, False, True] and parent.iloc[2] == 0
    ev = coded.order_events
    assert ev["order_id"].tolist() == [1, 2]
    assert ev["order_line_id"].iloc[0] == 0 and pd.isna(ev["order_line_id"].iloc[1])
    # other ids and segment values stay text
    assert ev["event_id"].tolist() == ["E1", "E2"]
    assert coded.order_lines["sku"].tolist() == ["SKU1"] * 4


def test_decode_restores_text_and_nulls():
    ds = _ds()
    coded, k = keys.encode(ds)
    back = k.decode(coded.order_lines)
    for col in ("order_line_id", "order_id", "parent_line_id"):
        pd.testing.assert_series_equal(back[col].astype(object), ds.order_lines[col].astype(object),
                                       check_names=False)
    # derived names of fact tables decode too; unrelated columns are left alone
    f = pd.DataFrame({"top_line_id": [1, 3], "n": [3, 4]})
    assert k.decode(f).to_dict("list") == {"top_line_id": ["L5", "L9"], "n": [3, 4]}


def test_encode_leaves_the_callers_dataset_unchanged():
    ds = _ds()
    before = ds.fingerprint()
    keys.encode(ds)
    assert ds.fingerprint() == before
    assert ds.orders["order_id"].tolist() == ["O2", "O10", "O1"]


def test_ids_only_referenced_still_get_their_own_code():
    # an unvalidated dataset may reference an order that is not in orders: it must not be
    # merged with another order's code
    frames = build_frames(orders=[{"order_id": "O1"}],
                          order_lines=[{"order_line_id": "L1", "order_id": "O1"},
                                       {"order_line_id": "L2", "order_id": "O9"}])
    coded, k = keys.encode(Dataset(frames))
    codes = coded.order_lines["order_id"].to_numpy()
    assert codes[0] != codes[1]
    assert [k.ids["order"][int(c)].as_py() for c in codes] == ["O1", "O9"]


def test_context_works_on_codes_and_facts_come_back_as_text():
    ds = _ds()
    ctx = make_context(ds)
    assert pd.api.types.is_numeric_dtype(ctx.ds.orders["order_id"])
    f = kpilib.facts(ds, "order_flow_lines")
    assert set(f["order_id"]) == {"O1", "O2", "O10"}
    # the component L5 stands in for its kit line L1 (top_line_id), all as text
    assert "L1" not in set(f["order_line_id"])
    row = f.set_index("order_line_id").loc["L5"]
    assert row["top_line_id"] == "L1" and row["order_id"] == "O10"


def test_text_rank_is_dense_in_str_order_with_nulls_last():
    # "O10" < "O2" as text; equal values share a rank; the null ranks after every value
    ranks = keys.text_rank(pd.Series(["O2", "O10", None, "O2", "Ö1"]))
    assert ranks.tolist() == [2, 1, 4, 2, 3]
