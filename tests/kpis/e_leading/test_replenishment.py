"""E3 replenishment recommendation acceptance, on hand-built recommendations."""

from __future__ import annotations

import json

import pytest
from builders import build_dataset

import kpilib

AS_OF = "2024-03-01T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def _rec(rid, rec, decision=None, ordered=None, decided="2024-01-05T00:00Z",
         due="2024-01-06T00:00Z", superseded_by=None):
    return {"rec_id": rid, "node_id": "N1", "sku": "SKU1", "created_at": "2024-01-01T00:00Z",
            "decision_due_at": due, "qty_recommended": rec, "decision": decision,
            "decided_at": decided if decision else None, "qty_ordered": ordered,
            "superseded_by": superseded_by}


def test_replenishment_outcomes_and_rates():
    recs = [
        _rec("R1", 100, "accepted", 105),          # within 10% -> accepted_as_is
        _rec("R2", 100, "accepted", 130),          # 30% off -> modified (quantities rule)
        _rec("R3", 100, "modified", 91),           # within 10% -> accepted_as_is
        _rec("R4", 100, "rejected"),               # rejected
        _rec("R5", 100),                           # no decision, due passed -> expired
        _rec("R6", 100, "accepted", 100, decided="2024-01-07T00:00Z"),  # late -> expired
        _rec("R7", 0, "accepted", None),           # do-not-order honoured -> accepted_as_is
        _rec("R8", 100, "superseded", superseded_by="R9"),  # excluded
        _rec("R9", 100, due="2024-04-01T00:00Z"),  # pending: due after as_of
    ]
    ds = build_dataset(replenishment_recommendations=recs, nodes=[{"node_id": "N1"}],
                       orders=[{"order_id": "O1"}])
    res = kpilib.compute(ds, ["replenishment_acceptance_rate", "replenishment_accepted_any_rate"],
                         as_of=AS_OF, allow_future_as_of=True).set_index("kpi")
    # cohort R1-R7 = 7; accepted_as_is R1, R3, R7 = 3; any = 3 + modified R2 = 4
    assert res.loc["replenishment_acceptance_rate", "value"] == pytest.approx(3 / 7)
    assert res.loc["replenishment_accepted_any_rate", "value"] == pytest.approx(4 / 7)
    assert json.loads(res.loc["replenishment_acceptance_rate", "excluded"]) == {"superseded": 1}
    split = kpilib.compute(ds, ["replenishment_acceptance_rate"], by=["outcome"], as_of=AS_OF,
                           allow_future_as_of=True)
    assert split.set_index("outcome")["n"].to_dict() == {
        "accepted_as_is": 3, "expired": 2, "modified": 1, "rejected": 1}
