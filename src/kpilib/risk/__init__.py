"""Late-shipment risk: the probability that an order misses its ship-by deadline.

``release_features(ds)`` builds features from what is known at each order's release time;
``kpilib.risk.snapshots`` from what is known about each open order at an evaluation time
(the early-warning model of refreshes); ``ship_outcomes(ds)`` the labels and when each became
known; ``kpilib.risk.model`` trains a calibrated classifier with a time-based split and builds
the action queue of open released orders (``kpilib risk``).
"""

from kpilib.risk.features import CATEGORICAL, NUMERIC, release_features, ship_outcomes
from kpilib.risk.model import RiskModel, action_queue, evaluate, fit, run, time_split

__all__ = [
    "CATEGORICAL", "NUMERIC", "RiskModel", "action_queue", "evaluate", "fit",
    "release_features", "run", "ship_outcomes", "time_split",
]
