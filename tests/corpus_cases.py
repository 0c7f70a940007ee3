"""The malformed inputs of ``test_bad_inputs_corpus.py``: one mutation and one command each.

Data cases break a copy of a generated CSV dataset and run ``kpilib validate --json`` (or
``compute``); ``expect`` lists what the output must name (the rule, and for layout problems
the cause). Report and schedule cases run against a folder with a published run; alert cases
check the store themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from bands_helpers import BASELINE, series

from kpilib.bands.config import default_config_path
from kpilib.templates import write_template


# --- mutations of a dataset folder ---------------------------------------------------------
def _read(d: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)


def _write(d: Path, table: str, frame: pd.DataFrame) -> None:
    frame.to_csv(d / f"{table}.csv", index=False)


def set_cell(table: str, column: str, value: str, where: Callable | None = None, row: int = 0):
    def mutate(d: Path) -> None:
        f = _read(d, table)
        idx = f.index[where(f)][0] if where else f.index[row]
        f.loc[idx, column] = value
        _write(d, table, f)
    return mutate


def rename_column(table: str, old: str, new: str):
    def mutate(d: Path) -> None:
        _write(d, table, _read(d, table).rename(columns={old: new}))
    return mutate


def rename_file(old: str, new: str):
    return lambda d: (d / old).rename(d / new)


def edit_bytes(name: str, edit: Callable[[bytes], bytes]):
    return lambda d: (d / name).write_bytes(edit((d / name).read_bytes()))


def put(name: str, content: bytes):
    return lambda d: (d / name).write_bytes(content)


def chain(*mutations):
    def mutate(d: Path) -> None:
        for m in mutations:
            m(d)
    return mutate


def duplicate_channel(d: Path) -> None:
    lines = (d / "orders.csv").read_text().splitlines()
    head = lines[0].replace("channel,", "channel,channel,", 1)
    rows = [r.replace(",", ",BOGUS,", 1) for r in lines[1:]]
    (d / "orders.csv").write_text("\n".join([head, *rows]) + "\n")


def euro_orders(d: Path) -> None:
    f = _read(d, "orders")
    f.loc[f.index[: int(len(f) * 0.6)], "currency"] = "EUR"
    _write(d, "orders", f)


def uncancel_a_fully_cancelled_order(d: Path) -> None:
    lines = _read(d, "order_lines").astype({"qty_ordered": float, "qty_cancelled_customer": float,
                                            "qty_cancelled_merchant": float})
    full = (lines.qty_cancelled_customer + lines.qty_cancelled_merchant) == lines.qty_ordered
    every = full.groupby(lines.order_id).all()
    orders = _read(d, "orders")
    target = orders.index[orders.order_id.isin(every.index[every])][0]
    orders.loc[target, ["cancelled_at", "cancel_initiator", "cancel_reason"]] = ""
    _write(d, "orders", orders)


def fresh_template(d: Path) -> None:
    """The folder as `kpilib template` leaves it: header-only CSVs of every table."""
    for f in d.iterdir():
        f.unlink()
    write_template(d)


def drop_lines_of_a_shipment(d: Path) -> None:
    sl = _read(d, "shipment_lines")
    _write(d, "shipment_lines", sl[sl.shipment_id != sl.shipment_id.iloc[0]])


def as_parquet_dir(table: str, hive: bool, name: str):
    def mutate(d: Path) -> None:
        frame = _read(d, table).replace("", None)
        (d / f"{table}.csv").unlink()
        target = d / name
        if hive:
            pq.write_to_dataset(pa.Table.from_pandas(frame), target, partition_cols=["node_id"])
        else:
            target.mkdir()
            half = len(frame) // 2
            frame.iloc[:half].to_parquet(target / "part-00000.snappy.parquet", index=False)
            frame.iloc[half:].to_parquet(target / "part-00001.snappy.parquet", index=False)
            (target / "_SUCCESS").write_bytes(b"")
    return mutate


def parquet_year_3000(d: Path) -> None:
    frame = _read(d, "shipments")
    (d / "shipments.csv").unlink()
    table = pa.Table.from_pandas(frame.replace("", None))
    times = [dt.datetime(3000, 1, 1, tzinfo=dt.UTC)] + [None] * (len(frame) - 1)
    table = table.set_column(table.schema.get_field_index("first_delivery_attempt_at"),
                             "first_delivery_attempt_at",
                             pa.array(times, type=pa.timestamp("us", tz="UTC")))
    pq.write_table(table, d / "shipments.parquet")


def dangling_symlink(d: Path) -> None:
    (d / "shipments.csv").unlink()
    os.symlink(d / "exports" / "shipments.csv", d / "shipments.csv")


@dataclass
class DataCase:
    id: str
    mutate: Callable[[Path], None]
    expect: tuple[str, ...]
    code: int = 1
    command: tuple[str, ...] = ("validate", "--json")

    def args(self, d: Path) -> list[str]:
        cmd = list(self.command)
        return [cmd[0], str(d), *cmd[1:]]


def _status(value: str):
    return lambda f: f.delivery_status == value


def _delivered(f):
    return (f.delivery_status == "delivered") & (f.delivered_at != "")


DATA_CASES = [
    # silent wrong numbers -> named plausibility rules
    DataCase("shipment_2099", set_cell("shipments", "delivered_at", "2099-01-01T00:00:00Z",
                                       _delivered), ("future_event",)),
    DataCase("movement_2030", set_cell("inventory_movements", "moved_at",
                                       "2030-01-01T00:00:00Z"), ("future_event",)),
    DataCase("order_1900", set_cell("orders", "created_at", "1900-01-01T00:00:00Z"),
             ("far_from_bulk",)),
    DataCase("delivered_2262", set_cell("shipments", "delivered_at", "2262-04-11T23:47:16Z",
                                        _delivered), ("timestamp_out_of_range",)),
    DataCase("created_1677", set_cell("orders", "created_at", "1677-09-22T00:00:00Z"),
             ("timestamp_out_of_range",)),
    DataCase("parquet_tz_year_3000", parquet_year_3000, ("timestamp_out_of_range",)),
    DataCase("qty_1e308", chain(set_cell("orders", "merchandise_amount", ""),
                                set_cell("order_lines", "qty_ordered", "1e308")),
             ("above_ceiling",)),
    DataCase("negative_cost", set_cell("fulfillment_costs", "amount", "-100"),
             ("negative_cost",)),
    DataCase("eur_orders_usd_costs", euro_orders, ("mixed_currency",)),
    DataCase("lost_with_delivered_at", set_cell("shipments", "delivery_status", "lost",
                                                _delivered), ("status_contradiction",)),
    DataCase("in_transit_with_delivered_at", set_cell(
        "shipments", "delivered_at", "2024-01-20T10:00:00Z", _status("in_transit")),
        ("status_contradiction",)),
    DataCase("picked_without_picked_at", set_cell(
        "pick_tasks", "picked_at", "", lambda f: f.status == "picked"),
        ("status_contradiction",)),
    DataCase("fully_cancelled_no_cancelled_at", uncancel_a_fully_cancelled_order,
             ("cancelled_without_timestamp",)),
    DataCase("shipment_without_lines", drop_lines_of_a_shipment, ("shipment_without_lines",)),
    DataCase("manifest_extract_before_data", put("dataset.json",
                                                 b'{"extracted_at": "2024-01-10T00:00:00Z"}'),
             ("future_event", "dataset.json extracted_at")),
    DataCase("manifest_quantity_ceiling", put("dataset.json", b'{"max_quantity": 1}'),
             ("above_ceiling",)),
    DataCase("manifest_not_json", put("dataset.json", b"extracted_at: yesterday"),
             ("invalid_manifest",)),
    # near-miss names
    DataCase("Delivered_At", rename_column("shipments", "delivered_at", "Delivered_At"),
             ("near_miss_column", "did you mean")),
    DataCase("space_delivered_at", rename_column("shipments", "delivered_at", " delivered_at"),
             ("near_miss_column",)),
    DataCase("canceled_at", rename_column("orders", "cancelled_at", "canceled_at"),
             ("near_miss_column", "cancelled_at")),
    DataCase("required_column_one_edit", rename_column("orders", "currency", "curency"),
             ("missing_column", "did you mean")),
    DataCase("channel_twice", duplicate_channel, ("duplicate_column",)),
    DataCase("Shipments_csv", rename_file("shipments.csv", "Shipments.csv"),
             ("near_miss_table",)),
    DataCase("shipments_CSV_txt", rename_file("shipments.csv", "shipments.CSV.txt"),
             ("near_miss_table",)),
    DataCase("dangling_symlink", dangling_symlink, ("unreadable_file", "symbolic link")),
    DataCase("spark_parquet_dir_is_read", as_parquet_dir("shipments", False, "shipments.parquet"),
             ("shipments",), code=0, command=("validate",)),
    DataCase("hive_parquet_dir_is_read", as_parquet_dir("shipments", True, "shipments"),
             ("shipments",), code=0, command=("validate",)),
    # layout and encoding named
    DataCase("tab_separated", edit_bytes("nodes.csv", lambda b: b.replace(b",", b"\t")),
             ("unreadable_file", "tab-separated")),
    DataCase("excel_sep_line", edit_bytes("nodes.csv", lambda b: b"sep=,\n" + b),
             ("unreadable_file", "sep=")),
    DataCase("semicolon_separated", edit_bytes("nodes.csv", lambda b: b.replace(b",", b";")),
             ("unreadable_file", "semicolon-separated")),
    DataCase("latin1", edit_bytes("nodes.csv", lambda b: b + "DC-9,dc,owned_dc,Café\n"
                                  .encode("latin-1")), ("unreadable_file", "Latin-1")),
    DataCase("binary_junk", put("orders.csv", b"\x89PNG\r\n\x1a\n\x00\x00" * 50),
             ("unreadable_file",)),
    DataCase("empty_orders", put("orders.csv", b""), ("empty_file",)),
    DataCase("header_only_orders", edit_bytes("orders.csv", lambda b: b.split(b"\n")[0] + b"\n"),
             ("empty_table",)),
    DataCase("fresh_template", fresh_template,
             ('"table": "orders"', '"table": "order_lines"', "empty_table")),
    DataCase("header_only_optional_tables", chain(*(
        edit_bytes(f"{t}.csv", lambda b: b.split(b"\n")[0] + b"\n")
        for t in ("shipments", "shipment_lines", "fulfillment_costs"))), ("clean:",), code=0,
        command=("validate",)),
    DataCase("nodes_twice", lambda d: pd.read_csv(d / "nodes.csv").to_parquet(
        d / "nodes.parquet"), ("duplicate_table",)),
    DataCase("no_orders", lambda d: (d / "orders.csv").unlink(), ("missing_table",)),
    # markup in data is printed as written, never interpreted
    DataCase("markup_in_key", set_cell("order_lines", "order_id", "[bold]ID[/bold]"),
             ("foreign_key", "[bold]ID[/bold]"), command=("validate",)),
    DataCase("closing_tag_in_enum", set_cell("orders", "order_type", "[/x]"),
             ("not_in_enum", "[/x]"), command=("validate",)),
    DataCase("markup_in_compute_error", set_cell("orders", "order_type", "[/x]"),
             ("not_in_enum", "[/x]"), command=("compute", "--kpi", "perfect_order_rate")),
    DataCase("compute_on_engine_limit", set_cell("shipments", "delivered_at",
                                                 "2262-04-11T23:47:16Z", _delivered),
             ("timestamp_out_of_range",), command=("compute", "--kpi", "order")),
    DataCase("compute_as_of_2100", lambda d: None, ("after the data's end",),
             command=("compute", "--kpi", "open_order_age_hours", "--as-of", "2100-01-01")),
    DataCase("compute_out_unwritable", lambda d: None, ("cannot write",), code=2,
             command=("compute", "--kpi", "perfect_order_rate", "--out", "/proc/kpis.csv")),
    # the contract's older rules, for completeness of the corpus
    DataCase("text_in_numeric", set_cell("order_lines", "qty_ordered", "two"), ("wrong_type",)),
    DataCase("naive_timestamp", set_cell("orders", "created_at", "2024-01-02 10:00:00"),
             ("naive_timestamp",)),
    DataCase("unknown_enum", set_cell("shipments", "delivery_status", "Delivered"),
             ("not_in_enum",)),
    DataCase("duplicate_order_id", set_cell("orders", "order_id", "O0000000", row=1),
             ("duplicate_key",)),
]


# --- report runs ---------------------------------------------------------------------------
@dataclass
class ReportCase:
    id: str
    extra: tuple[str, ...]
    expect: tuple[str, ...]
    code: int = 2
    mutate_out: Callable[[Path], None] | None = None
    mutate_data: Callable[[Path], None] | None = None
    out: str | None = None  # path relative to the published folder's parent

    def mutate(self, d: Path, out: Path) -> None:
        if self.mutate_data:
            self.mutate_data(d)
        if self.mutate_out:
            self.mutate_out(out)

    def args(self, d: Path, out: Path) -> list[str]:
        """The command line; ``{tmp}`` in an argument is the published folder's parent."""
        target = out.parent / self.out if self.out else out
        extra = [a.replace("{tmp}", str(out.parent)) for a in self.extra]
        return ["reports", "run", "--data", str(d), "--out", str(target), *extra]


