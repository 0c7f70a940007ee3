"""Calibrated late-shipment risk model, time-based evaluation and the action queue.

Split (no look-ahead): train on orders released before ``cutoff`` whose outcome was known
before ``cutoff`` (``known_at < cutoff``); test on orders released at or after ``cutoff`` whose
outcome is known by the end of the data. Model: ``Pipeline(ColumnTransformer(impute + scale
numeric, one-hot categorical), CalibratedClassifierCV(LogisticRegression | HistGradientBoosting,
method="sigmoid", cv=3))``. Baseline: each node's late rate over the training orders.

Quality (on the test period): ROC AUC, Brier score, and lift at the top decile = late rate
among the 10 % highest scores / overall late rate.

Reasons in the action queue (logistic model): per-row contribution of each input feature to the
log-odds, ``Σ_columns coef_c · (x_c − mean_c)`` over the transformed columns of that feature,
averaged over the calibration folds; the top three positive contributions are listed. For the
gradient-boosting model the queue lists the features with the highest permutation importance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from kpilib.risk.features import CATEGORICAL, NUMERIC, release_features, ship_outcomes
from kpilib.risk.reasons import phrase

SEED = 0


def labelled(ds: Any) -> pd.DataFrame:
    """Release features joined with outcomes (``late`` NaN when not known yet)."""
    feats = release_features(ds)
    outcomes = ship_outcomes(ds).drop(columns="deadline")  # the label covers every line
    return feats.merge(outcomes, on="order_id", how="left")


def time_split(frame: pd.DataFrame, cutoff: Any = None, train_share: float = 0.7
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Train: released < cutoff and known_at < cutoff. Test: released >= cutoff, known.

    ``cutoff`` defaults to the ``train_share`` quantile of release times of known outcomes.
    """
    known = frame[frame["late"].notna()]
    if cutoff is None:
        cutoff = known["release_at"].quantile(train_share)
    cutoff = pd.Timestamp(cutoff)
    if cutoff.tzinfo is None:
        cutoff = cutoff.tz_localize("UTC")
    train = known[(known["release_at"] < cutoff) & (known["known_at"] < cutoff)]
    test = known[known["release_at"] >= cutoff]
    return train.reset_index(drop=True), test.reset_index(drop=True), cutoff


def _pipeline(kind: str, categorical: list[str], numeric: list[str]) -> Pipeline:
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
    ])
    if kind == "logit":
        base = LogisticRegression(C=1.0, max_iter=2000)
    elif kind == "hgb":
        base = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1,
                                              max_leaf_nodes=15, random_state=SEED)
    else:
        raise ValueError(f"model kind {kind!r}: use 'logit' or 'hgb'")
    return Pipeline([("features", pre),
                     ("model", CalibratedClassifierCV(base, method="sigmoid", cv=3))])


