"""The fast path of the contract (kpilib.contracts.fast) never hides a problem, and loads the
very frames the full pandas contract builds.

Soundness is checked on every break of the bad-input suites written as *typed* parquet (the
only files the fast path accepts): whenever the full contract reports a problem, the fast
path must give up (``load_clean`` is None), and ``validate`` must report exactly what the
full contract reports. When the full contract finds nothing, the fast path must load the
folder and give frames equal to the full contract's (``check_exact``).
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from builders import baseline_frames
from corpus_cases import DATA_CASES
from pandas.testing import assert_frame_equal
from test_bad_inputs_corpus import CORPUS_TABLES
from test_contract_bad_inputs import FRAME_CASES

import kpilib
from kpilib import contracts, schema
from kpilib.contracts import RULES, fast, fast_keys, fast_rules
from kpilib.contracts.coerce import coerce_table, finish_bools
from kpilib.contracts.io import read_table_file
from kpilib.synth import generate

# rules the DuckDB queries of fast_rules count (the others: file and name rules make the fast
# path give up before any query; the time and size rules run as the pandas functions)
QUERY_RULES = ("null_in_required", "not_in_enum", "negative_quantity", "duplicate_key",
               "foreign_key", "time_order", "shipped_exceeds_ordered",
               "cancelled_exceeds_ordered", "inconsistent_available", "implausible_value",
               "mixed_currency", "status_contradiction", "cancelled_without_timestamp",
               "shipment_without_lines")


def _keys(problems):
    return sorted((p.table or "", p.column or "", p.rule, p.n_rows) for p in problems)


def _full(folder: Path, monkeypatch) -> tuple[dict, list]:
    """Typed frames and problems of the full pandas contract (fast path switched off)."""
    with monkeypatch.context() as mp:
        mp.setattr(contracts, "load_clean", lambda path: None)
        return contracts.check_path(folder)


def _agree(folder: Path, monkeypatch, must_be_fast: bool = True) -> str:
    """Assert fast and full paths agree on ``folder``; return 'clean', 'judged' (the fast
    checks read the files and found the problem) or 'skipped' (files outside the fast path).
    ``must_be_fast=False``: a clean folder may still fall back (a partitioned parquet
    directory, a manifest), which costs time but never changes a result."""
    want_frames, want = _full(folder, monkeypatch)
    got = fast.load_clean(folder)
    if got is not None or not want:
        # where the fast path gives up, validate runs the very checks of _full: comparing
        # them again would only double the time
        assert _keys(kpilib.validate(folder)) == _keys(want)
    if not want:
        if got is None and not must_be_fast:
            return "fallback"
        assert got is not None, "a clean folder must take the fast path"
        assert list(got) == list(want_frames)
        for name, frame in want_frames.items():
            assert_frame_equal(got[name], frame, check_exact=True, obj=name)
        return "clean"
    assert got is None, _keys(want)
    return "judged" if fast._read(folder) is not None else "skipped"


def _typed_parquet(frames: dict[str, pd.DataFrame], folder: Path) -> bool:
    folder.mkdir()
    try:
        for name, frame in frames.items():
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    except Exception:  # noqa: BLE001 - a value parquet cannot hold: not a parquet case
        return False
    return True


@pytest.fixture(scope="module")
def typed():
    return kpilib.Dataset.from_frames(**baseline_frames()).tables


def test_fast_path_knows_every_rule_of_the_contract():
    # a rule added to the contract must be added to the fast path (or the list) knowingly
    assert set(RULES) == fast.COVERED_RULES


def test_every_frame_break_as_typed_parquet_is_reported_as_by_the_full_checks(
        typed, tmp_path, monkeypatch):
    judged = Counter()
    for case, mutate, expected in FRAME_CASES:
        frames = mutate({n: f.copy() for n, f in typed.items()})
        if not _typed_parquet(frames, tmp_path / case):
            continue
        if _agree(tmp_path / case, monkeypatch) == "judged":
            judged[expected[2]] += 1
    # the fast checks themselves (not a give-up on the files) caught a break of every rule
    # they count; the suite's time_order breaks become text columns here, so the ns_* edge
    # cases below judge that rule
    assert {r for r in QUERY_RULES if judged[r] == 0} == {"time_order"}


# breaks of what the fast path assumes about values, beyond the cases of the suite
def _set(table, column, value, row=0):
    def mutate(frames):
        frames[table].loc[row, column] = value
        return frames
    return mutate


EDGE_CASES = {
    "nan_is_null_in_required": _set("order_lines", "qty_ordered", np.nan),
    "date_with_time_of_day": _set("products", "launch_date", pd.Timestamp("2024-01-01 10:00")),
    "ns_time_order": _set("orders", "cancelled_at",
                          pd.Timestamp("2023-12-31T23:59:59.999999999Z")),
    "ns_before_created": _set("orders", "created_at",
                              pd.Timestamp("2024-01-01T00:00:00.000000001Z")),
    "text_is_empty_string": _set("orders", "currency", ""),
    "berlin_timestamps": lambda f: {**f, "orders": f["orders"].assign(
        created_at=f["orders"]["created_at"].dt.tz_convert("Europe/Berlin"))},
    "missing_optional_columns": lambda f: {**f, "orders": f["orders"].drop(
        columns=["cancel_reason", "shipping_amount_charged"])},
    "extra_user_columns": lambda f: {**f, "orders": f["orders"].assign(
        market=["DE", None], score=pd.array([1, None], dtype="Int64"))},
    "all_null_text_column": lambda f: {**f, "orders": f["orders"].assign(
        cancel_reason=pd.Series([None, None], dtype=object))},
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_case_agrees_with_the_full_checks(case, typed, tmp_path, monkeypatch):
    frames = EDGE_CASES[case]({n: f.copy() for n, f in typed.items()})
    assert _typed_parquet(frames, tmp_path / case)
    outcome = _agree(tmp_path / case, monkeypatch)
    if case.startswith("ns_"):
        assert outcome == "judged"


def test_every_corpus_break_as_typed_parquet_is_reported_as_by_the_full_checks(
        tmp_path, monkeypatch):
    base = tmp_path / "base"
    generate("omnichannel", seed=1, days=28, scale=0.05, out=base, fmt="csv")
    (base / "truth.json").unlink()
    for f in base.glob("*.csv"):
        if f.stem not in CORPUS_TABLES:
            f.unlink()
    outcomes = Counter()
    for case in DATA_CASES:
        folder = Path(shutil.copytree(base, tmp_path / case.id))
        case.mutate(folder)
        _to_typed_parquet(folder)
        outcomes[_agree(folder, monkeypatch, must_be_fast=False)] += 1
    assert outcomes["judged"] >= 10, outcomes


def _to_typed_parquet(folder: Path) -> None:
    """Each readable CSV of a table as the typed parquet the parser makes of it (a value that
    does not parse becomes null there); other files stay as they are."""
    for file in sorted(folder.glob("*.csv")):
        if file.stem not in schema.TABLES or file.is_symlink():
            continue
        raw, err = read_table_file(file, file.stem)
        if err is not None:
            continue
        frame = finish_bools(file.stem, coerce_table(file.stem, raw, None)[0])
        file.unlink()
        frame.to_parquet(folder / f"{file.stem}.parquet", index=False)


# --- parity of the loaded Dataset on generated data -------------------------------------------
@pytest.mark.parametrize("scenario", ["omnichannel", "beauty_stockouts", "apparel_surge"])
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_loaded_dataset_is_the_full_contracts(scenario, fmt, tmp_path, monkeypatch):
    folder = tmp_path / scenario
    generate(scenario, seed=3, days=28, scale=0.05, out=folder, fmt=fmt)
    assert (fast.load_clean(folder) is not None) == (fmt == "parquet")
    got = kpilib.load_dataset(folder)
    with monkeypatch.context() as mp:
        mp.setattr(contracts, "load_clean", lambda path: None)
        want = kpilib.load_dataset(folder)
    assert list(got.tables) == list(want.tables)
    for name, frame in want.tables.items():
        assert_frame_equal(got.tables[name], frame, check_exact=True, obj=name)
    assert got.fingerprint() == want.fingerprint()


def test_a_repeated_one_column_key_is_counted_by_the_key_query(typed, tmp_path):
    # a one-column key counts rows - distinct keys; here every event id appears twice
    events = pd.concat([typed["order_events"]] * 2, ignore_index=True)  # each event twice
    assert _typed_parquet({**typed, "order_events": events}, tmp_path / "dup")
    raw = fast._read(tmp_path / "dup")
    tables = {n: fast._as_nanoseconds(fast._schema_columns(n, t)) for n, t in raw.items()}
    key_query = fast_rules.column_queries("order_events")[-1]
    assert fast_rules.first_breach(tables) == key_query
    assert fast.load_clean(tmp_path / "dup") is None


def test_strictly_increasing_keys_need_no_key_query():
    rises = pa.table({"a": ["a", "b", "b", "c"], "b": ["9", "1", "2", "0"]})
    assert fast_rules.strictly_increasing(rises, ("a", "b"))  # ties on a broken by b
    assert not fast_rules.strictly_increasing(rises, ("a",))  # "b" twice
    assert not fast_rules.strictly_increasing(rises, ("b",))  # falls from "9" to "1"
    repeat = pa.table({"a": ["a", "b", "b"], "b": ["1", "2", "2"]})
    assert not fast_rules.strictly_increasing(repeat, ("a", "b"))  # rows 1 and 2 equal
    with_null = pa.table({"a": ["a", None, "c"]})
    assert not fast_rules.strictly_increasing(with_null, ("a",))
    split = pa.table({"a": pa.chunked_array([["a", "b"], ["c"]])})
    assert fast_rules.strictly_increasing(split, ("a",))
    key_query = fast_rules.column_queries("orders")[-1]
    assert key_query in fast_rules.queries({"orders", "order_lines"})
    assert key_query not in fast_rules.queries({"orders", "order_lines"}, frozenset({"orders"}))


def test_a_repeated_key_in_key_order_is_counted_by_the_key_query(typed, tmp_path):
    # rows sorted by the key but one of them twice: not strictly increasing, so the key
    # query runs and counts it
    lines = typed["shipment_lines"]
    lines = pd.concat([lines, lines.iloc[[0]]], ignore_index=True).sort_values(
        ["shipment_id", "order_line_id"], ignore_index=True)
    assert _typed_parquet({**typed, "shipment_lines": lines}, tmp_path / "dup")
    raw = fast._read(tmp_path / "dup")
    tables = {n: fast._as_nanoseconds(fast._schema_columns(n, t)) for n, t in raw.items()}
    assert fast_rules.first_breach(tables) == fast_rules.column_queries("shipment_lines")[-1]
    assert fast.load_clean(tmp_path / "dup") is None


def test_referencing_text_columns_hold_the_keys_own_strings(tmp_path):
    folder = tmp_path / "omni"
    generate("omnichannel", seed=3, days=14, scale=0.05, out=folder, fmt="parquet")
    frames = fast.load_clean(folder)
    orders = {id(v) for v in frames["orders"]["order_id"]}
    assert all(id(v) in orders for v in frames["order_lines"]["order_id"])
    assert frames["order_lines"]["order_id"].tolist() == pd.read_parquet(
        folder / "order_lines.parquet")["order_id"].tolist()


def test_a_column_is_linked_only_when_every_value_is_a_key():
    orders = pa.table({"order_id": ["O1", "O2", "O3"]})
    good = pa.table({"order_id": ["O3", None, "O1", "O3"]})
    bad = pa.table({"order_id": ["O1", "O9"]})
    links = fast_keys.link({"orders": orders, "order_lines": good})
    assert links[("order_lines", "order_id")].tolist() == [2, 3, 0, 2]  # 3: null
    assert fast_keys.link({"orders": orders, "order_lines": bad}) == {}
    fk = [q for q in fast_rules.queries({"orders", "order_lines"}) if "ANTI JOIN" in q]
    linked = frozenset({("order_lines", "order_id")})
    left = [q for q in fast_rules.queries({"orders", "order_lines"}, linked=linked)
            if "ANTI JOIN" in q]
    assert [q for q in fk if q not in left] == [
        'SELECT count(*) FROM v_order_lines a ANTI JOIN v_orders b ON a."order_id" = '
        'b."order_id" WHERE a."order_id" IS NOT NULL']


def test_positions_encode_the_key_once_for_all_its_columns():
    key = pa.chunked_array([["O1", "O2"], ["O3"]])
    found = pa.chunked_array([["O3"], [None, "O1"], []], type=pa.string())
    missing = pa.chunked_array([["O2", "O9", None]])
    nulls = pa.chunked_array([[None, None]], type=pa.string())
    at = fast_keys.positions(key, [found, missing, nulls, found])
    assert [None if a is None else a.tolist() for a in at] == [
        [2, 3, 0], None, [3, 3], [2, 3, 0]]  # 3 = len(key): a null
    # a key with a repeat or a null proves nothing (its key rule fails)
    assert fast_keys.positions(pa.chunked_array([["O1", "O1"]]), [found]) == [None]
    assert fast_keys.positions(pa.chunked_array([["O1", None]]), [found]) == [None]
    assert fast_keys.positions(pa.chunked_array([], type=pa.string()), [nulls])[0].tolist() \
        == [0, 0]


def test_each_key_is_linked_to_its_own_columns():
    typed = {"orders": pa.table({"order_id": ["O1", "O2"]}),
             "nodes": pa.table({"node_id": ["N1", "N2", "N3"]}),
             "shipments": pa.table({"shipment_id": ["S1", "S2"], "order_id": ["O2", "O1"],
                                    "node_id": ["N3", "N9"]}),
             "order_events": pa.table({"order_id": ["O1", None, "O1"],
                                       "node_id": ["N2", "N2", None]})}
    links = {k: v.tolist() for k, v in fast_keys.link(typed).items()}
    assert links == {("shipments", "order_id"): [1, 0],  # N9: shipments.node_id not linked
                     ("order_events", "order_id"): [0, 2, 0],
                     ("order_events", "node_id"): [1, 1, 3]}