def _real_latest(out: Path) -> None:
    (out / "latest").unlink()
    (out / "latest").mkdir()


def _hold_lock(out: Path) -> None:
    from kpilib.reports.publish import RunLock

    HELD.append(RunLock(out).acquire())  # the test releases it after the run


HELD: list = []


REPORT_CASES = [
    ReportCase("filter_typo", ("--filter", "channel=wbe"), ("channel='wbe'", "did you mean 'web'")),
    ReportCase("per_typo", ("--per", "chanel"), ("per='chanel'",)),
    ReportCase("out_is_a_file", (), ("is a file",), out="a_file",
               mutate_out=lambda out: (out.parent / "a_file").write_text("x")),
    ReportCase("latest_is_a_real_folder", (), ("real folder",), mutate_out=_real_latest),
    ReportCase("quiet_still_prints_errors", ("--freq", "week", "--quiet"), ("freq='week'",)),
    ReportCase("second_concurrent_run", ("--quiet",), ("another report run",),
               mutate_out=_hold_lock),
    ReportCase("as_of_2100", ("--as-of", "2100-01-01"), ("outside the data",
                                                          "--allow-future-as-of")),
    ReportCase("broken_data", (), ("data contract", "future_event"),
               mutate_data=set_cell("shipments", "delivered_at", "2099-01-01T00:00:00Z",
                                    _delivered)),
    ReportCase("unknown_role", ("--role", "ceo_of_mars"), ("role='ceo_of_mars'",)),
    ReportCase("targets_preset_typo", ("--targets", "benchmark"),
               ("neither a preset", "did you mean 'benchmarks'")),
    ReportCase("targets_file_missing", ("--targets", "{tmp}/goals.yaml"),
               ("goals.yaml' is neither a preset",)),
    ReportCase("targets_unknown_kpi", ("--targets", "{tmp}/goals.yaml"),
               ("targets.otif_rat: unknown KPI id 'otif_rat'",),
               mutate_out=lambda out: (out.parent / "goals.yaml").write_text(
                   "targets:\n  otif_rat: {target: 0.95}\n")),
]