@dataclass
class RiskModel:
    """A fitted pipeline, its node-rate baseline, and how it scored on the test period."""

    pipeline: Pipeline
    kind: str
    cutoff: pd.Timestamp
    node_rates: pd.Series
    overall_rate: float
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    importance: pd.Series | None = None
    centre: np.ndarray | None = None  # training mean of the transformed feature columns
    # the input columns; class defaults keep models pickled before these fields loadable
    categorical: tuple[str, ...] = tuple(CATEGORICAL)
    numeric: tuple[str, ...] = tuple(NUMERIC)
    population: str = "release"  # "release": one row per order at release; "open": snapshots
    threshold: float = float("nan")  # alert threshold chosen from the training scores

    @property
    def columns(self) -> list[str]:
        """The input columns, categorical first."""
        return [*self.categorical, *self.numeric]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of missing the ship-by deadline."""
        with threadpool_limits(limits=1):
            return self.pipeline.predict_proba(frame[self.columns])[:, 1]

    def baseline(self, frame: pd.DataFrame) -> np.ndarray:
        """Node historical late rate (training outcomes), overall rate for unseen nodes."""
        return frame["node"].map(self.node_rates).fillna(self.overall_rate).to_numpy(float)

    def report(self) -> str:
        """The quality table as text."""
        lines = [f"late-shipment risk model ({self.kind}), cutoff {self.cutoff:%Y-%m-%d %H:%M}"]
        lines.append(f"{'':10s}{'ROC AUC':>9s}{'Brier':>9s}{'lift@10%':>10s}")
        for name, m in self.metrics.items():
            if name in ("model", "baseline"):
                lines.append(f"{name:10s}{m['roc_auc']:9.3f}{m['brier']:9.4f}"
                             f"{m['lift_top_decile']:10.2f}")
        n = self.metrics.get("data", {})
        if n:
            lines.append(f"train {n['n_train']:.0f} orders (late {n['late_rate_train']:.1%}), "
                         f"test {n['n_test']:.0f} orders (late {n['late_rate_test']:.1%})")
        return "\n".join(lines)


def lift_at(y: np.ndarray, score: np.ndarray, share: float = 0.1) -> float:
    """Late rate among the top ``share`` of scores divided by the overall late rate."""
    y = np.asarray(y, float)
    k = max(1, int(np.ceil(share * len(y))))
    top = np.argsort(-np.asarray(score), kind="stable")[:k]
    return float(y[top].mean() / y.mean()) if y.mean() > 0 else float("nan")


def recall_threshold(order_id: pd.Series, late: pd.Series, score: np.ndarray,
                     target: float) -> float:
    """Highest threshold at which at least ``target`` of the late orders have a score at or
    above it in some row: the ``ceil(target · n)``-th largest of their maximum scores."""
    top = pd.Series(np.asarray(score, float), index=order_id.to_numpy())[
        late.to_numpy() == 1].groupby(level=0).max().sort_values(ascending=False)
    if top.empty:
        return float("nan")
    k = min(len(top), max(1, int(np.ceil(target * len(top) - 1e-9))))
    return float(top.iloc[k - 1])


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    auc = roc_auc_score(y, p) if len(np.unique(y)) == 2 else float("nan")
    return {"roc_auc": float(auc), "brier": float(brier_score_loss(y, p)),
            "lift_top_decile": lift_at(y, p)}


def fit(train: pd.DataFrame, kind: str = "logit", cutoff: Any = None,
        columns: tuple[list[str], list[str]] = (CATEGORICAL, NUMERIC),
        population: str = "release") -> RiskModel:
    """Fit the calibrated pipeline and the node-rate baseline on ``train``; ``columns`` =
    (categorical, numeric) input columns."""
    y = train["late"].astype(int).to_numpy()
    if len(np.unique(y)) < 2:
        raise ValueError("training data has a single outcome class; move the cutoff later")
    cat, num = list(columns[0]), list(columns[1])
    with threadpool_limits(limits=1):  # OpenMP threads oversubscribe small fits on busy hosts
        pipe = _pipeline(kind, cat, num).fit(train[cat + num], y)
    rates = train.groupby("node")["late"].mean()
    centre = pipe.named_steps["features"].transform(train[cat + num]).mean(axis=0)
    return RiskModel(pipe, kind, pd.Timestamp(cutoff) if cutoff is not None else pd.NaT,
                     rates, float(y.mean()), centre=centre, categorical=tuple(cat),
                     numeric=tuple(num), population=population)


def evaluate(model: RiskModel, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """Fill ``model.metrics`` (model vs baseline on ``test``) and permutation importance."""
    y = test["late"].astype(int).to_numpy()
    model.metrics = {
        "model": _scores(y, model.predict(test)),
        "baseline": _scores(y, model.baseline(test)),
        "data": {"n_train": float(len(train)), "n_test": float(len(test)),
                 "late_rate_train": float(train["late"].mean()),
                 "late_rate_test": float(y.mean()) if len(y) else float("nan")},
    }
    if len(np.unique(y)) == 2:
        X = test[model.columns]
        sample = X.sample(min(len(X), 2000), random_state=SEED)
        with threadpool_limits(limits=1):
            imp = permutation_importance(
                model.pipeline, sample, y[X.index.get_indexer(sample.index)],
                scoring="roc_auc", n_repeats=2, random_state=SEED)
        model.importance = pd.Series(imp.importances_mean, index=X.columns).sort_values(
            ascending=False)
    return model.metrics


def contributions(model: RiskModel, frame: pd.DataFrame) -> pd.DataFrame:
    """Per-row log-odds contribution of each input feature (logistic model only)."""
    pre = model.pipeline.named_steps["features"]
    Z = pre.transform(frame[model.columns])
    cal = model.pipeline.named_steps["model"]
    coef = np.mean([c.estimator.coef_[0] for c in cal.calibrated_classifiers_], axis=0)
    names = pre.get_feature_names_out()
    owner = []
    for n in names:
        kind, rest = n.split("__", 1)
        owner.append(rest if kind == "num" else next(c for c in model.categorical
                                                     if rest.startswith(c + "_")))
    parts = (Z - model.centre) * coef
    out = pd.DataFrame(parts, columns=names, index=frame.index)
    return out.T.groupby(np.array(owner)).sum().T


def reasons_logit(model: RiskModel, frame: pd.DataFrame, top: int = 3) -> list[str]:
    """Per row, the ``top`` inputs that raise its log-odds most, strongest first, in words
    (:func:`kpilib.risk.reasons.phrase`), joined by "; "."""
    contrib = contributions(model, frame)
    out = []
    for i, row in contrib.iterrows():
        best = row[row > 0].sort_values(ascending=False).head(top)
        out.append("; ".join(phrase(f, frame.at[i, f]) for f in best.index))
    return out


def action_queue(model: RiskModel, ds: Any, as_of: Any = None, top: int = 50) -> pd.DataFrame:
    """Open orders at ``as_of`` (released, not cancelled, outcome not known, deadline ahead),
    ranked by risk, with the reasons that weigh most."""
    as_of = pd.Timestamp(ds.data_as_of if as_of is None else as_of)
    known = ship_outcomes(ds).set_index("order_id")["known_at"]

    def open_(feats: pd.DataFrame) -> pd.Series:
        known_at = feats["order_id"].map(known)
        cancelled = feats["cancelled_at"].notna() & (feats["cancelled_at"] <= as_of)
        return (feats["release_at"] <= as_of) & ~cancelled & (feats["deadline"] > as_of) & ~(
            known_at.notna() & (known_at <= as_of))

    q = release_features(ds, select=open_)
    if q.empty:
        return q.assign(risk=pd.Series(dtype=float), reasons=pd.Series(dtype=object))
    q["risk"] = model.predict(q)
    q["hours_to_deadline"] = (q["deadline"] - as_of) / pd.Timedelta(hours=1)
    q = q.sort_values(["risk", "order_id"], ascending=[False, True], kind="stable").head(top)
    if model.kind == "logit":
        q["reasons"] = reasons_logit(model, q)
    else:
        names = list(model.importance.head(3).index) if model.importance is not None else []
        q["reasons"] = ["; ".join(phrase(f, r[f]) for f in names) for _, r in q.iterrows()]
    cols = ["order_id", "node", "channel", "release_at", "deadline", "hours_to_deadline",
            "risk", "reasons", *NUMERIC]
    return q[cols].reset_index(drop=True)


def run(ds: Any, *, cutoff: Any = None, as_of: Any = None, kind: str = "logit",
        top: int = 50, verbose: bool = True) -> tuple[RiskModel, pd.DataFrame]:
    """Label, split by time, fit, evaluate (printed), and build the action queue."""
    frame = labelled(ds)
    train, test, cut = time_split(frame, cutoff)
    model = fit(train, kind, cut)
    evaluate(model, train, test)
    if verbose:
        print(model.report())
    return model, action_queue(model, ds, as_of, top)

