"""Unit tests of the pieces behind the bad-input corpus: names, sniffing, plausibility
settings, webhook redirects, report pre-flight checks, schedule checks and future as_of."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from builders import baseline_frames, build_dataset, write_csv
from kpi_results import compute_one, excluded

import kpilib
from kpilib.alerts.webhook import DeliveryError, post_json
from kpilib.contracts.files import read_limits
from kpilib.contracts.names import closest, duplicate_headers, table_hint, within_one_edit
from kpilib.contracts.plausibility import Limits, bulk_window, check_plausibility
from kpilib.contracts.sniff import csv_layout_error
from kpilib.errors import DataContractError, ParameterError
from kpilib.reports.checks import filter_problems, out_dir_problems
from kpilib.reports.params import segment_values
from kpilib.reports.schedule import check_cron, check_timezone


@pytest.mark.parametrize(("a", "b", "ok"), [
    ("canceled_at", "cancelled_at", True), ("cancelled_at", "cancelled_at", True),
    ("delivered_at", "delivred_at", True), ("shipped_at", "shipped_on", False),
    ("abc", "abcde", False), ("sku", "skus", True),
])
def test_within_one_edit(a, b, ok):
    assert within_one_edit(a, b) is ok


def test_closest_folds_case_and_spaces_and_needs_one_candidate():
    assert closest(" Delivered_At", ["delivered_at", "shipped_at"]) == "delivered_at"
    assert closest("canceled_at", ["cancelled_at"]) == "cancelled_at"
    assert closest("qty", ["qtx"]) is None  # names of 3 letters never match by one edit
    assert table_hint("Shipments.csv") == "shipments"
    assert table_hint("shipments.CSV.txt") == "shipments"
    assert table_hint("truth.json") is None and table_hint("dataset.json") is None


def test_duplicate_headers():
    assert duplicate_headers("order_id,channel,channel,x,x,x") == ["channel", "x"]
    assert duplicate_headers('a,"b,c",d') == []


@pytest.mark.parametrize(("head", "needle"), [
    (b"a\tb\tc\n1\t2\t3\n", "tab-separated"),
    (b"a;b;c\n1;2;3\n", "semicolon-separated"),
    (b"a|b|c\n", "pipe-separated"),
    (b"sep=,\na,b\n", "sep=,"),
    ("a,b\nCafé,1\n".encode("latin-1"), "Latin-1"),
])
def test_layout_errors_are_named(head, needle):
    assert needle in csv_layout_error(head)


def test_utf8_comma_csv_is_fine_even_when_the_head_cuts_a_character():
    text = "a,b\n" + "é" * 10
    assert csv_layout_error(text.encode()[:-1]) is None
    assert csv_layout_error("\ufeffa,b\n1,2\n".encode()) is None


def test_read_limits(tmp_path):
    assert read_limits(tmp_path) == (Limits(), [])
    (tmp_path / "dataset.json").write_text(json.dumps(
        {"extracted_at": "2024-03-31T23:00:00+01:00", "max_quantity": 5}))
    limits, problems = read_limits(tmp_path)
    assert problems == [] and limits.max_quantity == 5.0
    assert limits.extracted_at == pd.Timestamp("2024-03-31T22:00:00Z")
    for bad in ({"extracted_at": "2024-03-31 23:00"}, {"max_amount": -1}, [1], {"max_quantity":
                                                                              True}):
        (tmp_path / "dataset.json").write_text(json.dumps(bad))
        assert [p.rule for p in read_limits(tmp_path)[1]] == ["invalid_manifest"]


def test_bulk_window_is_the_iqr_widened_by_two_years_at_least():
    # times 2024-01-01 .. 2024-01-31 daily: q25 = Jan 8 12:00, q75 = Jan 23 12:00; 4 x IQR =
    # 60 days < 730 days, so the window is [q25 - 730 d, q75 + 730 d]
    created = pd.Series(pd.date_range("2024-01-01", "2024-01-31", freq="D", tz="UTC"))
    orders = pd.DataFrame({"created_at": created, "authorized_at": pd.NaT,
                           "earliest_ship_at": pd.NaT, "cancelled_at": pd.NaT})
    lo, hi = bulk_window({"orders": orders})
    assert lo == pd.Timestamp("2024-01-08T12:00Z") - pd.Timedelta(days=730)
    assert hi == pd.Timestamp("2024-01-23T12:00Z") + pd.Timedelta(days=730)


def test_future_event_uses_extract_time_and_tolerance():
    ds = kpilib.Dataset.from_frames(**baseline_frames())
    tables = ds.tables
    # latest observed time: returns.disposition_at 2024-01-09T00:00Z; tolerance 1 day, so an
    # extract at 2024-01-07T23:00Z flags it and one at 2024-01-08T00:00Z does not
    at = pd.Timestamp("2024-01-07T23:00Z")
    assert [p.rule for p in check_plausibility(tables, Limits(extracted_at=at))] == [
        "future_event"]
    assert check_plausibility(tables, Limits(extracted_at=at + pd.Timedelta(hours=1))) == []


def test_flagged_rows_never_reach_data_as_of():
    frames = baseline_frames()
    frames["shipments"].loc[0, "delivered_at"] = "2099-01-03T09:00Z"
    with pytest.raises(DataContractError) as info:
        kpilib.Dataset.from_frames(**frames)
    assert info.value.rule == "future_event"
    assert info.value.problems[0].rows.tolist() == [0]  # what adapters set aside


class _Redirector:
    def __init__(self, code: int) -> None:
        self.seen: list[tuple[str, str, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                outer.seen.append((self.command, self.path, self.rfile.read(n) if n else b""))
                self.send_response(code if self.path == "/old" else 200)
                if self.path == "/old":
                    self.send_header("Location", "/new")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _answer  # noqa: N815 - http.server API

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/old"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.mark.parametrize("code", [307, 308])
def test_307_308_repeat_the_post_with_its_body(code):
    srv = _Redirector(code)
    try:
        assert post_json(srv.url, {"a": 1}, retries=0) == 200
    finally:
        srv.httpd.shutdown()
    assert srv.seen == [("POST", "/old", b'{"a": 1}'), ("POST", "/new", b'{"a": 1}')]


@pytest.mark.parametrize("code", [301, 302, 303])
def test_301_302_303_fail_without_a_get(code):
    srv = _Redirector(code)
    try:
        with pytest.raises(DeliveryError) as info:
            post_json(srv.url, {"a": 1}, retries=2, backoff=0.01)
    finally:
        srv.httpd.shutdown()
    assert info.value.attempts == 1 and "/new" in info.value.last_error
    assert [m for m, _, _ in srv.seen] == ["POST"]


def test_out_dir_problems(tmp_path, monkeypatch):
    assert out_dir_problems(str(tmp_path / "new" / "reports")) == []
    (tmp_path / "f").write_text("x")
    assert "is a file" in out_dir_problems(str(tmp_path / "f" / "reports"))[0]
    (tmp_path / "r" / "latest").mkdir(parents=True)
    assert "real folder" in out_dir_problems(str(tmp_path / "r"))[0]
    monkeypatch.setattr("os.access", lambda path, mode: False)  # as on a read-only mount
    assert "not writable" in out_dir_problems(str(tmp_path / "x"))[0]


def test_filter_problems_suggest_the_closest_value():
    ds = kpilib.Dataset.from_frames(**baseline_frames())
    known = {"channel": segment_values(ds, "channel")}
    assert filter_problems({"channel": ["web"]}, known) == []
    [msg] = filter_problems({"channel": ["wbe"]}, known)
    assert "did you mean 'web'" in msg
    assert "did you mean 'web'" in filter_problems({"channel": ["WEB "]}, known)[0]
    assert filter_problems({"channel": ["web"]}, {"channel": []}) == [
        "filter channel: the data has no values for this dimension"]


def test_schedule_checks():
    assert check_timezone("Europe/Paris") is None
    assert "Mars/Olympus" in check_timezone("Mars/Olympus")
    assert check_cron("0 6 * * 1", "UTC") is None
    assert "never fires" in check_cron("0 0 30 2 *", "UTC")
    assert "invalid cron" in check_cron("0 6 * *", "UTC")


def test_future_as_of_refused_when_asked_and_noted_otherwise():
    ds = kpilib.Dataset.from_frames(**baseline_frames())
    with pytest.raises(ParameterError, match="after the data's end"):
        kpilib.compute(ds, ["perfect_order_rate"], as_of="2100-01-01",
                       allow_future_as_of=False)
    with pytest.raises(ParameterError, match="1900-2200"):
        kpilib.compute(ds, ["perfect_order_rate"], as_of="2300-01-01")
    res = kpilib.compute(ds, ["perfect_order_rate"], as_of="2024-02-01", allow_future_as_of=True)
    assert res["note"].str.contains("after the data's end").all()
    inside = kpilib.compute(ds, ["perfect_order_rate"], as_of=ds.data_as_of,
                            allow_future_as_of=False)
    assert not inside["note"].str.contains("after the data's end").any()


def test_docs_and_help_name_every_new_rule():
    from typer.testing import CliRunner

    from kpilib.cli.main import app

    new = ("near_miss_column", "near_miss_table", "timestamp_out_of_range", "future_event",
           "far_from_bulk", "above_ceiling", "negative_cost", "mixed_currency",
           "status_contradiction", "cancelled_without_timestamp", "shipment_without_lines")
    help_text = CliRunner().invoke(app, ["validate", "--help"], env={"COLUMNS": "400"}).output
    docs = (Path(__file__).resolve().parents[1] / "docs" / "byod.md").read_text()
    assert [r for r in new if r not in help_text.replace("\n", " ")] == []
    assert [r for r in new if r not in docs] == []
    assert set(new) <= set(kpilib.contracts.RULES)


def test_file_level_problem_says_what_is_wrong_not_zero_rows(tmp_path):
    write_csv(baseline_frames(), tmp_path)
    with (tmp_path / "nodes.csv").open("ab") as f:
        f.write("DC-9,dc,owned_dc,Café\n".encode("latin-1"))
    with pytest.raises(DataContractError) as info:
        kpilib.load_dataset(tmp_path)
    text = str(info.value)
    assert "nodes: rule 'unreadable_file': " in text and "Latin-1" in text, text
    assert "0 row(s)" not in text
    # a row-level problem still counts its rows
    frames = baseline_frames()
    frames["orders"].loc[0, "currency"] = None
    with pytest.raises(DataContractError, match=r"broken by 1 row\(s\)"):
        kpilib.Dataset.from_frames(**frames)


def _one_shipment(**ship):
    return build_dataset(
        orders=[{"order_id": "O1"}], order_lines=[{"order_line_id": "L1"}],
        shipments=[{"shipment_id": "S1", "shipped_at": "2024-01-02T00:00Z", **ship}],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"}])


def test_delivered_without_scan_is_counted_lost_with_a_scan_is_an_error():
    # delivered, delivered_at empty: a missing delivery scan, accepted; the delivery KPIs leave
    # the unit out and count it (n 0, excluded missing_delivery_scan 1)
    ds = _one_shipment(delivery_status="delivered")
    row = compute_one(ds, "on_time_delivery_rate", "2024-03-01T00:00Z", allow_future_as_of=True)
    assert row["n"] == 0 and excluded(row) == {"missing_delivery_scan": 1}
    # lost with a delivery scan cannot be true: status_contradiction on delivered_at
    with pytest.raises(DataContractError) as info:
        _one_shipment(delivery_status="lost", delivered_at="2024-01-03T00:00Z")
    p = info.value
    assert (p.table, p.column, p.rule, p.n_rows) == ("shipments", "delivered_at",
                                                     "status_contradiction", 1)