# --- schedules -----------------------------------------------------------------------------
@dataclass
class ScheduleCase:
    id: str
    extra: tuple[str, ...]
    expect: tuple[str, ...]
    data: str | None = None

    def args(self, d: Path, out: Path) -> list[str]:
        cron = [] if "--cron" in self.extra else ["--cron", "0 6 * * 1"]
        return ["reports", "schedule", *cron, "--data", self.data or str(d), "--out", str(out),
                *self.extra]


SCHEDULE_CASES = [
    ScheduleCase("mars_time_zone", ("--timezone", "Mars/Olympus"), ("Mars/Olympus",)),
    ScheduleCase("cron_never_fires", ("--cron", "0 0 30 2 *"), ("never fires",)),
    ScheduleCase("cron_garbage", ("--cron", "every monday"), ("invalid cron",)),
    ScheduleCase("per_typo", ("--per", "chanel"), ("per='chanel'",)),
    ScheduleCase("data_missing", (), ("does not exist",), data="data/nope"),
    ScheduleCase("role_unknown", ("--role", "nobody"), ("role='nobody'",)),
]


# --- alerts --------------------------------------------------------------------------------
class Hook:
    """127.0.0.1 server: ``/hook`` records POSTs; ``/moved`` answers 302, ``/temp`` 307."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                outer.received.append((self.command, self.path, body))
                redirect = {"/moved": 302, "/temp": 307, "/perm": 308}.get(self.path)
                self.send_response(redirect or 200)
                if redirect:
                    self.send_header("Location", "/hook")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = _answer  # noqa: N815 - http.server API

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def results(tmp: Path, name: str = "res.csv") -> Path:
    """A compute result with one critical series (web) after 24 normal weeks."""
    res = pd.concat([series(BASELINE * 2 + [0.85], channel="web"),
                     series(BASELINE * 2 + [0.91], channel="app")], ignore_index=True)
    path = tmp / name
    if name.endswith(".json"):
        res.to_json(path, orient="records", date_format="iso", indent=1)
    else:
        res.to_csv(path, index=False)
    return path


def _alerts_args(tmp: Path, res: Path, *extra: str) -> list[str]:
    cfg = tmp / "cfg"
    if not cfg.is_dir():
        cfg.mkdir()
        shutil.copy(default_config_path(), cfg / "bands.yaml")  # the packaged copy
    return ["alerts", "--results", str(res), "--store", str(tmp / "store"), "--config", str(cfg),
            "--as-of", "2024-06-01T06:00Z", "--retries", "0", "--timeout", "2", *extra]


def _state(tmp: Path) -> dict:
    return json.loads((tmp / "store" / "state.json").read_text())


@dataclass
class AlertCase:
    id: str
    check: Callable = field(repr=False)


def _redirect_302_keeps_outbox(tmp, invoke, clean):
    hook = Hook()
    try:
        code, text = invoke(_alerts_args(tmp, results(tmp), "--webhook", hook.base + "/moved"))
    finally:
        hook.close()
    clean(text)
    assert code == 3, text
    assert "delivered 0" in text and "302" in text
    assert len(_state(tmp)["outbox"]) == 1
    assert [m for m, p, _ in hook.received] == ["POST"]  # never re-sent as a body-less GET


def _redirect_307_is_followed_as_post(tmp, invoke, clean):
    hook = Hook()
    try:
        code, text = invoke(_alerts_args(tmp, results(tmp), "--webhook", hook.base + "/temp"))
    finally:
        hook.close()
    clean(text)
    assert code == 0 and "delivered 1" in text, text
    assert [(m, p) for m, p, _ in hook.received] == [("POST", "/temp"), ("POST", "/hook")]
    assert json.loads(hook.received[1][2])["alerts"][0]["event"] == "opened"
    assert _state(tmp)["outbox"] == []


def _same_as_of_twice_is_one_run(tmp, invoke, clean):
    args = _alerts_args(tmp, results(tmp))
    code1, _ = invoke(args)
    first = (tmp / "store" / "runs" / "20240601T060000Z" / "alerts.jsonl").read_text()
    state = _state(tmp)
    code2, text = invoke(args)
    clean(text)
    assert code1 == code2 == 0, text
    assert "already recorded" in text and "opened 1" in text
    assert (tmp / "store" / "runs" / "20240601T060000Z" / "alerts.jsonl").read_text() == first
    assert first.count("\n") == 1
    assert _state(tmp) == state and len(state["runs"]) == 1


def _outbox_goes_to_current_webhook(tmp, invoke, clean):
    code1, _ = invoke(_alerts_args(tmp, results(tmp), "--webhook", "http://127.0.0.1:9/old"))
    assert code1 == 3 and len(_state(tmp)["outbox"]) == 1
    hook = Hook()
    try:
        code2, text = invoke([*_alerts_args(tmp, results(tmp), "--webhook", hook.base + "/hook"),
                              "--run-id", "retry"])
    finally:
        hook.close()
    clean(text)
    assert code2 == 0 and "delivered 1" in text, text
    assert [p for _, p, _ in hook.received] == ["/hook"]
    assert _state(tmp)["outbox"] == []


def _json_results_accepted(tmp, invoke, clean):
    code, text = invoke(_alerts_args(tmp, results(tmp, "kpis.json")))
    clean(text)
    assert code == 0 and "opened 1" in text, text


def _refused(name: str, make_args: Callable[[Path], list[str]], needle: str):
    def check(tmp, invoke, clean):
        invoke(_alerts_args(tmp, results(tmp)))  # a store with one run and an open alert
        before = _state(tmp)
        code, text = invoke(make_args(tmp))
        clean(text)
        assert code == 2, text
        assert needle in text, text
        assert _state(tmp) == before
    return AlertCase(name, check)


ALERT_CASES = [
    AlertCase("redirect_302_keeps_outbox", _redirect_302_keeps_outbox),
    AlertCase("redirect_307_followed", _redirect_307_is_followed_as_post),
    AlertCase("same_as_of_twice", _same_as_of_twice_is_one_run),
    AlertCase("outbox_to_current_webhook", _outbox_goes_to_current_webhook),
    AlertCase("json_results", _json_results_accepted),
    _refused("results_not_a_table", lambda t: _alerts_args(
        t, (put("junk.json", b'{"a": 1}')(t), t / "junk.json")[1], "--run-id", "x"),
        "JSON list"),
    _refused("results_missing", lambda t: _alerts_args(t, t / "nope.parquet", "--run-id", "x"),
             "not found"),
    _refused("as_of_garbage", lambda t: [*_alerts_args(t, results(t)), "--as-of", "soon"],
             "not a timestamp"),
]
