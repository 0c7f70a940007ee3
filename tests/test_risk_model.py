"""Risk model on small generated data: split, calibrated pipeline, metrics, action queue."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

from kpilib.risk import run, time_split
from kpilib.risk.model import labelled, lift_at


@pytest.fixture(scope="module")
def ds():
    from kpilib.synth import generate

    tables, _ = generate("omnichannel", seed=5, days=75, scale=0.15)
    as_of = max(f[c].max() for f in tables.values() for c in f.columns
                if isinstance(f[c].dtype, pd.DatetimeTZDtype))
    return SimpleNamespace(**tables, data_as_of=as_of)


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
    model, queue = run(ds, top=20)
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
    assert (queue["deadline"] > ds.data_as_of).all()
    assert (queue["release_at"] <= ds.data_as_of).all()
    assert 0 < len(queue) <= 20 and queue["reasons"].str.len().gt(0).all()
    assert model.importance is not None and model.importance.index[0] in queue.columns


def test_hgb_variant(ds):
    model, queue = run(ds, kind="hgb", top=5, verbose=False)
    assert model.metrics["model"]["roc_auc"] > 0.6
    assert len(queue) <= 5


def test_unknown_model_kind(ds):
    with pytest.raises(ValueError, match="logit"):
        run(ds, kind="svm", verbose=False)
