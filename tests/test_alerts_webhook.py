"""Webhook delivery against a local HTTP server on 127.0.0.1 (ephemeral port, own thread)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from bands_helpers import BASELINE, CFG12, series

from kpilib.alerts import AlertStore, DeliveryError, from_bands, latest_per_series, post_json
from kpilib.bands import apply_bands

FAST = {"timeout": 0.5, "retries": 2, "backoff": 0.01, "max_backoff": 0.02}


class Server:
    """Answers POSTs with the next code of ``script`` (then 200); ``delay`` sleeps first."""

    def __init__(self, script=(), delay=0.0, port=0):
        self.script, self.delay, self.bodies, self.raw = list(script), delay, [], []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.raw.append(body.decode("utf-8"))
                outer.bodies.append(json.loads(body))
                if outer.delay:
                    time.sleep(outer.delay)
                code = outer.script.pop(0) if outer.script else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens -> connection refused


def free_port_url():
    return f"http://127.0.0.1:{free_port()}/hook"


def test_post_success():
    with Server() as srv:
        assert post_json(srv.url, {"a": 1}, **FAST) == 200
    assert srv.bodies == [{"a": 1}]


def test_500_then_success_is_retried():
    with Server(script=[500, 503]) as srv:
        assert post_json(srv.url, {"a": 1}, **FAST) == 200
    assert len(srv.bodies) == 3  # two failures, then delivered


def test_4xx_is_not_retried():
    with Server(script=[400]) as srv, pytest.raises(DeliveryError) as info:
        post_json(srv.url, {"a": 1}, **FAST)
    assert info.value.attempts == 1 and len(srv.bodies) == 1


def test_timeout_raises_after_retries():
    with Server(delay=0.3) as srv, pytest.raises(DeliveryError) as info:
        post_json(srv.url, {"a": 1}, timeout=0.05, retries=1, backoff=0.01)
    assert info.value.attempts == 2
    assert "timed out" in info.value.last_error


def test_connection_refused_raises():
    with pytest.raises(DeliveryError) as info:
        post_json(free_port_url(), {"a": 1}, **FAST)
    assert info.value.attempts == 3  # 1 + 2 retries


def _run(store, tail, run_id, url, **opts):
    b = apply_bands(series(BASELINE + tail, channel="web"), CFG12)
    alerts = from_bands(b, None, run_id, "2024-04-01T06:00Z")
    return store.update(alerts, latest_per_series(b), run_id, "2024-04-01T06:00Z",
                        webhook=url, webhook_options=opts or FAST)


def test_failed_delivery_kept_in_outbox_and_sent_next_run(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    store = AlertStore(tmp_path)
    s1 = _run(store, [0.85], "r1", url)
    assert s1.delivered == 0 and s1.pending_outbox == 1 and s1.errors
    # the outbox survives a restart
    store = AlertStore(tmp_path)
    assert store.outbox[0]["payload"]["alerts"][0]["event"] == "opened"
    assert store.outbox[0]["attempts"] == 3
    # next run, endpoint back up on the same port: the stored payload is delivered; the
    # breach is still open and not re-sent, so exactly one POST arrives
    with Server(port=port) as srv:
        s2 = _run(store, [0.85], "r2", url)
    assert s2.delivered == 1 and s2.pending_outbox == 0
    assert [b["run_id"] for b in srv.bodies] == ["r1"]
    assert srv.bodies[0]["alerts"][0]["kpi"] == "perfect_order_rate"
    assert AlertStore(tmp_path).outbox == []


def test_timeout_delivery_kept_in_outbox(tmp_path):
    store = AlertStore(tmp_path)
    with Server(delay=0.3) as srv:
        s = _run(store, [0.85], "r1", srv.url, timeout=0.05, retries=0, backoff=0.01)
    assert s.pending_outbox == 1 and "timed out" in store.outbox[0]["last_error"]


def test_payload_is_valid_json_without_nan(tmp_path):
    store = AlertStore(tmp_path)
    with Server() as srv:
        _run(store, [0.85], "r1", srv.url)
    assert "NaN" not in srv.raw[0]
    rec = srv.bodies[0]["alerts"][0]
    assert rec["band"] == "critical" and rec["period"].startswith("2024-03-25")
    assert pd.Timestamp(rec["as_of"]) == pd.Timestamp("2024-04-01T06:00Z")
