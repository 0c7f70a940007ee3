"""Webhook delivery: HTTP POST of JSON with a timeout and bounded exponential-backoff retries.

Attempt ``i`` (0-based) that fails with a connection error, a timeout, HTTP 429 or a 5xx is
retried after ``min(backoff * 2**i, max_backoff)`` seconds, up to ``retries`` retries; other
HTTP errors (4xx) are not retried. A delivery that still fails raises ``DeliveryError``; the
alert store keeps its payload in the outbox so it is sent on the next run (never lost).
Redirects: 307 and 308 keep the method and body, so the POST is repeated at the new
``Location`` (at most ``MAX_REDIRECTS`` hops); 301, 302 and 303 would turn the POST into a
body-less GET (what browsers and ``urllib`` do), so they are a failed delivery naming the new
address (not retried: point ``--webhook`` at it). Standard library only (``urllib``).
"""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger(__name__)
MAX_REDIRECTS = 5


class _PostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow 307/308 with the same method and body; refuse 301/302/303 for a POST."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913
        if code in (307, 308):
            return urllib.request.Request(newurl, data=req.data, headers=dict(req.header_items()),
                                          method=req.get_method())
        raise urllib.error.HTTPError(
            req.full_url, code, f"{msg}: redirected to {newurl}; a POST is not re-sent as GET, "
            "so the alerts stay in the outbox (point --webhook at the new URL)", headers, fp)


_PostRedirects.max_redirections = MAX_REDIRECTS
_OPENER = urllib.request.build_opener(_PostRedirects)


class DeliveryError(RuntimeError):
    """Raised when a webhook POST failed after all retries; ``attempts`` and ``last_error``."""

    def __init__(self, url: str, attempts: int, last_error: str) -> None:
        self.url = url
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(f"POST {url} failed after {attempts} attempt(s): {last_error}")


def _retryable(err: Exception) -> bool:
    if isinstance(err, urllib.error.HTTPError):
        return err.code == 429 or err.code >= 500
    return isinstance(err, urllib.error.URLError | TimeoutError | socket.timeout | OSError)


def post_json(
    url: str,
    payload: Any,
    *,
    timeout: float = 10.0,
    retries: int = 3,
    backoff: float = 0.5,
    max_backoff: float = 8.0,
    headers: dict[str, str] | None = None,
) -> int:
    """POST ``payload`` as JSON; return the HTTP status. Raises ``DeliveryError`` on failure."""
    body = json.dumps(payload, default=str).encode("utf-8")
    hdrs = {"Content-Type": "application/json", "User-Agent": "kpilib-alerts"}
    hdrs.update(headers or {})
    last = ""
    for attempt in range(retries + 1):
        req = urllib.request.Request(url, data=body, headers=hdrs, method="POST")
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                return int(resp.status)
        except Exception as err:  # noqa: BLE001 - classified below, never swallowed silently
            last = f"{type(err).__name__}: {err}"
            log.warning("webhook POST %s attempt %d failed: %s", url, attempt + 1, last)
            if not _retryable(err) or attempt == retries:
                raise DeliveryError(url, attempt + 1, last) from err
            time.sleep(min(backoff * 2**attempt, max_backoff))
    raise DeliveryError(url, retries + 1, last)  # pragma: no cover - loop always returns/raises
