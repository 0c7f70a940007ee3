"""Risk model on small generated data: split, calibrated pipeline, metrics, action queue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

import kpilib
from kpilib.risk import run, time_split
from kpilib.risk.model import labelled, lift_at


@pytest.fixture(scope="module")
def ds():
    from kpilib.synth import generate

    tables, _ = generate("omnichannel", seed=5, days=75, scale=0.15)
    # a real Dataset: data_as_of is the last observed event (the maximum of every timestamp,
    # deadlines and promises included, lies after every deadline: an empty queue)
    return kpilib.Dataset.from_frames(**tables)


def test_lift_at_by_hand():
    # 10 orders, 2 late; top decile = 1 order (the highest score) and it is late:
    # late rate in top 1.0 / overall 0.2 = 5.0
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    score = np.array([0.9, 0.1, 0.2, 0.3, 0.4, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert lift_at(y, score) == pytest.approx(5.0)


def test_time_split_no_look_ahead(ds):
    frame = labelled(ds)
    train, test, cut = time_split(frame)
    assert len(train) > 100 and len(test) > 50
    assert (train["release_at"] < cut).all() and (train["known_at"] < cut).all()
    assert (test["release_at"] >= cut).all()


def test_run_reports_metrics_and_queue(ds, capsys):
    # two hours before the data ends 16 released orders are still open (at the very end the
    # generated day has shipped all but 3, none of them open); the queue must hold them
    as_of = ds.data_as_of - pd.Timedelta(hours=2)
    model, queue = run(ds, as_of=as_of, top=20)
    printed = capsys.readouterr().out
    assert "ROC AUC" in printed and "baseline" in printed and "lift@10%" in printed
    assert isinstance(model.pipeline, Pipeline)
    assert isinstance(model.pipeline.named_steps["model"], CalibratedClassifierCV)
    m = model.metrics
    for name in ("model", "baseline"):
        assert 0.0 <= m[name]["brier"] <= 1.0 and 0.0 <= m[name]["roc_auc"] <= 1.0
    # the features carry signal on this data (slack to the deadline, node load)
    assert m["model"]["roc_auc"] > 0.6
    assert m["model"]["roc_auc"] > m["baseline"]["roc_auc"]
    # queue: open orders only, ranked, with reasons
    assert queue["risk"].is_monotonic_decreasing
    assert (queue["deadline"] > as_of).all()
    assert (queue["release_at"] <= as_of).all()
    assert len(queue) == 16 and queue["reasons"].str.len().gt(0).all()
    assert model.importance is not None and model.importance.index[0] in queue.columns


def test_hgb_variant(ds):
    model, queue = run(ds, kind="hgb", top=5, verbose=False)
    assert model.metrics["model"]["roc_auc"] > 0.6
    assert len(queue) <= 5


def test_unknown_model_kind(ds):
    with pytest.raises(ValueError, match="logit"):
        run(ds, kind="svm", verbose=False)


@pytest.mark.parametrize("hours_before_end", [2, 24 * 7])
def test_queue_from_open_orders_features_equals_queue_from_every_order(ds, monkeypatch,
                                                                       hours_before_end):
    # the queue computes release features for the open orders only; it must equal, value
    # for value, the queue cut from the features of every released order (the former path)
    from kpilib.risk import features as feats
    from kpilib.risk import model as risk_model

    as_of = ds.data_as_of - pd.Timedelta(hours=hours_before_end)
    model, _ = run(ds, verbose=False)
    new = risk_model.action_queue(model, ds, as_of, top=10**6)

    def every_order_then_cut(ds, select=None):
        full = feats.release_features(ds)
        return full[select(full).to_numpy()]

    monkeypatch.setattr(risk_model, "release_features", every_order_then_cut)
    old = risk_model.action_queue(model, ds, as_of, top=10**6)
    assert len(old) >= 3  # 16 open orders two hours before the end, 3 a week before
    pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_selected_release_features_are_the_rows_of_the_full_frame(ds):
    from kpilib.risk.features import release_features

    full = release_features(ds)
    def some(f):  # ids ending in 0, 3 or 6: about three in ten orders
        return f["order_id"].str[-1].isin(list("036"))

    part = release_features(ds, select=some)
    assert 0 < len(part) < len(full)
    pd.testing.assert_frame_equal(part, full[some(full)].reset_index(drop=True),
                                  check_exact=True)
    none = release_features(ds, select=lambda f: f["order_id"] == "")
    assert none.empty and list(none.columns) == list(full.columns)
