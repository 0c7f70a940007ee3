"""Alert routing: banded KPI results -> alert records -> de-duplicated store -> webhook.

``from_bands(banded, roles_config, run_id, as_of)`` builds alert records (stressed/critical,
latest period per series); ``AlertStore(dir).update(...)`` de-duplicates them across runs,
closes recovered ones and writes per-run ``alerts.jsonl``/``alerts.csv``; ``post_json`` delivers
to a webhook with retries, and undelivered payloads wait in the store's outbox.
"""

from kpilib.alerts.records import ALERT_COLUMNS, from_bands, latest_per_series
from kpilib.alerts.store import AlertStore, RunSummary
from kpilib.alerts.webhook import DeliveryError, post_json

__all__ = [
    "ALERT_COLUMNS", "AlertStore", "DeliveryError", "RunSummary", "from_bands",
    "latest_per_series", "post_json",
]
